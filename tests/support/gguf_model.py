"""Write a llama-architecture GGUF from an HF Llama folder (the tiny test model), the way llama.cpp's
convert_hf_to_gguf.py lays one out, so tests have real GGUF files without llama.cpp or a download.

Metadata: llama.* hyper-parameters, a byte-level BPE vocabulary (`tokenizer.ggml.model = gpt2`, as SmolLM2's GGUF
has), the chat template. Tensors: llama.cpp's names (token_embd.weight, blk.N.attn_q.weight, ...) from gguf-py's own
HF->GGUF name map, q/k rows permuted as LlamaModel.permute does (transformers' GGUF loader undoes it), no
output.weight when the embeddings are tied. Weights are F32, or Q8_0 for the 2-D matrices (norms stay F32).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

QUANTS = ("F32", "Q8_0")


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
    file_type = gguf.LlamaFileType.MOSTLY_Q8_0 if quant == "Q8_0" else gguf.LlamaFileType.ALL_F32
    writer.add_file_type(int(file_type))

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


def _gguf_tensors(hf_folder: Path, config: dict):
    """(llama.cpp name, float32 array) for every weight, q/k permuted; lm_head dropped when tied."""
    import gguf
    from safetensors.numpy import load_file

    n_head = config["num_attention_heads"]
    n_head_kv = config.get("num_key_value_heads") or n_head
    names = gguf.get_tensor_name_map(gguf.MODEL_ARCH.LLAMA, config["num_hidden_layers"])
    weights: dict[str, np.ndarray] = {}
    for shard in sorted(hf_folder.glob("*.safetensors")):
        weights.update(load_file(shard))
    for hf_name, array in weights.items():
        if hf_name == "lm_head.weight" and config.get("tie_word_embeddings"):
            continue
        name = names.get_name(hf_name, try_suffixes=(".weight", ".bias"))
        if name is None:
            raise ValueError(f"no llama GGUF name for {hf_name}")
        data = array.astype(np.float32)
        if hf_name.endswith("q_proj.weight"):
            data = permute_rows(data, n_head)
        elif hf_name.endswith("k_proj.weight"):
            data = permute_rows(data, n_head_kv)
        yield name, data


def write_llama_gguf(hf_folder: Path, out_path: Path, quant: str = "F32") -> Path:
    """Convert an HF Llama folder (safetensors + tokenizer.json) to a GGUF at `out_path`; `quant` is F32 or Q8_0."""
    import gguf

    if quant not in QUANTS:
        raise ValueError(f"quant must be one of {QUANTS}, not {quant!r}")
    hf_folder, out_path = Path(hf_folder), Path(out_path)
    config = json.loads((hf_folder / "config.json").read_text(encoding="utf-8"))
    tokenizer_config = json.loads((hf_folder / "tokenizer_config.json").read_text(encoding="utf-8"))
    out_path.parent.mkdir(parents=True, exist_ok=True)
    writer = gguf.GGUFWriter(str(out_path), arch="llama")
    _write_metadata(writer, config, tokenizer_config, hf_folder, quant)
    for name, data in _gguf_tensors(hf_folder, config):
        if quant == "Q8_0" and data.ndim == 2:
            writer.add_tensor(
                name,
                gguf.quants.quantize(data, gguf.GGMLQuantizationType.Q8_0),
                raw_dtype=gguf.GGMLQuantizationType.Q8_0,
            )
        else:
            writer.add_tensor(name, data)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return out_path
