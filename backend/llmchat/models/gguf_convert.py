"""A .gguf OpenVINO GenAI cannot read as it is, rewritten into one it can, one tensor at a time.

OpenVINO GenAI reads llama/qwen2/qwen3 files with F16, Q8_0, Q4_0, Q4_1, Q4_K and Q6_K weights (gguf_file.py).
A file of such an architecture with other weights (F32, BF16, Q5_*, Q2_K/Q3_K/Q5_K, IQ*) is rewritten as Q8_0
(near-lossless; F16 where a row does not split into 32-value blocks), the tensors it reads copied as they are.
Each tensor is de-quantised, re-quantised and written before the next is read, so the conversion needs the memory
of the largest tensor, never of the model. The copy sits beside the file (`<name>.openvino-q8_0.gguf`) or in the
cache, with a stamp of what it was made from; the worker reads it directly as it would the original.

A file of an architecture OpenVINO GenAI does not build goes through an export instead (gguf_to_hf.py).
"""

from __future__ import annotations

import json
import logging
import os
from importlib import metadata
from pathlib import Path

import numpy as np

from llmchat.models.gguf_file import (
    OPENVINO_VECTOR_TYPES,
    OPENVINO_WEIGHT_TYPES,
    GGUFInfo,
    read_gguf_info,
)
from llmchat.models.openvino_export import exclusive, export_location

log = logging.getLogger("llmchat.models")
SUFFIX = ".openvino-q8_0.gguf"
Q8_0_FILE_TYPE = 7  # llama.cpp's LLAMA_FTYPE_MOSTLY_Q8_0
# keys the writer sets itself
_WRITER_KEYS = {"general.architecture", "general.file_type"}


def readable_gguf(source: Path, cache_dir: Path) -> Path:
    """`source` itself when OpenVINO GenAI reads it, else its Q8_0 rewrite (made now unless current). Only for an
    architecture GenAI builds (`GGUFInfo.openvino_builds`)."""
    info = read_gguf_info(source)
    refusal = info.openvino_refusal()
    if refusal is None:
        return source
    if not info.openvino_builds:
        raise ValueError(f"{source}: OpenVINO GenAI does not build {refusal}; it needs an export")
    target = export_location(source, None, cache_dir, SUFFIX)
    if _is_current(target, source):
        return target
    with exclusive(target.with_name(f".{target.name}.lock")):
        if not _is_current(target, source):
            log.warning("converting %s: OpenVINO GenAI cannot read %s directly; writing %s", source, refusal, target)
            rewrite_as_q8_0(info, target)
    return target


def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".json")


def _fingerprint(source: Path) -> dict:
    stat = source.stat()
    return {
        "source": str(source.resolve()),
        "size": stat.st_size,
        "mtime_ns": stat.st_mtime_ns,
        "gguf": _gguf_version(),
    }


def _gguf_version() -> str:
    return metadata.version("gguf")


def _is_current(target: Path, source: Path) -> bool:
    try:
        return target.is_file() and json.loads(_stamp_path(target).read_text(encoding="utf-8")) == _fingerprint(source)
    except (OSError, ValueError):
        return False


def rewrite_as_q8_0(info: GGUFInfo, target: Path) -> Path:
    """Write `info.path` to `target` with every tensor OpenVINO cannot read re-quantised (see the module doc)."""
    from gguf import GGUFReader, GGUFWriter

    reader = GGUFReader(str(info.path))
    partial = target.with_name(f".{target.name}.partial")
    writer = GGUFWriter(str(partial), info.architecture)
    for key, field in reader.fields.items():
        if key.startswith("GGUF.") or key in _WRITER_KEYS:
            continue
        sub_type = field.types[1] if len(field.types) > 1 else None
        writer.add_key_value(key, field.contents(), field.types[0], sub_type)
    writer.add_file_type(Q8_0_FILE_TYPE)
    plans = [(tensor, _target_type(tensor)) for tensor in reader.tensors]
    for tensor, qtype in plans:
        shape = [int(n) for n in reversed(tensor.shape)]  # GGUF lists the fastest dimension first
        writer.add_tensor_info(tensor.name, shape, np.dtype(np.float32), _nbytes(shape, qtype), raw_dtype=qtype)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_ti_data_to_file()
    for tensor, qtype in plans:
        writer.write_tensor_data(_converted(tensor, qtype))
    writer.close()
    os.replace(partial, target)
    _stamp_path(target).write_text(json.dumps(_fingerprint(info.path)), encoding="utf-8")
    return target


def _target_type(tensor):
    """The tensor's own type when OpenVINO reads it; else Q8_0 for weights (F16 where rows do not split into
    blocks of 32) and F32 for vectors."""
    from gguf import GGML_QUANT_SIZES, GGMLQuantizationType

    name = tensor.tensor_type.name
    if len(tensor.shape) < 2:
        return tensor.tensor_type if name in OPENVINO_VECTOR_TYPES else GGMLQuantizationType.F32
    if name in OPENVINO_WEIGHT_TYPES:
        return tensor.tensor_type
    block = GGML_QUANT_SIZES[GGMLQuantizationType.Q8_0][0]
    return GGMLQuantizationType.Q8_0 if int(tensor.shape[0]) % block == 0 else GGMLQuantizationType.F16


def _nbytes(shape: list[int], qtype) -> int:
    from gguf import GGML_QUANT_SIZES

    block, size = GGML_QUANT_SIZES[qtype]
    return int(np.prod(shape)) // block * size


def _converted(tensor, qtype) -> np.ndarray:
    from gguf import GGMLQuantizationType, dequantize, quantize

    if qtype == tensor.tensor_type:
        return np.asarray(tensor.data)  # copied as it is (read from the mapped file)
    values = dequantize(tensor.data, tensor.tensor_type)
    if qtype == GGMLQuantizationType.F32:
        return values.astype(np.float32)
    if qtype == GGMLQuantizationType.F16:
        return values.astype(np.float16)
    return quantize(values.astype(np.float32, copy=False), qtype)
