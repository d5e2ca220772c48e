"""`llmchat export`: merge a LoRA run into a standalone HF checkpoint (alpaca-lora's export_hf_checkpoint),
and optionally convert it to GGUF with llama.cpp's converter when one is installed (nothing is downloaded)."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from llmchat.models.manifest import find_run, read_manifest
from llmchat.paths import models_dir

GGUF_CONVERTER = "convert_hf_to_gguf.py"


def load_run_model(run_dir: Path, dtype: Any = None) -> tuple[Any, Any]:
    """(model, tokenizer) of a finished run: the base with the adapter on it (lora, dpo) or the saved model (full)."""
    import torch

    from llmchat.models.loading import load_pretrained, resolve_base_path

    manifest = read_manifest(run_dir)
    weights = run_dir / manifest["path"]
    if manifest["kind"] != "lora":  # lora and dpo runs are adapters
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


def merge_run(run_dir: Path, out: Path) -> Path:
    """Fold the LoRA deltas into the base weights and save an HF folder (model + tokenizer) that needs no peft."""
    manifest = read_manifest(run_dir)
    if manifest["kind"] != "lora":  # lora and dpo runs are adapters
        raise ValueError(
            f"run {manifest['id']!r} is a full fine-tune: {run_dir / manifest['path']} is already standalone"
        )
    model, tokenizer = load_run_model(run_dir)
    merged = model.merge_and_unload()
    out.mkdir(parents=True, exist_ok=True)
    merged.save_pretrained(str(out))
    tokenizer.save_pretrained(str(out))
    return out


def find_gguf_converter() -> list[str] | None:
    """llama.cpp's convert_hf_to_gguf.py on PATH or in the current folder; None when it is not available offline."""
    found = shutil.which(GGUF_CONVERTER)
    for candidate in (found, Path.cwd() / GGUF_CONVERTER, Path.cwd() / "llama.cpp" / GGUF_CONVERTER):
        if candidate and Path(candidate).is_file():
            return [sys.executable, str(candidate)]
    return None


def convert_to_gguf(hf_folder: Path, out_file: Path) -> Path:
    converter = find_gguf_converter()
    if converter is None:
        # the `gguf` package installed here only reads/writes the container; the HF->GGUF tensor mapping lives in
        # llama.cpp's script, which is not on PyPI. Say so instead of writing a half-working file.
        raise ValueError(
            f"--gguf needs llama.cpp's {GGUF_CONVERTER} (not installed; it is not on PyPI). Get llama.cpp, then run "
            f"`python llama.cpp/{GGUF_CONVERTER} {hf_folder} --outfile {out_file}` or put the script on PATH and re-run."
        )
    subprocess.run([*converter, str(hf_folder), "--outfile", str(out_file)], check=True, timeout=3600)
    return out_file


def export_run(run: str, out: Path | None = None, gguf: bool = False) -> list[Path]:
    run_dir = find_run(run, models_dir())
    manifest = read_manifest(run_dir)
    if gguf and find_gguf_converter() is None:
        convert_to_gguf(run_dir, run_dir.with_suffix(".gguf"))  # raises the how-to message before any work
    hf_folder = out or run_dir / "merged"
    written = []
    if manifest["kind"] == "lora":
        written.append(merge_run(run_dir, hf_folder))
    else:
        hf_folder = run_dir / manifest["path"]
    if gguf:
        if importlib.util.find_spec("gguf") is None:
            raise ValueError("--gguf needs the gguf package")
        written.append(convert_to_gguf(hf_folder, hf_folder.with_suffix(".gguf")))
    return written
