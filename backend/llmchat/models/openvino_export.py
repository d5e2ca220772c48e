"""Exports a model once to OpenVINO IR with int8 weights (optimum-intel + nncf) and reuses the export afterwards.

The export sits beside what it was made from (`<folder>.openvino-int8/`), or under `models/.cache/openvino/` when
that place cannot be written (a GGUF inside site-packages) or belongs to the Hugging Face cache (an `hf:` model). A LoRA adapter is merged into its base with peft first
and exported as a model of its own: OpenVINO's continuous-batching pipeline cannot mix adapters in one step, and a
merged model decodes at full speed where a runtime adapter halves it (README, "Engines"). A stamp file records what
the export was made from; when the source changes, the next use exports again.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path
from typing import Any

from tqdm import tqdm

from llmchat.models.staging import staged_folder

log = logging.getLogger("llmchat.models")
WEIGHT_FORMAT = "int8"  # int8 asymmetric per-channel: as fast as int4 for small models, and answers intact
SUFFIX = f".openvino-{WEIGHT_FORMAT}"
STAMP = "llmchat_export.json"
MODEL_XML = "openvino_model.xml"
# the files whose change means the export is stale
WEIGHT_FILES = (
    "*.safetensors",
    "*.bin",
    "*.gguf",
    "config.json",
    "adapter_config.json",
    "tokenizer.json",
    "tokenizer_config.json",
    "chat_template.jinja",
)
STEPS = ("load weights", "merge adapter", "export to OpenVINO int8", "convert tokenizer", "move into place")


def export_location(source: Path, adapter: Path | None, cache_dir: Path) -> Path:
    """Where the export of `source` (+ `adapter`, merged) lives."""
    origin = adapter or source
    beside = origin.parent / f"{origin.stem if origin.suffix == '.gguf' else origin.name}{SUFFIX}"
    # never write into a package, nor into the Hugging Face cache (its tools manage every folder in it)
    if os.access(origin.parent, os.W_OK) and "site-packages" not in origin.parts and not _in_hf_cache(origin):
        return beside
    digest = hashlib.sha256(f"{source.resolve()}|{adapter.resolve() if adapter else ''}".encode()).hexdigest()[:16]
    return cache_dir / "openvino" / f"{origin.name}-{digest}{SUFFIX}"


def _in_hf_cache(path: Path) -> bool:
    from huggingface_hub import constants

    return path.absolute().is_relative_to(Path(constants.HF_HUB_CACHE).absolute())


def fingerprint(source: Path, adapter: Path | None) -> dict[str, Any]:
    """What the export depends on: the input files (name, size, mtime) and the converter versions."""

    def files(path: Path) -> list[list[Any]]:
        if path.is_file():
            return [[path.name, path.stat().st_size, path.stat().st_mtime_ns]]
        found = sorted({file for pattern in WEIGHT_FILES for file in path.glob(pattern)})
        return [[file.name, file.stat().st_size, file.stat().st_mtime_ns] for file in found]

    return {
        "source": str(source.resolve()),
        "source_files": files(source),
        "adapter": str(adapter.resolve()) if adapter else None,
        "adapter_files": files(adapter) if adapter else [],
        "weight_format": WEIGHT_FORMAT,
        "versions": {name: _version(name) for name in ("openvino", "optimum-intel", "transformers", "peft")},
    }


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def is_current(folder: Path, source: Path, adapter: Path | None) -> bool:
    try:
        stamp = json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (folder / MODEL_XML).is_file() and stamp == fingerprint(source, adapter)


def ensure_export(source: Path, adapter: Path | None, cache_dir: Path) -> Path:
    """The folder of a current export of `source` (+ `adapter`), exporting now if there is none (minutes for a
    large model, seconds for a small one). Safe when several processes ask at once: one exports, the others wait."""
    folder = export_location(source, adapter, cache_dir)
    if is_current(folder, source, adapter):
        return folder
    with _exclusive(folder.with_name(f".{folder.name}.lock")):
        if not is_current(folder, source, adapter):  # another process may have finished it while we waited
            log.info(
                "exporting %s%s to OpenVINO %s in %s", source, f" + {adapter}" if adapter else "", WEIGHT_FORMAT, folder
            )
            export(source, adapter, folder)
    return folder


@contextlib.contextmanager
def _exclusive(lock_path: Path) -> Iterator[None]:
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def export(source: Path, adapter: Path | None, out: Path) -> Path:
    """Write the int8 OpenVINO IR, the HF tokenizer (the worker encodes with it) and OpenVINO's tokenizer and
    detokenizer (the pipeline needs them) into `out`, replacing it whole."""
    from llmchat.models.loading import load_pretrained

    with tqdm(total=len(STEPS), desc=f"export {out.name}", unit="step") as progress:
        with staged_folder(out) as staging, tempfile.TemporaryDirectory(dir=out.parent) as scratch:
            progress.set_postfix_str(STEPS[0])
            hf_folder = source
            needs_copy = adapter is not None or source.suffix == ".gguf"
            model, tokenizer = load_pretrained(source) if needs_copy else (None, None)
            progress.update()
            progress.set_postfix_str(STEPS[1])
            if needs_copy:  # optimum exports from an HF folder: a GGUF or a merged LoRA is written as one first
                if adapter is not None:
                    model = _merged(model, adapter)
                hf_folder = Path(scratch) / "hf"
                model.save_pretrained(hf_folder)
                tokenizer.save_pretrained(hf_folder)
                del model
            progress.update()
            progress.set_postfix_str(STEPS[2])
            _export_ir(hf_folder, staging)
            progress.update()
            progress.set_postfix_str(STEPS[3])
            _export_tokenizers(hf_folder, staging)
            (staging / STAMP).write_text(json.dumps(fingerprint(source, adapter), indent=2), encoding="utf-8")
            progress.update()
            progress.set_postfix_str(STEPS[4])
        progress.update()
    return out


def _merged(model: Any, adapter: Path) -> Any:
    """peft's own merge: W + (lora_alpha / r) B A, exactly the scale PEFT applies at run time."""
    from peft import PeftModel

    return PeftModel.from_pretrained(model, str(adapter), is_trainable=False).merge_and_unload()


def _export_ir(hf_folder: Path, out: Path) -> None:
    from optimum.intel import OVModelForCausalLM, OVWeightQuantizationConfig

    model = OVModelForCausalLM.from_pretrained(
        str(hf_folder),
        export=True,
        compile=False,
        local_files_only=True,
        quantization_config=OVWeightQuantizationConfig(bits=8, sym=False),
    )
    model.save_pretrained(out)


def _export_tokenizers(hf_folder: Path, out: Path) -> None:
    import openvino as ov
    from openvino_tokenizers import convert_tokenizer

    from llmchat.models.loading import load_tokenizer

    tokenizer = load_tokenizer(hf_folder)
    encoder, decoder = convert_tokenizer(tokenizer, with_detokenizer=True)
    ov.save_model(encoder, str(out / "openvino_tokenizer.xml"))
    ov.save_model(decoder, str(out / "openvino_detokenizer.xml"))
    tokenizer.save_pretrained(out)
