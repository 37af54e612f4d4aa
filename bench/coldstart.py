"""Benchmark: cold start, as a new Lambda process pays it.

Whole-process wall time of ``python -c "import app"`` against ``python -c "import boto3"``, in
alternating runs (so both see the same machine load), median of ``BENCH_COLDSTART_RUNS`` (default 15)
each. ``import app`` includes everything a first request of any route needs at module level (the
store's PynamoDB models and botocore, Chalice, msgspec, Powertools logging); libraries that only some
routes use (QR images, the Japanese holiday calendar, scrypt's dummy hash) load on first use.
Modules are read from bytecode, as in Lambda: ``make package`` ships a pyc beside every module
(devstack/package.py); without them each cold start compiles ≈ 100 of our modules (≈ 50 ms here).

Figures: cold_import_seconds, boto3_import_seconds, cold_import_ratio (target <= 1.5), and
python_start_seconds (``python -c pass``) for scale.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench.common import emit

ROOT = Path(__file__).resolve().parent.parent
RUNS = int(os.environ.get("BENCH_COLDSTART_RUNS", "15"))
CASES = {"app": "import app", "boto3": "import boto3", "python": "pass"}


def run_once(code: str, *, write_bytecode: bool = False) -> float:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    if not write_bytecode:  # measured runs read the bytecode the warm run wrote, and write nothing
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, check=True)
    return time.perf_counter() - started


def main() -> None:
    for code in CASES.values():  # warm the OS file cache and write the .pyc files (the package ships them)
        run_once(code, write_bytecode=True)
    times: dict[str, list[float]] = {name: [] for name in CASES}
    for i in range(RUNS):
        order = list(CASES.items()) if i % 2 == 0 else list(reversed(CASES.items()))
        for name, code in order:
            times[name].append(run_once(code))
    app, boto3 = statistics.median(times["app"]), statistics.median(times["boto3"])
    emit("runs_each", RUNS)
    emit("python_start_seconds", statistics.median(times["python"]))
    emit("boto3_import_seconds", boto3)
    emit("cold_import_seconds", app)
    emit("cold_import_ratio", app / boto3)
    emit("target_ratio", 1.5)


if __name__ == "__main__":
    main()
