#!/usr/bin/env bash
# Builds llama.cpp's llama-server and llama-quantize into var/llama.cpp/bin/ (git-ignored), with its converter of HF
# folders (convert_hf_to_gguf.py, its conversion/ and gguf-py/ packages) in var/llama.cpp/convert/: what models on
# `engine: llama.cpp` run (an HF folder is converted to a GGUF once, then quantized) and the benchmark's llama.cpp
# rows (`make bench-real`). The source is the llama.cpp vendored in the llama-cpp-python sdist on PyPI (so pip,
# which `make setup` has, is the only download), compiled for this CPU (GGML_NATIVE), static, only those two targets.
# Needs cmake and a C++ compiler (build-essential). A no-op when all of it is there and was built from the same
# version (var/llama.cpp/VERSION).
set -euo pipefail
version=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=$root/var/llama.cpp
if [ -x "$out/bin/llama-server" ] && [ -x "$out/bin/llama-quantize" ] && [ -f "$out/convert/convert_hf_to_gguf.py" ] \
  && [ "$(cat "$out/VERSION" 2>/dev/null)" = "$version" ]; then
  echo "llama-server is up to date: $out/bin/llama-server (llama.cpp from llama-cpp-python $version)"
  exit 0
fi
for tool in cmake c++; do
  command -v "$tool" >/dev/null || { echo "building llama-server needs $tool (apt-get install cmake build-essential)" >&2; exit 1; }
done
echo "building llama-server and llama-quantize (llama.cpp from llama-cpp-python $version, native CPU flags; a few minutes) into $out/bin"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$root/.venv/bin/pip" download "llama-cpp-python==$version" --no-binary :all: --no-deps -d "$work" -q
tar xzf "$work"/llama_cpp_python-"$version".tar.gz -C "$work"
src=$work/llama_cpp_python-$version/vendor/llama.cpp
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF >/dev/null
cmake --build "$work/build" --target llama-server llama-quantize -j "$(nproc)"
mkdir -p "$out/bin"
for tool in llama-server llama-quantize; do
  cp "$work/build/bin/$tool" "$out/bin/$tool.new"
  mv "$out/bin/$tool.new" "$out/bin/$tool"  # never a half-copied binary where the worker looks
done
rm -rf "$out/convert.new"
mkdir -p "$out/convert.new"
cp -r "$src/convert_hf_to_gguf.py" "$src/conversion" "$src/gguf-py" "$out/convert.new/"
rm -rf "$out/convert"
mv "$out/convert.new" "$out/convert"
echo "$version" >"$out/VERSION"
echo "built $out/bin/llama-server, $out/bin/llama-quantize and $out/convert/"
