"""How big each frozen build is, and how soon it colorizes a photo.

    python benchmarks/package_size.py                    # the builds in dist/ (make package, make package-full)
    python benchmarks/package_size.py dist/colorgui -n 9

For each build folder: its size on disk, the size of its .tar.gz (what a user downloads;
gzip level 6, as `tar czf` writes it), and the time from process start to the first photo
colorized and written by the frozen ``colorgui colorize`` (the median of N runs with the
user cache warm, as on every start after the first; the first start, which also builds
the gamut table into the cache, is shown apart). The photo is the one ``benchmarks/run.py``
times the same way: scikit-image's coffee, 600×400, as a gray JPEG. Prints one Markdown
table and the machine it was measured on.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILDS = (ROOT / "dist" / "colorgui", ROOT / "dist" / "colorgui-full")
MB = 1e6


def folder_bytes(folder: Path) -> int:
    """The bytes of every file under ``folder`` (links not followed)."""
    return sum(p.lstat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink())


def tar_gz_bytes(folder: Path, tmp: Path) -> int:
    archive = tmp / f"{folder.name}.tar.gz"
    with tarfile.open(archive, "w:gz", compresslevel=6) as tar:
        tar.add(folder, arcname=folder.name)
    size = archive.stat().st_size
    archive.unlink()
    return size


def time_to_first_photo(app: Path, photo: Path, tmp: Path) -> float:
    """Seconds from starting ``app colorize`` to its exit, the photo written."""
    out = tmp / "out"
    t = time.perf_counter()
    subprocess.run([str(app), "colorize", str(photo), "-o", str(out), "--overwrite",
                    "--device", "cpu"], check=True, capture_output=True)
    seconds = time.perf_counter() - t
    if not (out / photo.name).stat().st_size:
        raise RuntimeError(f"{app} wrote an empty {out / photo.name}")
    return seconds


def measure(build: Path, runs: int, photo: Path) -> tuple[str, ...]:
    app = build / ("colorgui.exe" if sys.platform == "win32" else "colorgui")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in ("CONFIG", "DATA", "CACHE"):  # a new user: nothing cached yet
            os.environ[f"COLORGUI_{name}_DIR"] = str(tmp / name.lower())
        first = time_to_first_photo(app, photo, tmp)
        warm = [time_to_first_photo(app, photo, tmp) for _ in range(runs)]
        packed = tar_gz_bytes(build, tmp)
    return (f"`{build.relative_to(ROOT) if build.is_relative_to(ROOT) else build}`",
            f"{folder_bytes(build) / MB:.0f} MB", f"{packed / MB:.0f} MB",
            f"{statistics.median(warm):.2f} s (of {runs}: {min(warm):.2f}–{max(warm):.2f})",
            f"{first:.2f} s")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    load = f", load average {os.getloadavg()[0]:.2f} at the start" if hasattr(os, "getloadavg") else ""
    return f"{cpu}, {cores} CPU cores, {platform.system()} {platform.release()}{load}"


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("builds", nargs="*", type=Path,
                    help="build folders (default: those of dist/colorgui, dist/colorgui-full "
                         "that exist)")
    ap.add_argument("-n", "--runs", type=int, default=7, help="timed starts per build (default 7)")
    args = ap.parse_args(argv)
    builds = [b.resolve() for b in args.builds] or [b for b in BUILDS if b.is_dir()]
    if not builds:
        sys.exit("no build to measure: make package (and make package-full) first")

    from PIL import Image
    from skimage import data

    print(f"colorgui frozen builds — {machine()}\n")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        photo = Path(tmp) / "coffee.jpg"
        Image.fromarray(data.coffee()).convert("L").save(photo, quality=90)
        for build in builds:
            rows.append(measure(build, args.runs, photo))
    print("| build | folder | .tar.gz | start → first photo written (warm cache, median) "
          "| first start (cold cache) |\n|---|---:|---:|---:|---:|")
    for row in rows:
        print("| " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
