#!/usr/bin/env bash
# Builds llama.cpp's llama-server for the benchmark only (never part of `make run`): the llama.cpp source vendored in
# the llama-cpp-python sdist on PyPI, compiled for this CPU (GGML_NATIVE), into bench/llama.cpp/bin/. ~8 minutes on
# 2 cores; needs build-essential and cmake. `make bench-real` passes it to bench/real_shapes.py when it exists.
set -euo pipefail
version=${LLAMA_CPP_PYTHON_VERSION:-0.3.36}
root=$(cd "$(dirname "$0")/.." && pwd)
out=$root/bench/llama.cpp
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$root/.venv/bin/pip" download "llama-cpp-python==$version" --no-binary :all: --no-deps -d "$work" -q
tar xzf "$work"/llama_cpp_python-"$version".tar.gz -C "$work"
src=$work/llama_cpp_python-$version/vendor/llama.cpp
cmake -S "$src" -B "$work/build" -DCMAKE_BUILD_TYPE=Release -DGGML_NATIVE=ON -DLLAMA_CURL=OFF -DLLAMA_OPENSSL=OFF \
  -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DBUILD_SHARED_LIBS=OFF >/dev/null
cmake --build "$work/build" --target llama-server llama-bench -j "$(nproc)"
mkdir -p "$out/bin"
cp "$work/build/bin/llama-server" "$work/build/bin/llama-bench" "$out/bin/"
echo "built $out/bin/llama-server (llama.cpp from llama-cpp-python $version, native flags)"
