"""A new user's fine-tune, measured: a folder of photos of one kind, ``colorgui train
--from spatial --in-memory --time-limit SECONDS`` as the README says, then the result
scored on photos of the same kind that it never saw.

    python benchmarks/finetune_family.py ../shared/data/train/food101_subset /tmp/family

assembles WORK/photos (``--photos`` per class, by symlinks) and WORK/unseen (``--unseen``
per class, other photos of the same classes), runs the fine-tune with its stderr in
WORK/train.log, then ``colorgui evaluate WORK/unseen --model spatial --model BEST
--against spatial``. It prints:

- whether the run stopped by itself, and where its best checkpoint came from;
- the before/after it reported, and the paired gain on the unseen photos, each ± its 95 %
  interval, and whether each lies within the other's interval;
- how right the progress bar's time left was: at each of its updates from the first
  minute on, what it said against the training time that was really left; and the same
  from the first pass without a gain, when the bar starts counting to the patience's end.

The bundled model trained on every folder of ``train/``, so a folder as it is makes no
domain it has not seen: there its fine-tunes gain nothing, and the base comes back.
``--look`` gives every photo one film's colour cast (``film_look``), as an album printed
from one film stock has; the copies are written to WORK.

Never point it at ``eval/``: the unseen photos come from the same training folder.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import random
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BAR = re.compile(r"(\d+)/(\d+) \[(\d+:\d+(?::\d+)?)<(\d+:\d+(?::\d+)?|\?)")


def seconds(text: str) -> float:
    parts = [int(p) for p in text.split(":")]
    return float(sum(p * 60 ** i for i, p in enumerate(reversed(parts))))


def film_look(rgb):
    """A family's own colour look (float RGB in, out): one consumer film stock's warm, faded
    cast over every photo of an album, which no folder of train/ holds."""
    import numpy as np

    gain, lift = np.float32([1.06, 1.0, 0.82]), np.float32([0.02, 0.0, 0.05])
    return np.clip(rgb * gain + lift, 0.0, 1.0)


def _graded(src: Path, dst: Path) -> None:
    """``src`` with ``film_look`` as a JPEG (quality 95) at ``dst``."""
    from model import color
    from model.io.imageio import read_photo, write_photo

    write_photo(dst, color.from_uint8(color.to_uint8(film_look(read_photo(src).rgb))), quality=95)


def assemble(source: Path, work: Path, per_class: int, unseen: int, seed: int,
             look: bool = False) -> tuple[int, int]:
    """WORK/photos and WORK/unseen as symlinks (with ``look``: copies in ``film_look``),
    disjoint, the same classes in each."""
    with open(source / "manifest.csv", newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    classes: dict[str, list[str]] = {}
    for row in rows:
        classes.setdefault(row.get("class") or "", []).append(row["file"])
    rng = random.Random(seed)
    counts = [0, 0]
    for folder in ("photos", "unseen"):
        (work / folder).mkdir(parents=True, exist_ok=True)
    for name, files in sorted(classes.items()):
        files = sorted(files)
        rng.shuffle(files)
        for i, (folder, chosen) in enumerate((("photos", files[:per_class]),
                                              ("unseen", files[per_class:per_class + unseen]))):
            for f in chosen:
                link = work / folder / f
                if look and not link.with_suffix(".jpg").exists():
                    _graded(source / f, link.with_suffix(".jpg"))
                elif not look and not link.exists():
                    link.symlink_to((source / f).resolve())
                counts[i] += 1
    return counts[0], counts[1]


def bar_updates(log: str) -> list[tuple[float, float | None, int, int]]:
    """(elapsed, time left it said, step, total) of each update of the training bar."""
    out = []
    for chunk in re.split(r"[\r\n]", log):
        m = BAR.search(chunk)
        if m and "loss=" in chunk:
            left = None if m.group(4) == "?" else seconds(m.group(4))
            out.append((seconds(m.group(3)), left, int(m.group(1)), int(m.group(2))))
    return out


def time_left_errors(updates, from_s: float = 60.0, until_left_s: float = 30.0) -> dict:
    """How far the bar's time left was from the time really left (to its last update),
    from ``from_s`` on; and the same from the update where its end first came sooner by
    a fifth (validation stalled: it counts to where the patience ends), if it did."""
    out = _errors(updates, from_s, until_left_s)
    stall = next((e for (e, _, _, t), (_, _, _, t0) in zip(updates[1:], updates)
                  if e >= from_s and t < 0.8 * t0), None)
    if stall is not None:
        out["after_the_stall"] = {"from_elapsed": stall, **_errors(updates, stall, until_left_s)}
    return out


def _errors(updates, from_s: float, until_left_s: float) -> dict:
    end = updates[-1][0]
    rel, worst = [], (0.0, 0.0, 0.0)
    for elapsed, said, _, _ in updates:
        left = end - elapsed
        if elapsed < from_s or said is None or left < until_left_s:
            continue
        err = abs(said - left) / max(left, 1e-9)
        rel.append(err)
        if err >= worst[0]:
            worst = (err, elapsed, said)
    first = next(((e, s) for e, s, _, _ in updates if s is not None), None)
    return {"training_seconds_shown": end, "updates_checked": len(rel),
            "max_relative_error": max(rel) if rel else None,
            "share_within_20pct": sum(e <= 0.2 for e in rel) / len(rel) if rel else None,
            "worst_at_elapsed": worst[1], "worst_said_left": worst[2],
            "first_said": first}


def reported_gain(report: str) -> dict | None:
    """The fine-tune's own before/after: the after row's paired gain over the base."""
    lines = [line for line in report.splitlines() if line.startswith("|")]
    head = next((line.split("|") for line in lines if line.startswith("| model")), None)
    after = next((line.split("|") for line in lines if line.startswith("| after")), None)
    if head is None or after is None:
        return None
    cell = {h.strip(): a.strip() for h, a in zip(head, after)}
    gain = next(v for k, v in cell.items() if k.startswith("vs before"))
    mean, half = (float(x) for x in gain.split(" ± "))
    better = next(v for k, v in cell.items() if k.startswith("better than before"))
    summary = next((line for line in report.splitlines()
                    if "better on" in line or "did not beat" in line), "")
    return {"photos": int(cell["photos"]), "gain_db": mean, "half_db": half, "better": better,
            "summary": summary}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("source", type=Path, help="a training folder with a manifest.csv of classes")
    ap.add_argument("work", type=Path, help="a new folder outside the repository")
    ap.add_argument("--photos", type=int, default=72, help="photos per class to fine-tune on")
    ap.add_argument("--unseen", type=int, default=20, help="other photos per class, never seen")
    ap.add_argument("--time-limit", type=float, default=600.0, help="seconds of training")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--look", action="store_true",
                    help="every photo (fine-tuned on and unseen) in one film's colour look "
                         "(film_look): a domain the bundled model never trained on")
    ap.add_argument("--schedule", choices=("constant", "cosine"),
                    help="the learning-rate schedule (default: colorgui train's)")
    ap.add_argument("--reuse", action="store_true",
                    help="score the run already in WORK again (its train.log and train.out)")
    args = ap.parse_args(argv)
    if "eval" in args.source.parts:
        ap.error("never fine-tune on eval/")
    n_photos, n_unseen = assemble(args.source, args.work, args.photos, args.unseen, args.seed,
                                  args.look)
    print(f"{n_photos} photos to fine-tune on, {n_unseen} unseen", flush=True)

    run = args.work / "run"
    cmd = [sys.executable, "-m", "colorgui", "train", str(args.work / "photos"), "-o", str(run),
           "--from", "spatial", "--in-memory", "--time-limit", str(args.time_limit), "--fresh"]
    if args.schedule:
        cmd += ["--schedule", args.schedule]
    print("$ " + " ".join(cmd[2:]), flush=True)
    t0 = time.monotonic()
    if not args.reuse:
        with open(args.work / "train.log", "w") as err, open(args.work / "train.out", "w") as out:
            code = subprocess.call(cmd, stdout=out, stderr=err, cwd=ROOT)
        if code:
            print(f"train failed ({code}); see {args.work / 'train.log'}")
            return code
    wall = time.monotonic() - t0
    log = (args.work / "train.log").read_text()
    report = (args.work / "train.out").read_text()
    print(f"train: {wall:.0f} s wall, everything included", flush=True)

    best = run / "best.safetensors"
    cmd = [sys.executable, "-m", "colorgui", "evaluate", str(args.work / "unseen"), "--model",
           "spatial", "--model", str(best), "--against", "spatial", "--format", "csv"]
    print("$ " + " ".join(cmd[2:]), flush=True)
    unseen = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, check=True).stdout
    (args.work / "unseen.csv").write_text(unseen)
    rows = list(csv.DictReader(io.StringIO(unseen)))
    tuned = rows[-1]  # the gray baseline, the base model (spatial), the fine-tuned one
    assert tuned["model"] not in ("spatial", rows[0]["model"]), rows

    from model.store.checkpoint import read_header

    meta = read_header(best)[1]
    reported = reported_gain(report)
    unseen_gain, unseen_half = float(tuned["vs_against_db"]), float(tuned["vs_against_half_db"])
    result = {
        "photos": n_photos, "unseen_photos": n_unseen, "wall_seconds": round(wall),
        "holdout": meta.get("holdout"), "best": meta.get("best"), "stopped": meta.get("stopped"),
        "run_epochs": meta.get("run_epochs"), "run_steps": meta.get("run_steps"),
        "run_seconds": meta.get("run_seconds"),
        "reported": reported,
        "unseen_gain_db": unseen_gain, "unseen_half_db": unseen_half,
        "unseen_better_share": float(tuned["better_than_against"]),
        "time_left": time_left_errors(bar_updates(log)),
    }
    if reported:
        gap = abs(reported["gain_db"] - unseen_gain)
        result["unseen_within_the_reported_interval"] = gap <= reported["half_db"]
        result["reported_within_unseen_interval"] = gap <= unseen_half
    print(json.dumps(result, indent=2))
    (args.work / "result.json").write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
