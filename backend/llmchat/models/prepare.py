"""`llmchat models prepare`: convert a packaged GGUF once into an HF safetensors folder, so later loads take seconds."""

from __future__ import annotations

from pathlib import Path

from tqdm import tqdm

from llmchat.models.loading import load_pretrained
from llmchat.models.sources import package_gguf, prepared_folder
from llmchat.models.staging import staged_folder

STEPS = ("dequantise the GGUF", "save safetensors", "save tokenizer", "move into place")


def convert_gguf(gguf: Path, out: Path) -> Path:
    """Dequantise `gguf` with transformers and save it (float32 safetensors + tokenizer) into `out`."""
    with tqdm(total=len(STEPS), desc=f"prepare {out.name}", unit="step") as progress:
        with staged_folder(out) as staging:
            progress.set_postfix_str(STEPS[0])
            model, tokenizer = load_pretrained(gguf)
            progress.update()
            progress.set_postfix_str(STEPS[1])
            model.save_pretrained(staging)
            progress.update()
            progress.set_postfix_str(STEPS[2])
            # the GGUF tokenizer reports a context of ~1e30; the model config knows the real one
            tokenizer.model_max_length = model.config.max_position_embeddings
            tokenizer.save_pretrained(staging)
            progress.update()
            progress.set_postfix_str(STEPS[3])
        progress.update()
    return out


def prepare_packaged(
    package: str, out: Path | None = None, force: bool = False, models_dir: Path | None = None
) -> Path:
    """The prepared folder for a packaged model (made now unless it is there already)."""
    target = out or prepared_folder(package, models_dir)
    if (target / "config.json").is_file() and not force:
        print(f"already prepared: {target} (use --force to convert again)")
        return target
    return convert_gguf(package_gguf(package), target)
