"""The weight format of an OpenVINO export: int8, int4 (symmetric, grouped) or fp16, and what `auto` picks by size.

Measured on a 2-vCPU AVX-512 Xeon (README, "Memory and speed"; shared/notes/cpu-1b-2026-12.md): for a 135M model
int8 decodes as fast as int4 and keeps answers intact; for a 1B model symmetric int4 (group 128) decodes ~1.5x int8
and close to llama.cpp Q4_0, while optimum's default asymmetric int4 is no faster than int8. So `auto` keeps int8
below about 1B parameters and takes int4 symmetric from there.
"""

from __future__ import annotations

from typing import Any

WEIGHT_FORMATS = ("auto", "int8", "int4", "fp16")
INT4_FROM_PARAMETERS = 1_000_000_000
INT4_GROUP_SIZES = (128, 64, 32)  # the largest that divides the hidden size; none: one scale per output channel


def parameter_count(config: dict[str, Any]) -> int:
    """Parameters of a decoder-only transformer from its config.json (embeddings, attention, gated MLP, norms)."""
    hidden = config["hidden_size"]
    layers = config["num_hidden_layers"]
    heads = config["num_attention_heads"]
    kv_heads = config.get("num_key_value_heads") or heads
    head_dim = config.get("head_dim") or hidden // heads
    intermediate = config.get("intermediate_size") or 4 * hidden
    vocab = config["vocab_size"]
    attention = 2 * hidden * heads * head_dim + 2 * hidden * kv_heads * head_dim
    per_layer = attention + 3 * hidden * intermediate + 2 * hidden
    embeddings = vocab * hidden * (1 if config.get("tie_word_embeddings", True) else 2)
    return embeddings + layers * per_layer + hidden


def resolve_weight_format(wanted: str, parameters: int) -> str:
    """`auto` by size; anything else as asked."""
    if wanted not in WEIGHT_FORMATS:
        raise ValueError(f"weight_format must be one of {', '.join(WEIGHT_FORMATS)}, got {wanted!r}")
    if wanted != "auto":
        return wanted
    return "int4" if parameters >= INT4_FROM_PARAMETERS else "int8"


def int4_group_size(hidden_size: int) -> int:
    """128, else 64, else 32 where it divides the hidden size; -1 (per channel) where none does."""
    return next((size for size in INT4_GROUP_SIZES if hidden_size % size == 0), -1)


def quantization_config(weight_format: str, hidden_size: int):
    """optimum-intel's weight compression for `weight_format` (None: fp16, no compression)."""
    from optimum.intel import OVWeightQuantizationConfig

    if weight_format == "int8":
        return OVWeightQuantizationConfig(bits=8, sym=False)  # asymmetric per-channel
    if weight_format == "int4":
        # ratio 1.0: every layer in int4 (nncf keeps embeddings and the last layer in int8 by itself)
        return OVWeightQuantizationConfig(bits=4, sym=True, group_size=int4_group_size(hidden_size), ratio=1.0)
    if weight_format == "fp16":
        return None
    raise ValueError(f"no export recipe for weight format {weight_format!r}")
