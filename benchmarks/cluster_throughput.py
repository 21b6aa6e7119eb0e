"""Photos per second on a local Ray cluster (``colorize --ray``) against the plain CLI,
same machine, same photos, the bundled model:

    python benchmarks/cluster_throughput.py            # 120 photos of 0.1-0.3 MP
    python benchmarks/cluster_throughput.py -n 40

Each run is ``colorgui colorize`` in a child process, as a user runs it; the Ray runs
start their own local Ray instance on all of this machine's cores. A run's steady rate is
timed from its 10th to its 90th percent of outputs (the model loading and Ray's start are
in the wall time only). The table gives the machine's load average, as the cores may be
shared.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.run import make_photos  # noqa: E402

# (name, arguments, environment). The plain CLI also with one thread: on a machine whose
# cores are busy with other work, its default of one thread per core spins waiting for a
# descheduled thread (measured 5x slower here while a training job ran), which Ray's
# actors, one thread each (OMP_NUM_THREADS=1 per CPU), avoid
RUNS = (("plain CLI (one process, a thread per core)", [], {}),
        ("plain CLI, one thread (OMP_NUM_THREADS=1)", [], {"OMP_NUM_THREADS": "1"}),
        ("Ray: one actor per core (--ray)", ["--ray"], {}),
        ("Ray: one actor on all cores (--ray --ray-cpus N)", ["--ray", "--ray-cpus", "CORES"],
         {}))


def timed_run(album: Path, out: Path, extra: list[str], env: dict[str, str], n: int
              ) -> tuple[float, float, str]:
    """(wall seconds, steady photos/s, the CLI's summary line)."""
    cmd = [sys.executable, "-m", "colorgui", "colorize", str(album), "-o", str(out),
           *extra]
    log = open(out.parent / f"{out.name}.stderr", "w+")  # a pipe could fill and stall it
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log, text=True,
                            env={**os.environ, "PYTHONPATH": str(ROOT), **env})
    marks: dict[int, float] = {}
    while proc.poll() is None:
        done = sum(1 for _ in out.rglob("*.jpg")) if out.is_dir() else 0
        marks.setdefault(done, time.monotonic() - t0)
        time.sleep(0.05)
    wall = time.monotonic() - t0
    log.seek(0)
    summary = next((x for x in log.read().splitlines() if "colorized," in x), "no summary")
    log.close()
    lo, hi = round(0.1 * n), round(0.9 * n)
    first = min(t for k, t in marks.items() if k >= lo)
    last = min((t for k, t in marks.items() if k >= hi), default=wall)
    return wall, (hi - lo) / max(last - first, 1e-9), summary


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=120, help="photos (default 120)")
    args = ap.parse_args(argv)
    cores = os.cpu_count() or 1
    rows = []
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        album = Path(tmp) / "album"
        make_photos(album, args.n, seed=5, megapixels=(0.1, 0.3))
        for i, (name, extra, env) in enumerate(RUNS):
            extra = [str(cores) if x == "CORES" else x for x in extra]
            wall, rate, summary = timed_run(album, Path(tmp) / f"out{i}", extra, env, args.n)
            rows.append((name, wall, rate, summary))
    print(f"{args.n} photos of 0.1-0.3 MP (JPEG, gray), bundled model, {cores} CPU cores; "
          f"load average {load_before[0]:.2f} before, {os.getloadavg()[0]:.2f} after")
    print()
    print("| run | wall s | steady photos/s | summary |")
    print("|---|---:|---:|---|")
    for name, wall, rate, summary in rows:
        print(f"| {name} | {wall:.1f} | {rate:.2f} | {summary} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
