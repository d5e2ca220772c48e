"""Soak test: N simulated users, each from its own loopback address, against the real API and worker for M minutes.

Run:  .venv/bin/python bench/soak.py --model smollm2 --users 16 --minutes 5
      .venv/bin/python bench/soak.py --model tiny --users 16 --seconds 30          (what `make test` runs)
      .venv/bin/python bench/soak.py --api-url http://127.0.0.1:5000 --minutes 2   (a running server)
      .venv/bin/python bench/soak.py --worker-url http://127.0.0.1:8001 --models smollm2-chat   (a fresh API only)

By default it starts the stack itself (bench/soak_stack.py: `llmchat worker` and `llmchat serve` under gunicorn,
SQLite in a temporary folder or a new PostgreSQL database with --postgres, configs/app.yaml's limits). User i
connects from 127.0.0.(10+i) and does weighted random actions (bench/soak_users.py): new chats and follow-ups
(streamed or not), edits (a sibling branch), regenerates (a new version), Continue on a cut-off reply, version
switches, list, get, export, rename, search, delete, and attempts on other users' conversations. 429/503 with
Retry-After are the API shedding load: counted, waited for (at most --max-backoff s), not failures. Replies are
kept short (--max-tokens) so the API and store are measured, not only the model.

It prints requests by endpoint and status with p50/p95 latency, then checks (bench/soak_checks.py) that every
answered message is stored with its reply in that user's conversation and nowhere else, deleted conversations are
gone and nothing is left `streaming` or `pending`. Exit status 1 on any 5xx (but 503 with Retry-After), a
transport error that is not a timeout, or anything lost or misplaced, with the reasons.
"""

from __future__ import annotations

import argparse
import contextlib
import random
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT))

import httpx  # noqa: E402

from bench.soak_checks import check_database, check_through_api  # noqa: E402
from bench.soak_client import SoakClient  # noqa: E402
from bench.soak_ledger import CallLog, Ledger, table  # noqa: E402
from bench.soak_stack import MODELS, start_stack  # noqa: E402
from bench.soak_users import Directory, SimUser  # noqa: E402

MAX_USERS = 200  # 127.0.0.10 .. 127.0.0.209


@dataclass
class SoakReport:
    log: CallLog
    ledgers: list[Ledger]
    problems: list[str] = field(default_factory=list)
    verified: Counter = field(default_factory=Counter)
    seconds: float = 0.0

    @property
    def violations(self) -> list[str]:
        return [f"user {i}: {v}" for i, ledger in enumerate(self.ledgers) for v in ledger.violations]

    @property
    def failures(self) -> list[str]:
        return self.violations + self.problems

    @property
    def ok(self) -> bool:
        return not self.failures


def address(index: int) -> str:
    return f"127.0.0.{10 + index}"


def run_users(
    url: str,
    models: list[str],
    users: int,
    seconds: float,
    seed: int,
    timeout: float,
    max_backoff_s: float,
    max_tokens: tuple[int, int],
) -> tuple[CallLog, list[Ledger]]:
    """Every user in its own thread until `seconds` have passed; their merged call log and their ledgers."""
    deadline = time.monotonic() + seconds
    directory = Directory()
    ledgers = [Ledger(address(i)) for i in range(users)]
    logs = [CallLog() for _ in range(users)]

    def one_user(index: int) -> None:
        client = SoakClient(url, address(index), ledgers[index], logs[index], deadline, timeout, max_backoff_s)
        try:
            SimUser(
                index,
                client,
                ledgers[index],
                directory,
                models,
                random.Random(seed * 1000 + index),
                deadline,
                max_tokens,
            ).run()
        except Exception as exc:
            ledgers[index].violations.append(f"the simulated user crashed: {type(exc).__name__}: {exc}")
        finally:
            client.close()

    threads = [threading.Thread(target=one_user, args=(i,), name=f"soak-user-{i}", daemon=True) for i in range(users)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=max(0.0, deadline - time.monotonic()) + timeout + 30)
        if thread.is_alive():
            ledgers[int(thread.name.rsplit("-", 1)[1])].violations.append("did not finish (a request hung)")
    merged = CallLog()
    for log in logs:
        merged.merge(log)
    return merged, ledgers


def served_models(url: str) -> list[str]:
    response = httpx.get(f"{url}/api/models", timeout=30)
    response.raise_for_status()
    return [model["id"] for model in response.json()["models"]]


