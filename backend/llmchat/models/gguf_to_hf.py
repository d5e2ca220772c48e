"""A .gguf written out as an HF folder (bf16 safetensors shards, config.json, tokenizer) one tensor at a time, for the
exports OpenVINO GenAI cannot skip: a GGUF of an architecture its GGUF reader does not build (phi3, gemma2, ...),
and a GGUF base with a LoRA adapter merged in.

transformers' own GGUF loading de-quantises the whole file to float32 in memory (4 bytes a parameter: 32 GB for an
8B model) before building the model. Here each tensor is de-quantised, renamed and reshaped by transformers' GGUF
tensor processors, cast to bf16 and added to a shard of at most SHARD_BYTES, which is written when full: the memory
is that of one shard plus the largest tensor in float32.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np

log = logging.getLogger("llmchat.models")
SHARD_BYTES = 1 << 30
INDEX = "model.safetensors.index.json"


def write_hf_folder(gguf: Path, out: Path) -> Path:
    """`out` as an HF folder of `gguf`'s model in bf16 (see the module doc). Raises UnservableGGUF when transformers
    does not know the architecture either."""
    import torch
    from gguf import GGUFReader, dequantize
    from transformers import AutoConfig, AutoModelForCausalLM
    from transformers.modeling_gguf_pytorch_utils import (
        TENSOR_PROCESSORS,
        TensorProcessor,
        get_gguf_hf_weights_map,
        load_gguf_checkpoint,
    )

    from llmchat.models.gguf_file import UnservableGGUF, read_gguf_info
    from llmchat.models.loading import load_tokenizer

    info = read_gguf_info(gguf)
    try:
        metadata = load_gguf_checkpoint(str(gguf), return_tensors=False)
    except ValueError as exc:
        raise UnservableGGUF(
            f"neither OpenVINO GenAI nor transformers read a GGUF of architecture {info.architecture}; "
            "give an HF folder of the model as its source"
        ) from exc
    config = AutoConfig.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    with torch.device("meta"):  # the parameter names, no memory
        skeleton = AutoModelForCausalLM.from_config(config)
    processor = TENSOR_PROCESSORS.get(info.architecture, TensorProcessor)(config=metadata["config"])
    names = get_gguf_hf_weights_map(skeleton, processor)
    parsed = {"config": metadata["config"], "tensors": {}}  # processors that gather pieces (experts) put them here
    out.mkdir(parents=True, exist_ok=True)
    shards = _ShardWriter(out)
    for tensor in GGUFReader(str(gguf)).tensors:
        weights = dequantize(tensor.data, tensor.tensor_type)
        result = processor.process(
            weights=weights, name=tensor.name, tensor_key_mapping=names, parsed_parameters=parsed
        )
        if result.name in names:
            shards.add(
                names[result.name],
                torch.from_numpy(np.require(result.weights, requirements=["C", "W"])).to(torch.bfloat16),
            )
    for name, value in parsed["tensors"].items():
        shards.add(name, value.to(torch.bfloat16))
    shards.close()
    config.dtype = torch.bfloat16
    config.save_pretrained(out)
    tokenizer = load_tokenizer(gguf)
    tokenizer.model_max_length = info.context_length or config.max_position_embeddings  # the GGUF's says ~1e30
    tokenizer.save_pretrained(out)
    return out


class _ShardWriter:
    """bf16 tensors into model-NNNNN.safetensors files of at most SHARD_BYTES each, and their index."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pending: dict = {}
        self.pending_bytes = 0
        self.weight_map: dict[str, str] = {}
        self.count = 0

    def add(self, name: str, tensor) -> None:
        size = tensor.numel() * tensor.element_size()
        if self.pending and self.pending_bytes + size > SHARD_BYTES:
            self._flush()
        self.pending[name] = tensor
        self.pending_bytes += size

    def _flush(self) -> None:
        from safetensors.torch import save_file

        self.count += 1
        file = f"model-{self.count:05d}.safetensors"
        save_file(self.pending, str(self.folder / file), metadata={"format": "pt"})
        self.weight_map.update(dict.fromkeys(self.pending, file))
        self.pending, self.pending_bytes = {}, 0

    def close(self) -> None:
        if self.pending:
            self._flush()
        index = {"metadata": {}, "weight_map": self.weight_map}
        (self.folder / INDEX).write_text(json.dumps(index, indent=2), encoding="utf-8")
