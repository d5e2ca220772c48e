"""Exports a model once to OpenVINO IR with int8, int4 or fp16 weights (optimum-intel + nncf; weight_formats.py)
and reuses the export afterwards.

The export sits beside what it was made from (`<folder>.openvino-int8/`, `.openvino-int4/`, ...), or under
`models/.cache/openvino/` when that place cannot be written (a GGUF inside site-packages) or belongs to the Hugging
Face cache (an `hf:` model). The weights are loaded in bf16 for the export (never a float32 copy of the whole
model). A LoRA adapter is merged into its base with peft first
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
from llmchat.models.weight_formats import parameter_count, quantization_config, resolve_weight_format

log = logging.getLogger("llmchat.models")
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
STEPS = ("convert a GGUF", "merge adapter", "export to OpenVINO", "convert tokenizer", "move into place")


def suffix(weight_format: str) -> str:
    return f".openvino-{weight_format}"


def export_location(
    source: Path, adapter: Path | None, cache_dir: Path, name_suffix: str, cache_subdir: str = "openvino"
) -> Path:
    """Where what is made from `source` (+ `adapter`, merged) lives: `<name><name_suffix>` beside it, or in the
    cache (`cache_dir/cache_subdir/`) when its folder cannot be written."""
    origin = adapter or source
    beside = origin.parent / f"{origin.stem if origin.suffix == '.gguf' else origin.name}{name_suffix}"
    # never write into a package, nor into the Hugging Face cache (its tools manage every folder in it)
    if os.access(origin.parent, os.W_OK) and "site-packages" not in origin.parts and not _in_hf_cache(origin):
        return beside
    digest = hashlib.sha256(f"{source.resolve()}|{adapter.resolve() if adapter else ''}".encode()).hexdigest()[:16]
    return cache_dir / cache_subdir / f"{origin.name}-{digest}{name_suffix}"


def _in_hf_cache(path: Path) -> bool:
    from huggingface_hub import constants

    return path.absolute().is_relative_to(Path(constants.HF_HUB_CACHE).absolute())


def source_parameters(source: Path) -> int:
    """Parameters of an HF folder (from config.json) or a GGUF (from its tensor table); no weights are read."""
    if source.suffix == ".gguf":
        from llmchat.models.gguf_file import read_gguf_info

        return read_gguf_info(source).parameters
    return parameter_count(json.loads((source / "config.json").read_text(encoding="utf-8")))


def export_format(source: Path, wanted: str) -> str:
    """The weight format an export of `source` gets: `wanted`, or by size for `auto`."""
    return resolve_weight_format(wanted, source_parameters(source) if wanted == "auto" else 0)


def source_files(path: Path) -> list[list[Any]]:
    """[name, size, mtime] of a weight file, or of the files of a folder whose change means a conversion is stale."""
    if path.is_file():
        return [[path.name, path.stat().st_size, path.stat().st_mtime_ns]]
    found = sorted({file for pattern in WEIGHT_FILES for file in path.glob(pattern)})
    return [[file.name, file.stat().st_size, file.stat().st_mtime_ns] for file in found]


def fingerprint(source: Path, adapter: Path | None, weight_format: str) -> dict[str, Any]:
    """What the export depends on: the input files (name, size, mtime) and the converter versions."""
    return {
        "source": str(source.resolve()),
        "source_files": source_files(source),
        "adapter": str(adapter.resolve()) if adapter else None,
        "adapter_files": source_files(adapter) if adapter else [],
        "weight_format": weight_format,
        "versions": {name: _version(name) for name in ("openvino", "optimum-intel", "transformers", "peft")},
    }


def _version(package: str) -> str | None:
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return None


def is_current(folder: Path, source: Path, adapter: Path | None, weight_format: str) -> bool:
    try:
        stamp = json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (folder / MODEL_XML).is_file() and stamp == fingerprint(source, adapter, weight_format)


def ensure_export(source: Path, adapter: Path | None, cache_dir: Path, weight_format: str = "auto") -> Path:
    """The folder of a current export of `source` (+ `adapter`) in `weight_format` (auto: by size), exporting now
    if there is none (minutes for a large model, seconds for a small one). Safe when several processes ask at once:
    one exports, the others wait."""
    weight_format = export_format(source, weight_format)
    folder = export_location(source, adapter, cache_dir, suffix(weight_format))
    if is_current(folder, source, adapter, weight_format):
        return folder
    with exclusive(folder.with_name(f".{folder.name}.lock")):
        if not is_current(folder, source, adapter, weight_format):  # another process may have made it meanwhile
            log.info(
                "exporting %s%s to OpenVINO %s in %s", source, f" + {adapter}" if adapter else "", weight_format, folder
            )
            export(source, adapter, folder, weight_format)
    return folder


@contextlib.contextmanager
def exclusive(lock_path: Path) -> Iterator[None]:
    """A file lock: one process makes a conversion, the others wait for it."""
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def export(source: Path, adapter: Path | None, out: Path, weight_format: str) -> Path:
    """Write the OpenVINO IR in `weight_format`, the HF tokenizer (the worker encodes with it) and OpenVINO's
    tokenizer and detokenizer (the pipeline needs them) into `out`, replacing it whole. optimum exports from an HF
    folder: a GGUF is written as one first, tensor by tensor (gguf_to_hf.py), and a LoRA is merged into a bf16 copy."""
    with tqdm(total=len(STEPS), desc=f"export {out.name}", unit="step") as progress:
        with staged_folder(out) as staging, tempfile.TemporaryDirectory(dir=out.parent) as scratch:
            progress.set_postfix_str(STEPS[0])
            hf_folder = _hf_folder_of(source, Path(scratch) / "hf") if source.suffix == ".gguf" else source
            progress.update()
            progress.set_postfix_str(STEPS[1])
            if adapter is not None:
                hf_folder = _merged(hf_folder, adapter, Path(scratch) / "merged")
            progress.update()
            progress.set_postfix_str(STEPS[2])
            _export_ir(hf_folder, staging, weight_format)
            progress.update()
            progress.set_postfix_str(STEPS[3])
            _export_tokenizers(hf_folder, staging)
            (staging / STAMP).write_text(
                json.dumps(fingerprint(source, adapter, weight_format), indent=2), encoding="utf-8"
            )
            progress.update()
            progress.set_postfix_str(STEPS[4])
        progress.update()
    return out


def _hf_folder_of(gguf: Path, out: Path) -> Path:
    from llmchat.models.gguf_file import read_gguf_info
    from llmchat.models.gguf_to_hf import write_hf_folder

    refusal = read_gguf_info(gguf).openvino_refusal()
    if refusal and not read_gguf_info(gguf).openvino_builds:
        log.warning("converting %s: OpenVINO GenAI cannot read %s directly; exporting it from bf16", gguf, refusal)
    return write_hf_folder(gguf, out)


def _merged(hf_folder: Path, adapter: Path, out: Path) -> Path:
    """peft's own merge (W + (lora_alpha / r) B A, exactly the scale PEFT applies at run time) on a bf16 copy."""
    import torch
    from peft import PeftModel

    from llmchat.models.loading import load_pretrained

    model, tokenizer = load_pretrained(hf_folder, torch.bfloat16)
    PeftModel.from_pretrained(model, str(adapter), is_trainable=False).merge_and_unload().save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out


def _export_ir(hf_folder: Path, out: Path, weight_format: str) -> None:
    import torch
    from optimum.intel import OVModelForCausalLM

    config = json.loads((hf_folder / "config.json").read_text(encoding="utf-8"))
    compression = quantization_config(weight_format, config["hidden_size"])
    model = OVModelForCausalLM.from_pretrained(
        str(hf_folder),
        export=True,
        compile=False,
        local_files_only=True,
        torch_dtype=torch.bfloat16,  # a float32 checkpoint is read at half its size; nncf compresses from bf16
        load_in_8bit=False if compression is None else None,
        quantization_config=compression,
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
