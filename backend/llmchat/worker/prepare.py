"""`llmchat models prepare`: convert a packaged GGUF once into an HF safetensors folder, so later loads take seconds."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from tqdm import tqdm

from llmchat.worker.sources import package_gguf, prepared_folder

STEPS = ("tokenizer", "dequantise weights", "save safetensors", "save tokenizer", "move into place")


def convert_gguf(gguf: Path, out: Path) -> Path:
    """Dequantise `gguf` with transformers and save it (float32 safetensors + tokenizer) into `out`."""
    import torch
    from transformers import AutoModelForCausalLM, AutoTokenizer

    out.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))  # same disk: the final move is a rename
    try:
        with tqdm(total=len(STEPS), desc=f"prepare {out.name}", unit="step") as progress:
            progress.set_postfix_str(STEPS[0])
            tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
            progress.update()
            progress.set_postfix_str(STEPS[1])
            model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32)
            progress.update()
            progress.set_postfix_str(STEPS[2])
            # save_pretrained refuses a model that still says it is GGUF-quantised; the weights are plain tensors now
            if getattr(model, "hf_quantizer", None) is not None:
                model.hf_quantizer.remove_quantization_config(model)
            model.save_pretrained(staging)
            progress.update()
            progress.set_postfix_str(STEPS[3])
            # the GGUF tokenizer reports a context of ~1e30; the model config knows the real one
            tokenizer.model_max_length = model.config.max_position_embeddings
            tokenizer.save_pretrained(staging)
            progress.update()
            progress.set_postfix_str(STEPS[4])
            staging.chmod(0o755)  # mkdtemp made it private; the prepared model is for every user of the project
            for file in staging.iterdir():
                file.chmod(0o644)
            if out.exists():
                shutil.rmtree(out)
            staging.rename(out)
            progress.update()
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)
    return out


def prepare_packaged(package: str, out: Path | None = None, force: bool = False, models_dir: Path | None = None) -> Path:
    """The prepared folder for a packaged model (made now unless it is there already)."""
    target = out or prepared_folder(package, models_dir)
    if (target / "config.json").is_file() and not force:
        print(f"already prepared: {target} (use --force to convert again)")
        return target
    return convert_gguf(package_gguf(package), target)
