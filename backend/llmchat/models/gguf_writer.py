"""Write a llama-architecture GGUF from an HF Llama folder, the way llama.cpp's convert_hf_to_gguf.py lays one out,
with the `gguf` package only: `llmchat export --gguf` writes a run's merged folder with it, and tests have real GGUF
files of the tiny model without llama.cpp or a download.

Metadata: llama.* hyper-parameters, a byte-level BPE vocabulary (`tokenizer.ggml.model = gpt2`, as SmolLM2's GGUF
has), the chat template. Tensors: llama.cpp's names (token_embd.weight, blk.N.attn_q.weight, ...) from gguf-py's own
HF->GGUF name map, q/k rows permuted as LlamaModel.permute does (transformers' GGUF loader undoes it), no
output.weight when the embeddings are tied. The 2-D matrices are F32, F16, BF16, Q8_0, Q4_0, Q4_1 or Q5_0
(`gguf.quants`; a matrix whose rows do not split into the type's blocks stays F32); norms stay F32.

Tensors are read one at a time from the safetensors files and written as they are converted, so a 1B model
(bench/real_shapes.py) is written in the memory of its largest tensor, not of the model.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

QUANTS = ("F32", "F16", "BF16", "Q8_0", "Q4_0", "Q4_1", "Q5_0")


def permute_rows(weights: np.ndarray, n_head: int) -> np.ndarray:
    """llama.cpp's rotary layout for q/k: each head's rows interleaved by halves (LlamaModel.permute)."""
    return (
        weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
        .swapaxes(1, 2)
        .reshape(weights.shape)
    )


def _vocabulary(hf_folder: Path) -> tuple[list[str], list[str], list[int]]:
    """(tokens by id, merges as "a b", token types) from the folder's tokenizer.json."""
    import gguf

    data = json.loads((hf_folder / "tokenizer.json").read_text(encoding="utf-8"))
    vocab: dict[str, int] = dict(data["model"]["vocab"])
    special = {added["content"] for added in data.get("added_tokens", []) if added.get("special")}
    for added in data.get("added_tokens", []):
        vocab.setdefault(added["content"], added["id"])
    tokens = [token for token, _ in sorted(vocab.items(), key=lambda item: item[1])]
    if [vocab[token] for token in tokens] != list(range(len(tokens))):
        raise ValueError(f"{hf_folder}: token ids are not contiguous")
    merges = [merge if isinstance(merge, str) else " ".join(merge) for merge in data["model"]["merges"]]
    types = [int(gguf.TokenType.CONTROL if token in special else gguf.TokenType.NORMAL) for token in tokens]
    return tokens, merges, types


