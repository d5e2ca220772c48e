"""Does a model export fit in a given amount of memory? Runs the worker's export function inside a memory cgroup
capped at `--cap-gb` (page cache included, so the checkpoint's mmap'd pages count and are evicted when the cap is
reached) and reports whether it completed, how long it took and the cgroup's peak.

Peak RSS overstates what an export needs: safetensors checkpoints are read through mmap, and those pages are counted
in RSS although the kernel can drop them and read them again. Only a cap shows the real floor. Needs root (it writes a
cgroup under /sys/fs/cgroup); cgroup v2 with the memory controller, else v1's memory hierarchy.

    sudo .venv/bin/python bench/export_memory_cap.py --source bench/results/work/3b/llama-3b --weight-format int4 \\
        --cap-gb 3 --out /tmp/capped-export

(`make bench-real` with `--shape 3b` writes that folder.) The export is written fresh into `--out`, through the same
function the worker uses (llmchat.models.openvino_export.export), never reusing an earlier one.

Measured (README "Memory and speed"): the 3B shape's int4 export completes under a 3.0 GB cap, byte-identical.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

V2_ROOT = Path("/sys/fs/cgroup")
V1_ROOT = Path("/sys/fs/cgroup/memory")


def _make_cgroup(name: str, cap_bytes: int) -> tuple[Path, str, str]:
    """A fresh cgroup capped at `cap_bytes`: (its folder, the file with its peak, the file counting refusals)."""
    if (V2_ROOT / "cgroup.controllers").exists() and "memory" in (V2_ROOT / "cgroup.controllers").read_text():
        group = V2_ROOT / name
        group.mkdir(exist_ok=True)
        (group / "memory.max").write_text(str(cap_bytes))
        (group / "memory.swap.max").write_text("0")
        return group, "memory.peak", "memory.events"
    if V1_ROOT.is_dir():
        group = V1_ROOT / name
        group.mkdir(exist_ok=True)
        (group / "memory.limit_in_bytes").write_text(str(cap_bytes))
        return group, "memory.max_usage_in_bytes", "memory.failcnt"
    raise SystemExit("no writable memory cgroup here (cgroup v2 with the memory controller, or v1's memory)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True, help="an HF folder or a .gguf")
    parser.add_argument("--weight-format", default="int4", choices=("int8", "int4", "fp16"))
    parser.add_argument("--cap-gb", type=float, required=True)
    parser.add_argument("--out", type=Path, required=True, help="a folder to write the export into (replaced)")
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        from llmchat.models.openvino_export import export

        export(args.source, None, args.out, args.weight_format)
        return

    group, peak_file, refusals_file = _make_cgroup(f"llmchat-export-{os.getpid()}", int(args.cap_gb * 2**30))
    command = [
        sys.executable,
        __file__,
        "--child",
        "--source",
        str(args.source),
        "--weight-format",
        args.weight_format,
        "--cap-gb",
        str(args.cap_gb),
        "--out",
        str(args.out),
    ]
    started = time.perf_counter()
    try:
        # the child joins the cgroup before it execs, so everything it loads is counted
        done = subprocess.run(command, preexec_fn=lambda: (group / "cgroup.procs").write_text(str(os.getpid())))
        seconds = time.perf_counter() - started
        peak = int((group / peak_file).read_text()) if (group / peak_file).exists() else None
        refusals = (group / refusals_file).read_text().strip().replace("\n", ", ")
    finally:
        group.rmdir()
    verdict = "completed" if done.returncode == 0 else f"FAILED (exit {done.returncode}; killed by the cap?)"
    peak_text = f"{peak / 2**30:.2f} GB" if peak is not None else "unknown"
    print(
        f"{args.weight_format} export of {args.source} under a {args.cap_gb} GB cap: {verdict} in {seconds:.0f} s; cgroup peak {peak_text}"
    )
    print(f"cap refusals (the kernel reclaimed pages to stay under it): {refusals}")
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
