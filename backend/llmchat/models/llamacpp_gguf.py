"""An HF folder as a GGUF for the llama.cpp engine, made once with llama.cpp's own tools and reused.

`make llama-server` puts llama.cpp's converter (convert_hf_to_gguf.py with its conversion/ and gguf-py/ packages) in
var/llama.cpp/convert/ and llama-quantize beside llama-server. The converter reads the checkpoint one tensor at a
time (its lazy mode: a large model is never whole in memory) and writes bf16, or Q8_0 and F16 directly;
llama-quantize turns the bf16 file into Q4_0. Every architecture llama.cpp converts is served so, with the
tokenizer, chat template and context length of the folder itself.

The file sits beside the folder (`<folder>.llama.cpp-Q4_0/model.gguf`) or in the cache where that place cannot be
written, as OpenVINO exports do, with a stamp of what it was made from: when the folder changes, the next load
converts again.

`weight_format` picks the GGUF type: `auto` by size as for OpenVINO (int8 below about 1B parameters, int4 from
there), `int8` Q8_0, `int4` Q4_0 (llama.cpp's fastest 4-bit type on a CPU: 43.2 against 36.5 tok/s for Q4_K_M on the
1B shape, README "Memory and speed"), `fp16` F16.
"""

from __future__ import annotations

import collections
import json
import logging
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from llmchat.models.gguf_file import UnservableGGUF
from llmchat.models.openvino_export import exclusive, export_format, export_location, source_files
from llmchat.models.specs import SourceUnavailable
from llmchat.models.staging import staged_folder

log = logging.getLogger("llmchat.models")
GGUF_TYPES = {"int8": "Q8_0", "int4": "Q4_0", "fp16": "F16"}
CONVERTED_DIRECTLY = {"Q8_0": "q8_0", "F16": "f16"}  # the converter's --outtype for types it writes itself
MODEL_FILE = "model.gguf"
STAMP = "llmchat_gguf.json"
OUTPUT_TAIL_LINES = 5


class ConverterMissing(SourceUnavailable):
    """llama.cpp's converter or llama-quantize is not beside llama-server: an HF folder cannot be served on llama.cpp."""


class ConversionFailed(UnservableGGUF):
    """llama.cpp's converter or quantizer failed on a folder (an architecture or tokenizer the converter does not
    know, a full disk): the message is the tool's last line, for the client; the whole output is in the log."""


def gguf_type(source: Path, weight_format: str) -> str:
    """The GGUF type an HF folder is converted to for `weight_format` (auto: by size)."""
    return GGUF_TYPES[export_format(source, weight_format)]


def gguf_location(source: Path, cache_dir: Path, weight_format: str) -> Path:
    """Where the GGUF of `source` in `weight_format` is (or will be)."""
    return _location(source, cache_dir, gguf_type(source, weight_format))


def _location(source: Path, cache_dir: Path, kind: str) -> Path:
    return export_location(source, None, cache_dir, f".llama.cpp-{kind}", "llama.cpp") / MODEL_FILE


def ensure_gguf(source: Path, cache_dir: Path, weight_format: str, llama_server: Path) -> Path:
    """The GGUF of the HF folder `source` in `weight_format`, converting now unless a current one exists (minutes for
    a large model). Safe when several processes ask at once: one converts, the others wait."""
    kind = gguf_type(source, weight_format)
    target = _location(source, cache_dir, kind)
    folder = target.parent
    if _is_current(folder, source, kind, llama_server):
        return target
    converter, quantize = converter_tools(llama_server)
    with exclusive(folder.with_name(f".{folder.name}.lock")):
        if not _is_current(folder, source, kind, llama_server):  # another process may have made it meanwhile
            log.info("converting %s to a %s GGUF for llama.cpp in %s", source, kind, folder)
            with staged_folder(folder) as staging, tempfile.TemporaryDirectory(dir=folder.parent) as scratch:
                _convert(source, staging / MODEL_FILE, kind, converter, quantize, Path(scratch))
                stamp = _fingerprint(source, kind, llama_server)
                (staging / STAMP).write_text(json.dumps(stamp, indent=2), encoding="utf-8")
    return target


def converter_tools(llama_server: Path) -> tuple[Path, Path]:
    """(convert_hf_to_gguf.py, llama-quantize) of the llama.cpp build `llama_server` belongs to."""
    binaries = llama_server.resolve().parent
    converter = binaries.parent / "convert" / "convert_hf_to_gguf.py"
    quantize = binaries / "llama-quantize"
    if not converter.is_file() or not os.access(quantize, os.X_OK):
        raise ConverterMissing(
            f"serving an HF folder on llama.cpp needs llama.cpp's converter and llama-quantize beside {llama_server}: "
            "run `make llama-server` (or serve a .gguf)"
        )
    return converter, quantize


def _convert(source: Path, target: Path, kind: str, converter: Path, quantize: Path, scratch: Path) -> None:
    """Q8_0 and F16 straight from the converter; Q4_0 through a bf16 file (2 bytes a parameter on disk for a moment,
    never in memory) that llama-quantize reads."""
    direct = kind in CONVERTED_DIRECTLY
    written = target if direct else scratch / "bf16.gguf"
    outtype = CONVERTED_DIRECTLY[kind] if direct else "bf16"
    _run([sys.executable, str(converter), str(source), "--outtype", outtype, "--outfile", str(written)])
    if not direct:
        _run([str(quantize), str(written), str(target), kind, str(os.cpu_count() or 1)])


def _run(command: list[str]) -> None:
    """Run a llama.cpp tool, its output going to the log as it comes (a large conversion takes minutes); a failure
    raises with its last line, which names the cause (an architecture the converter does not know, a full disk)."""
    tool = Path(command[1] if command[0] == sys.executable else command[0]).name
    tail: collections.deque[str] = collections.deque(maxlen=OUTPUT_TAIL_LINES)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace", env=env
    ) as process:
        for line in process.stdout:
            line = line.rstrip()
            tail.append(line)
            log.info("%s: %s", tool, line)
    if process.returncode != 0:
        reason = next((line for line in reversed(tail) if line.strip()), "no output")
        raise ConversionFailed(f"llama.cpp's {tool} failed (exit {process.returncode}): {reason}")


def _fingerprint(source: Path, kind: str, llama_server: Path) -> dict:
    """What the file depends on: the folder's files (name, size, mtime), the type and llama.cpp's version."""
    version_file = llama_server.resolve().parent.parent / "VERSION"
    version = version_file.read_text(encoding="utf-8").strip() if version_file.is_file() else str(llama_server)
    return {"source": str(source.resolve()), "source_files": source_files(source), "type": kind, "llama.cpp": version}


def _is_current(folder: Path, source: Path, kind: str, llama_server: Path) -> bool:
    try:
        stamp = json.loads((folder / STAMP).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    return (folder / MODEL_FILE).is_file() and stamp == _fingerprint(source, kind, llama_server)