def soak(url: str, models: list[str], options: argparse.Namespace, database_url: str | None = None) -> SoakReport:
    started = time.monotonic()
    log, ledgers = run_users(
        url,
        models,
        options.users,
        options.seconds,
        options.seed,
        options.timeout,
        options.max_backoff,
        tuple(options.max_tokens),
    )
    report = SoakReport(log=log, ledgers=ledgers)
    problems, verified = check_through_api(url, ledgers, options.timeout)
    report.problems += problems
    report.verified.update(verified)
    if database_url:
        problems, verified = check_database(database_url, ledgers)
        report.problems += problems
        report.verified.update(verified)
    report.seconds = time.monotonic() - started
    return report


def run(options: argparse.Namespace) -> SoakReport:
    """The soak against --api-url, or against a stack it starts (and stops) itself."""
    if options.api_url:
        models = options.models or served_models(options.api_url)
        return soak(options.api_url.rstrip("/"), models, options)
    with start_stack(options.model, options.worker_url, options.models, options.postgres) as stack:
        report = soak(stack.api.url, stack.models, options, stack.database_url)
        if not report.ok:
            tail = [line for line in stack.api.log().splitlines() if "ERROR" in line or "Traceback" in line]
            report.problems += [f"API log: {line}" for line in tail[-20:]]
        return report


def print_report(report: SoakReport, options: argparse.Namespace) -> None:
    users, span = options.users, f"{options.seconds:g} s"
    print(f"\nsoak: {users} users x {span} ({report.seconds:.0f} s with the checks), {report.log.total()} requests")
    print(table(report.log))
    by_status = ", ".join(f"{status}: {n}" for status, n in sorted(report.log.by_status().items()))
    print(f"\nrequests by status: {by_status}")
    if report.log.codes:
        print("refusals and errors by code:")
        for code, n in sorted(report.log.codes.items()):
            print(f"  {code}: {n}")
            for message, times in report.log.messages[code].most_common(3):
                print(f"      {times} x {message!r}")
    print("verified: " + ", ".join(f"{name}: {n}" for name, n in sorted(report.verified.items())))
    if report.ok:
        print("checks: OK - no 5xx, nothing lost or misplaced, nothing left streaming or pending")
        return
    print(f"checks: FAILED ({len(report.failures)})")
    for reason in report.failures[:50]:
        print(f"  - {reason}")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--model",
        choices=sorted(MODELS),
        default="smollm2",
        help="the stack's model: the prepared SmolLM2 or a tiny random one (default smollm2)",
    )
    parser.add_argument("--api-url", help="soak a running API instead of starting one (no database check)")
    parser.add_argument(
        "--worker-url", help="start only the API, in front of this running model server (give --models it serves)"
    )
    parser.add_argument(
        "--postgres",
        metavar="URL",
        help="the stack's database: a new one on this PostgreSQL server (dropped afterwards), e.g. "
        "postgresql+psycopg://user:pw@127.0.0.1:5432/postgres; default SQLite in a temporary folder",
    )
    parser.add_argument(
        "--models",
        type=lambda text: text.split(","),
        default=None,
        help="model ids to chat with, comma-separated (default: the stack's, or every model served)",
    )
    parser.add_argument("--users", type=int, default=16, help=f"simulated users, 1-{MAX_USERS} (default 16)")
    length = parser.add_mutually_exclusive_group()
    length.add_argument("--minutes", type=float, help="how long the users act (default 1 minute)")
    length.add_argument("--seconds", type=float, help="the same, in seconds")
    parser.add_argument(
        "--max-tokens",
        type=int,
        nargs=2,
        default=[12, 32],
        metavar=("MIN", "MAX"),
        help="each generation asks for a random max_tokens in this range (default 12 32)",
    )
    parser.add_argument("--timeout", type=float, default=60.0, help="per request, seconds (default 60)")
    parser.add_argument(
        "--max-backoff",
        type=float,
        default=5.0,
        help="the longest wait after a 429/503, whatever Retry-After says (default 5 s)",
    )
    parser.add_argument("--seed", type=int, default=0)
    options = parser.parse_args(argv)
    if not 1 <= options.users <= MAX_USERS:
        parser.error(f"--users must be 1-{MAX_USERS}")
    if options.worker_url and not options.models:
        parser.error("--worker-url needs --models (the ids that server serves)")
    options.seconds = options.seconds if options.seconds is not None else (options.minutes or 1.0) * 60
    if not 0 < options.seconds <= 24 * 3600:
        parser.error("the run must last more than 0 s and at most a day")
    return options


def main(argv: list[str] | None = None) -> int:
    options = parse_args(argv)
    with contextlib.suppress(KeyboardInterrupt):
        report = run(options)
        print_report(report, options)
        return 0 if report.ok else 1
    return 130


if __name__ == "__main__":
    sys.exit(main())
