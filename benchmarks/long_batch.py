"""A long batch: does memory stay flat, and is every photo accounted for?

    python benchmarks/long_batch.py              # 1,000 photos of 0.3–1 MP plus 10 bad files
    python benchmarks/long_batch.py -n 200

Runs ``colorgui colorize`` on the bundled model in a child process, samples its resident
memory (VmRSS) twice a second against the number of outputs written, and prints a
Markdown table plus the summary line the CLI printed.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from benchmarks.run import make_photos  # noqa: E402


def rss_mb(pid: int) -> float | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            line = next(x for x in fh if x.startswith("VmRSS"))
        return int(line.split()[1]) / 1024
    except (OSError, StopIteration):
        return None


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("-n", type=int, default=1000, help="photos (default 1000)")
    ap.add_argument("--bad", type=int, default=10, help="corrupt files mixed in (default 10)")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        album, out = Path(tmp) / "album", Path(tmp) / "out"
        make_photos(album, args.n, seed=3, megapixels=(0.3, 1.0))
        for i in range(args.bad):
            (album / f"broken_{i}.jpg").write_bytes(b"\xff\xd8\xff not really a jpeg" * (i + 1))
        cmd = [sys.executable, "-m", "colorgui", "colorize", str(album), "-o", str(out)]
        log = open(Path(tmp) / "stderr.txt", "w+")  # a pipe would fill up and stall the child
        t0 = time.monotonic()
        proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=log,
                                text=True, env={**os.environ, "PYTHONPATH": str(ROOT)})
        samples: list[tuple[float, int, float]] = []  # (seconds, outputs so far, RSS MB)
        while proc.poll() is None:
            mb = rss_mb(proc.pid)
            if mb is not None:
                done = sum(1 for _ in out.rglob("*.jpg")) if out.is_dir() else 0
                samples.append((time.monotonic() - t0, done, mb))
            time.sleep(0.5)
        wall = time.monotonic() - t0
        log.seek(0)
        err = log.read()
        log.close()
    summary = [line for line in err.splitlines() if "colorized," in line]
    t, done, mb = (np.array(x) for x in zip(*samples))
    started = done > 0
    print(f"Long batch: {args.n} photos of 0.3–1 MP (JPEG, gray) + {args.bad} corrupt files, "
          f"bundled model, {os.cpu_count()} CPU cores; {wall:.0f} s, exit code {proc.returncode}")
    print()
    print("| photos written | resident memory MB |")
    print("|---:|---:|")
    for q in (0.0, 0.1, 0.25, 0.5, 0.75, 0.9, 1.0):
        target = q * args.n
        i = int(np.argmin(np.abs(done - target)) if q else np.argmax(started))
        print(f"| {done[i]} | {mb[i]:.0f} |")
    late = done >= args.n * 0.1
    slope = np.polyfit(done[late], mb[late], 1)[0] * 100 if late.sum() > 2 else float("nan")
    print()
    print(f"peak {mb.max():.0f} MB; after the first 10% of photos: {mb[late].min():.0f}–"
          f"{mb[late].max():.0f} MB, trend {slope:+.2f} MB per 100 photos")
    print(f"CLI summary: {summary[-1] if summary else err[-500:]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
