"""What a .gguf file says about itself, read from its header only (the `gguf` package's GGUFReader maps the file and
parses the metadata and the tensor table; no tensor data is read), and whether OpenVINO GenAI reads it as it is.

OpenVINO GenAI 2026.4's GGUF reader builds llama, qwen2 and qwen3 models, with 2-D weights in F16, Q8_0, Q4_0,
Q4_1, Q4_K or Q6_K (it refuses F32, BF16 and the other quantisations: "Unsupported quantization type"); 1-D tensors
(norms, biases) may be F32.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

OPENVINO_ARCHITECTURES = frozenset({"llama", "qwen2", "qwen3"})
OPENVINO_WEIGHT_TYPES = frozenset({"F16", "Q8_0", "Q4_0", "Q4_1", "Q4_K", "Q6_K"})
OPENVINO_VECTOR_TYPES = OPENVINO_WEIGHT_TYPES | {"F32"}


class UnservableGGUF(ValueError):
    """A model no engine here can be given: a GGUF the OpenVINO engine can neither read nor convert, or an HF folder
    llama.cpp's converter refuses (llamacpp_gguf.py); the message says why and what to do. The worker answers 400
    model_not_servable with it."""


@dataclass(frozen=True)
class GGUFInfo:
    path: Path
    architecture: str
    context_length: int | None
    chat_template: str | None
    file_type: str | None  # llama.cpp's name for the file's main type ("Q4_0", "Q4_K_M", "F32", ...)
    weight_types: frozenset[str]  # GGML types of the 2-D tensors
    vector_types: frozenset[str]  # GGML types of the 1-D tensors
    eos_token_id: int | None
    parameters: int  # elements of all tensors

    @property
    def weight_format(self) -> str:
        """What /v1/models shows: the file's type as llama.cpp names it (`gguf Q4_0`)."""
        main = self.file_type or "/".join(sorted(self.weight_types))
        return f"gguf {main}"

    @property
    def openvino_builds(self) -> bool:
        """Whether GenAI's GGUF reader builds this architecture (then any weight type can be made readable)."""
        return self.architecture in OPENVINO_ARCHITECTURES

    def openvino_refusal(self) -> str | None:
        """Why OpenVINO GenAI cannot read this file directly (`<arch>/<types>`), or None when it can."""
        if self.architecture not in OPENVINO_ARCHITECTURES:
            return f"architecture {self.architecture}"
        unread = sorted((self.weight_types - OPENVINO_WEIGHT_TYPES) | (self.vector_types - OPENVINO_VECTOR_TYPES))
        if unread:
            return f"{self.architecture}/{','.join(unread)} weights"
        return None


def read_gguf_info(path: Path) -> GGUFInfo:
    """The header of `path` (cached while the file is unchanged)."""
    stat = path.stat()
    return _read(path.resolve(), stat.st_size, stat.st_mtime_ns)


@functools.lru_cache(maxsize=32)
def _read(path: Path, _size: int, _mtime_ns: int) -> GGUFInfo:
    import numpy as np
    from gguf import GGUFReader, LlamaFileType

    reader = GGUFReader(str(path))

    def field(key: str):
        found = reader.fields.get(key)
        return found.contents() if found is not None else None

    architecture = str(field("general.architecture"))
    file_type = field("general.file_type")
    try:
        file_type_name = LlamaFileType(file_type).name.split("_", 1)[1] if file_type is not None else None
    except ValueError:
        file_type_name = str(file_type)
    weights = frozenset(t.tensor_type.name for t in reader.tensors if len(t.shape) >= 2)
    vectors = frozenset(t.tensor_type.name for t in reader.tensors if len(t.shape) < 2)
    context = field(f"{architecture}.context_length")
    eos = field("tokenizer.ggml.eos_token_id")
    return GGUFInfo(
        path=path,
        architecture=architecture,
        context_length=int(context) if context is not None else None,
        chat_template=field("tokenizer.chat_template"),
        file_type=file_type_name,
        weight_types=weights,
        vector_types=vectors,
        eos_token_id=int(eos) if eos is not None else None,
        parameters=int(sum(int(np.prod(t.shape)) for t in reader.tensors)),
    )
