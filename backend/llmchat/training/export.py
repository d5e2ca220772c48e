"""`llmchat export`: a finished run as files other tools serve.

- `--merge`: the LoRA folded into the base weights, a standalone HF folder (alpaca-lora's export_hf_checkpoint);
  a full fine-tune already is one.
- `--gguf Q8_0|Q4_0`: a llama-architecture GGUF written by the `gguf` package (models/gguf_writer.py: no llama.cpp
  script), beside an Ollama Modelfile (modelfile.py) for `ollama create NAME -f <run>-<type>.Modelfile`.
- `--openvino int8|int4`: the OpenVINO IR the worker's OpenVINO engine serves (models/openvino_export.py).

GGUF and OpenVINO files go to models/runs/<run>/exports/; both start from the merged HF folder, made first when
the run is an adapter.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llmchat.models.manifest import find_run, read_manifest
from llmchat.paths import models_dir

GGUF_TYPES = ("Q8_0", "Q4_0")
OPENVINO_FORMATS = ("int8", "int4")
EXPORTS = "exports"


@dataclass(frozen=True)
class ExportRequest:
    merge: bool = False
    gguf: tuple[str, ...] = ()
    openvino: tuple[str, ...] = ()
    out: Path | None = None  # the merged HF folder (default: <run>/merged)

    def check(self) -> None:
        if not (self.merge or self.gguf or self.openvino):
            raise ValueError("choose --merge (standalone HF folder), --gguf TYPE and/or --openvino FORMAT")
        for name in self.gguf:
            if name not in GGUF_TYPES:
                raise ValueError(f"--gguf: {name!r} is not one of {', '.join(GGUF_TYPES)}")
        for name in self.openvino:
            if name not in OPENVINO_FORMATS:
                raise ValueError(f"--openvino: {name!r} is not one of {', '.join(OPENVINO_FORMATS)}")


def load_run_model(run_dir: Path, dtype: Any = None) -> tuple[Any, Any]:
    """(model, tokenizer) of a finished run: the base with the adapter on it (lora, dpo, kto) or the saved model
    (full)."""
    import torch

    from llmchat.models.loading import load_pretrained, resolve_base_path

    manifest = read_manifest(run_dir)
    weights = run_dir / manifest["path"]
    if manifest["kind"] != "lora":  # adapter runs (lora, dpo, kto) are kind lora
        return load_pretrained(weights, dtype=dtype or torch.float32)
    from peft import PeftModel

    base, _ = load_pretrained(resolve_base_path(manifest["base_model"]), dtype=dtype or torch.float32)
    tokenizer = _tokenizer_of(weights, manifest["base_model"])
    return PeftModel.from_pretrained(base, str(weights)).eval(), tokenizer


def _tokenizer_of(weights: Path, base_model: str) -> Any:
    """finetune saves the tokenizer next to the adapter; fall back to the base model's."""
    from transformers import AutoTokenizer

    if (weights / "tokenizer_config.json").is_file():
        return AutoTokenizer.from_pretrained(str(weights))
    from llmchat.models.loading import load_tokenizer, resolve_base_path

    return load_tokenizer(resolve_base_path(base_model))


def standalone_message(run_dir: Path, manifest: dict) -> str:
    return f"run {manifest['id']!r} is a full fine-tune: {run_dir / manifest['path']} is already standalone"


def merge_run(run_dir: Path, out: Path) -> Path:
    """Fold the LoRA deltas into the base weights and save an HF folder (model + tokenizer) that needs no peft."""
    manifest = read_manifest(run_dir)
    if manifest["kind"] != "lora":
        raise ValueError(standalone_message(run_dir, manifest))
    model, tokenizer = load_run_model(run_dir)
    merged = model.merge_and_unload()
    out.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return out


def _hf_folder(run_dir: Path, manifest: dict, out: Path | None, written: list[Path]) -> Path:
    """The run as a standalone HF folder: the full fine-tune's own, or the merge (made now unless it is there)."""
    if manifest["kind"] != "lora":
        return run_dir / manifest["path"]
    folder = out or run_dir / "merged"
    if not (folder / "config.json").is_file():
        written.append(merge_run(run_dir, folder))
    return folder


def write_gguf(hf_folder: Path, run_id: str, gguf_type: str, exports: Path) -> list[Path]:
    """`<run>-<type>.gguf` and its Ollama Modelfile in `exports`."""
    from llmchat.models.gguf_writer import write_llama_gguf
    from llmchat.models.modelfile import ollama_modelfile
    from llmchat.prompts import load_alpaca_template

    config = json.loads((hf_folder / "config.json").read_text(encoding="utf-8"))
    if config.get("model_type") != "llama":
        raise ValueError(
            f"--gguf writes llama-architecture models only; {run_id} is {config.get('model_type')!r} "
            f"(use --openvino, or llama.cpp's convert_hf_to_gguf.py on {hf_folder})"
        )
    stem = f"{run_id}-{gguf_type.lower()}"
    gguf_path = exports / f"{stem}.gguf"
    partial = exports / f".{stem}.gguf.partial"  # listed only once whole
    write_llama_gguf(hf_folder, partial, quant=gguf_type).replace(gguf_path)
    modelfile = exports / f"{stem}.Modelfile"
    modelfile.write_text(ollama_modelfile(gguf_path.name, load_alpaca_template()), encoding="utf-8")
    return [gguf_path, modelfile]


def export_run(run: str, request: ExportRequest) -> list[Path]:
    """Everything `request` asks for, in the order merge, GGUF, OpenVINO; returns the paths written."""
    from llmchat.models.openvino_export import export as openvino_export

    request.check()
    run_dir = find_run(run, models_dir())
    manifest = read_manifest(run_dir)
    if request.merge and manifest["kind"] != "lora":
        raise ValueError(standalone_message(run_dir, manifest))
    written: list[Path] = []
    hf_folder = _hf_folder(run_dir, manifest, request.out, written)
    if request.merge and not written and manifest["kind"] == "lora":
        written.append(hf_folder)  # merged before: say where it is
    exports = run_dir / EXPORTS
    for gguf_type in request.gguf:
        written += write_gguf(hf_folder, manifest["id"], gguf_type, exports)
    for weight_format in request.openvino:
        out = exports / f"{manifest['id']}.openvino-{weight_format}"
        written.append(openvino_export(hf_folder, None, out, weight_format))
    return written


def list_exports(run_dir: Path) -> list[dict[str, Any]]:
    """What `export_run` left in the run folder: the merged folder and each file or folder under exports/."""
    found = []
    merged = run_dir / "merged"
    candidates = [merged] if (merged / "config.json").is_file() else []
    if (run_dir / EXPORTS).is_dir():
        candidates += sorted(p for p in (run_dir / EXPORTS).iterdir() if not p.name.startswith("."))
    for path in candidates:
        files = [path] if path.is_file() else [f for f in path.rglob("*") if f.is_file()]
        found.append(
            {
                "name": path.relative_to(run_dir).as_posix(),
                "kind": _kind(path),
                "bytes": sum(f.stat().st_size for f in files),
            }
        )
    return found


def _kind(path: Path) -> str:
    if path.suffix == ".gguf":
        return "gguf"
    if path.suffix == ".Modelfile":
        return "modelfile"
    if ".openvino-" in path.name:
        return "openvino"
    return "hf"
