"""Benchmark: sweep throughput with 1 and 2 workers, Dask dispatch overhead, parent memory.

The same sweep (by default 200 runs at scale 0.1, January to December 2005, a factorial
of the separation rate by 20 replicates) is run three times into fresh directories:

1. one worker (the runs in the calling process);
2. a local pool of two worker processes;
3. a Dask LocalCluster of two single-threaded worker processes.

Printed: runs per minute of each and the speed-up of two workers over one (target: at
least 1.7); the per-run dispatch overhead of the pool and of Dask, as a share of the mean
run time (target for Dask: under 5%); and the parent process's resident memory sampled
while the two-worker sweep runs, early and at the end (target: flat).

Per-run overhead = (span x workers / runs - mean run time) / mean run time, where the
span runs from the start of the first run to the end of the last (read from the runs'
own records, so the start-up of the pool or cluster is not counted).

    python benchmarks/bench_sweep.py [--runs 200] [--scale 0.1] [--start 2005-01] [--end 2005-12]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from experiments.design import load_plan  # noqa: E402
from experiments.sweep import run_sweep  # noqa: E402


def rss_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


class MemorySampler(threading.Thread):
    def __init__(self, every: float = 0.25):
        super().__init__(daemon=True)
        self.every = every
        self.samples: list[tuple[float, float]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        t0 = time.perf_counter()
        while not self._halt.is_set():
            self.samples.append((time.perf_counter() - t0, rss_mb()))
            time.sleep(self.every)

    def stop(self) -> None:
        self._halt.set()
        self.join()


def overhead(runs: pd.DataFrame, workers: int) -> tuple[float, float]:
    done = runs[runs["status"] == "done"]
    end = pd.to_datetime(done["finished_utc"])
    start = end - pd.to_timedelta(done["wall_seconds"], unit="s")
    span = (end.max() - start.min()).total_seconds()
    mean = float(done["wall_seconds"].mean())
    return (span * workers / len(done) - mean) / mean, mean


def one(plan, root: Path, label: str, workers: int, scheduler=None, sample=False) -> dict:
    sampler = MemorySampler() if sample else None
    if sampler:
        sampler.start()
    t0 = time.perf_counter()
    res = run_sweep(plan, root / label, workers=workers, scheduler=scheduler, progress=True)
    wall = time.perf_counter() - t0
    if sampler:
        sampler.stop()
    assert res.done == res.planned, f"{label}: {res.failed} runs failed"
    ov, mean = overhead(res.runs, workers)
    out = {"label": label, "wall": wall, "runs_per_min": 60 * res.done / wall, "mean_run": mean, "overhead": ov}
    if sampler:
        s = np.array(sampler.samples)
        early = s[(s[:, 0] >= 0.15 * s[-1, 0]) & (s[:, 0] <= 0.25 * s[-1, 0]), 1]
        out["rss_early"] = float(early.mean()) if len(early) else float("nan")
        out["rss_end"] = float(s[-5:, 1].mean())
        out["rss_peak"] = float(s[:, 1].max())
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=200, help="runs per sweep (a multiple of 10)")
    ap.add_argument("--scale", type=float, default=0.1)
    ap.add_argument("--start", default="2005-01")
    ap.add_argument("--end", default="2005-12")
    ap.add_argument("--skip-dask", action="store_true")
    args = ap.parse_args()
    reps = max(1, args.runs // 10)
    values = [round(0.0030 + 0.0002 * i, 4) for i in range(10)]
    plan = load_plan(
        None,
        design="factorial",
        parameters={"labour.separation_rate": values},
        replicates=reps,
        scale=args.scale,
        start=args.start,
        end=args.end,
        seed=1,
    )
    n = len(values) * reps
    print(f"sweep: {n} runs at scale {args.scale}, {args.start} to {args.end}; {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows = [one(plan, root, "1 worker", 1), one(plan, root, "2 workers (processes)", 2, sample=True)]
        if not args.skip_dask:
            rows.append(one(plan, root, "2 workers (Dask LocalCluster)", 2, scheduler="local"))
    print()
    print(f"{'':32} {'wall s':>8} {'runs/min':>9} {'mean run s':>10} {'overhead':>9}")
    for r in rows:
        print(
            f"{r['label']:32} {r['wall']:8.1f} {r['runs_per_min']:9.1f} {r['mean_run']:10.2f} "
            f"{100 * r['overhead']:8.1f}%"
        )
    speedup = rows[1]["runs_per_min"] / rows[0]["runs_per_min"]
    print(f"\nspeed-up of 2 workers over 1: {speedup:.2f}x (target >= 1.7)")
    if len(rows) > 2:
        print(
            f"Dask per-run dispatch overhead: {100 * rows[2]['overhead']:.1f}% of run time (target < 5%); "
            f"Dask vs pool throughput: {rows[2]['runs_per_min'] / rows[1]['runs_per_min']:.2f}x"
        )
    r = rows[1]
    print(
        f"parent memory during the 2-worker sweep: {r['rss_early']:.0f} MB at 15-25% of it, {r['rss_end']:.0f} MB "
        f"at the end, peak {r['rss_peak']:.0f} MB (target: flat)"
    )


if __name__ == "__main__":
    main()