def _write_metadata(writer, config: dict, tokenizer_config: dict, hf_folder: Path, quant: str) -> None:
    import gguf

    n_head = config["num_attention_heads"]
    writer.add_name(hf_folder.name)
    writer.add_context_length(config["max_position_embeddings"])
    writer.add_embedding_length(config["hidden_size"])
    writer.add_feed_forward_length(config["intermediate_size"])
    writer.add_block_count(config["num_hidden_layers"])
    writer.add_head_count(n_head)
    writer.add_head_count_kv(config.get("num_key_value_heads") or n_head)
    writer.add_rope_dimension_count(config.get("head_dim") or config["hidden_size"] // n_head)
    writer.add_rope_freq_base(float(config.get("rope_theta") or config.get("rope_parameters", {}).get("rope_theta")))
    writer.add_layer_norm_rms_eps(config["rms_norm_eps"])
    writer.add_vocab_size(config["vocab_size"])
    file_type = gguf.LlamaFileType.ALL_F32 if quant == "F32" else gguf.LlamaFileType[f"MOSTLY_{quant}"]
    writer.add_file_type(int(file_type))
    writer.add_quantization_version(gguf.GGML_QUANT_VERSION)

    tokens, merges, types = _vocabulary(hf_folder)
    writer.add_tokenizer_model("gpt2")
    writer.add_tokenizer_pre("default")
    writer.add_token_list(tokens)
    writer.add_token_types(types)
    writer.add_token_merges(merges)
    ids = {token: index for index, token in enumerate(tokens)}
    eos = tokenizer_config.get("eos_token")
    if eos in ids:
        writer.add_eos_token_id(ids[eos])
    pad = tokenizer_config.get("pad_token")
    if pad in ids:
        writer.add_pad_token_id(ids[pad])
    bos = tokenizer_config.get("bos_token")
    if bos in ids:
        writer.add_bos_token_id(ids[bos])
    writer.add_add_bos_token(False)
    template = tokenizer_config.get("chat_template")
    template_file = hf_folder / "chat_template.jinja"
    if template is None and template_file.is_file():
        template = template_file.read_text(encoding="utf-8")
    if template:
        writer.add_chat_template(template)


@dataclass(frozen=True)
class _Planned:
    name: str  # llama.cpp's
    hf_name: str
    shard: Path
    shape: tuple[int, ...]
    qtype: Any  # gguf.GGMLQuantizationType
    permute_heads: int | None  # q/k: heads to permute the rows by


def _plan(hf_folder: Path, config: dict, quant: str) -> list[_Planned]:
    """Every tensor to write (lm_head dropped when tied), from the safetensors headers only."""
    import gguf
    from safetensors import safe_open

    n_head = config["num_attention_heads"]
    n_head_kv = config.get("num_key_value_heads") or n_head
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, config["num_hidden_layers"])
    wanted = gguf.GGMLQuantizationType[quant]
    block = gguf.GGML_QUANT_SIZES[wanted][0]
    planned = []
    for shard in sorted(hf_folder.glob("*.safetensors")):
        with safe_open(str(shard), framework="numpy") as handle:
            shapes = {key: tuple(handle.get_slice(key).get_shape()) for key in handle.keys()}  # noqa: SIM118 (safe_open is not iterable)
        for hf_name, shape in shapes.items():
            if hf_name == "lm_head.weight" and config.get("tie_word_embeddings"):
                continue
            name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
            if name is None:
                raise ValueError(f"no llama GGUF name for {hf_name}")
            matrix = len(shape) == 2 and shape[-1] % block == 0
            qtype = wanted if matrix else gguf.GGMLQuantizationType.F32
            heads = n_head if hf_name.endswith("q_proj.weight") else None
            heads = n_head_kv if hf_name.endswith("k_proj.weight") else heads
            planned.append(_Planned(name, hf_name, shard, shape, qtype, heads))
    return planned


def _encoded(planned: _Planned) -> np.ndarray:
    """The tensor as its GGUF bytes (or float array), read from its shard now."""
    import gguf
    import torch
    from safetensors import safe_open

    with safe_open(str(planned.shard), framework="pt") as handle:  # pt: numpy cannot hold a bf16 checkpoint
        data = handle.get_tensor(planned.hf_name).to(torch.float32).numpy()
    if planned.permute_heads:
        data = permute_rows(data, planned.permute_heads)
    if planned.qtype == gguf.GGMLQuantizationType.F32:
        return data
    if planned.qtype == gguf.GGMLQuantizationType.F16:
        return data.astype(np.float16)
    return gguf.quants.quantize(data, planned.qtype)


def write_llama_gguf(hf_folder: Path, out_path: Path, quant: str = "F32", architecture: str = "llama") -> Path:
    """Convert an HF Llama folder (safetensors + tokenizer.json) to a GGUF at `out_path`, its matrices in `quant`.
    `architecture` names the file's `general.architecture` (a made-up one makes a file no reader builds)."""
    import gguf

    if quant not in QUANTS:
        raise ValueError(f"quant must be one of {QUANTS}, not {quant!r}")
    hf_folder, out_path = Path(hf_folder), Path(out_path)
    config = json.loads((hf_folder / "config.json").read_text(encoding="utf-8"))
    tokenizer_config = json.loads((hf_folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(out_path), arch=architecture)
    _write_metadata(writer, config, tokenizer_config, hf_folder, quant)
    planned = _plan(hf_folder, config, quant)
    for tensor in planned:  # the header lists every tensor before any data
        block, size = gguf.GGML_QUANT_SIZES[tensor.qtype]
        nbytes = int(np.prod(tensor.shape)) // block * size
        writer.add_tensor_info(tensor.name, tensor.shape, np.dtype(np.float32), nbytes, raw_dtype=tensor.qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for tensor in planned:
        writer.write_tensor_data(_encoded(tensor))
    writer.close()
    return out_path
