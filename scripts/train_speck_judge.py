"""Train the speck judge (``model.album.dust.SpeckJudge``) and write its trees.

Each photo is made black and white, brought to a scan's size (``--scan-side``) and
given dust specks (``model.album.ageing.damaged``, no scratches; each as opaque as drawn from
``--opacity``, so that the judge sees faint grey dust too, not only the benchmark's
nearly opaque specks) and a scanner's noise, half of them saved as JPEG; every candidate
``dust.speck_candidates`` finds on it is dust where it covers a drawn speck, and every
candidate on the same photo without dust (noise only) is not. Boosted trees
(scikit-learn's ``HistGradientBoostingClassifier``, which only this script needs: ``pip
install -e '.[train-judge]'``) learn which is which from the candidates' ``dust.FEATURES``.

    python scripts/train_speck_judge.py --photos ../shared/data/train BSDS500/data/images/train

The bundled judge was trained so: 400 train photos (most of them thumbnails, blown up to
a scan's size) and the 200 originals of BSDS500's train split (github.com/BIDS/BSDS500,
481×321: sharp detail at a scan's size, which the thumbnails lack), never committed.

The photos are drawn with their own seed (``--seed`` 7), leaving out those
``benchmarks/restore_eval.py`` tunes on (its default draw of train photos); eval/ is
never read.
"""

from __future__ import annotations

import argparse
import itertools
import json
import multiprocessing
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import cv2  # noqa: E402
import numpy as np  # noqa: E402
from tqdm import tqdm  # noqa: E402

from benchmarks.restore_eval import load, scanned  # noqa: E402
from model.album import dust  # noqa: E402
from model.album.ageing import damaged  # noqa: E402

TRAIN = ROOT.parent / "shared" / "data" / "train"
# half the scans are saved as JPEG (quality 70-95), as many are: no noise can be measured
# on them, and the judge must know such photos too
JPEG_SHARE, JPEG_QUALITY = 0.5, (70, 96)
TUNING_SEED, TUNING_LIMIT = 27, 450  # restore_eval.py's defaults: the photos it tunes on


def candidates(rgb: np.ndarray, specks: np.ndarray | None):
    """(features, is dust, weight) of every candidate on a photo; ``specks``: the drawn
    dust. A candidate weighs the square root of what hangs on it: for dust, the drawn
    pixels its marks cover; for anything else, the squared contrast its marks would lose
    (their count times its contrast squared)."""
    found = dust.candidates_on(rgb)
    X = np.zeros((len(found), len(dust.FEATURES)), np.float32)
    y = np.zeros(len(found), bool)
    weight = np.zeros(len(found), np.float32)
    contrast = dust.FEATURES.index("contrast")
    for i, c in enumerate(found):
        X[i] = c.features
        h, w = c.own.shape
        marks = dust._grown(c.marks, dust.GROW) > 0
        drawn = None if specks is None else specks[c.y0:c.y0 + h, c.x0:c.x0 + w]
        y[i] = drawn is not None and bool(drawn[c.own].any())
        weight[i] = (float(drawn[marks].sum()) if y[i]
                     else float(marks.sum()) * float(c.features[contrast]) ** 2)
    return X, y, np.sqrt(np.maximum(weight, 1.0))


def photo_candidates(task):
    """The candidates of one photo (gray float RGB), damaged and not; its own random
    draws (``seed``, its number), so that any number of processes gives the same."""
    original, seed, number, scan_side, opacity = task
    rng = np.random.default_rng([seed, number])
    lo, hi = scan_side  # (a fixed side draws nothing)
    scale = (int(rng.integers(lo, hi + 1)) if lo < hi else lo) / max(original.shape[:2])
    original = np.clip(cv2.resize(original, None, fx=scale, fy=scale,
                                  interpolation=cv2.INTER_CUBIC), 0, 1)
    hurt, specks = damaged(original, rng, scratches=0, opacity=opacity)
    scans = [scanned(hurt, rng), scanned(original, rng)]
    if rng.random() < JPEG_SHARE:
        quality = int(rng.integers(*JPEG_QUALITY))
        scans = [as_jpeg(scan, quality) for scan in scans]
    parts = [candidates(scans[0], specks), candidates(scans[1], None)]
    return tuple(np.concatenate(p) for p in zip(*parts))


def as_jpeg(rgb: np.ndarray, quality: int) -> np.ndarray:
    """A scan as saved as a JPEG: its noise smoothed away (``dust.noise_level`` reads 0)."""
    _, data = cv2.imencode(".jpg", np.rint(rgb * 255).astype(np.uint8),
                           [cv2.IMWRITE_JPEG_QUALITY, quality])
    return cv2.imdecode(data, cv2.IMREAD_UNCHANGED).astype(np.float32) / 255


def gather(folders: list[Path], limit: int, seed: int, scan_side, opacity, jobs: int):
    """Every candidate on ``limit`` photos of each folder, damaged and not, leaving out
    the photos ``benchmarks/restore_eval.py`` tunes on (its default draw)."""
    tuning = {path.resolve() for path, _ in load(TRAIN, TUNING_LIMIT, TUNING_SEED)}

    def tasks():
        number = 0
        for folder in folders:
            photos = ((p, rgb) for p, rgb in load(folder, limit + len(tuning), seed)
                      if p.resolve() not in tuning)
            for _, original in itertools.islice(photos, limit):
                yield original, seed, number, scan_side, opacity
                number += 1

    with multiprocessing.Pool(jobs) as pool:
        parts = list(tqdm(pool.imap(photo_candidates, tasks()), unit="photo"))
    return tuple(np.concatenate(p) for p in zip(*parts))


def export(model) -> dict:
    """The fitted trees as ``SpeckJudge`` reads them."""
    trees = []
    for (tree,) in model._predictors:  # one tree per iteration (two classes)
        nodes = tree.nodes
        trees.append({"feature": nodes["feature_idx"].tolist(),
                      # exact: a feature can lie between a threshold and its rounding
                      "threshold": nodes["num_threshold"].tolist(),
                      "left": nodes["left"].tolist(), "right": nodes["right"].tolist(),
                      "leaf": nodes["is_leaf"].astype(int).tolist(),
                      "value": nodes["value"].tolist()})
    return {"version": 1, "features": list(dust.FEATURES),
            "baseline": float(np.ravel(model._baseline_prediction)[0]), "trees": trees}


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--photos", type=Path, nargs="+", default=[TRAIN])
    ap.add_argument("--limit", type=int, default=400, help="photos per folder")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--scan-side", type=int, nargs=2, default=(1000, 1000),
                    help="the range each photo's long side is drawn from (a scan's size)")
    ap.add_argument("--opacity", type=float, nargs=2, default=(0.15, 0.9),
                    help="the range each speck's opacity is drawn from")
    ap.add_argument("--iterations", type=int, default=200)
    ap.add_argument("--leaves", type=int, default=15)
    ap.add_argument("--jobs", type=int, default=multiprocessing.cpu_count())
    ap.add_argument("--candidates", type=Path,
                    help="keep the candidates gathered in this file (.npz), or reuse them")
    ap.add_argument("-o", "--out", type=Path, default=dust.JUDGE_FILE)
    args = ap.parse_args(argv)
    from sklearn.ensemble import HistGradientBoostingClassifier

    t0 = time.time()
    if args.candidates and args.candidates.is_file():
        with np.load(args.candidates) as kept:
            X, y, weight = kept["X"], kept["y"], kept["weight"]
    else:
        X, y, weight = gather(args.photos, args.limit, args.seed, args.scan_side,
                              tuple(args.opacity), args.jobs)
        if args.candidates:
            np.savez(args.candidates, X=X, y=y, weight=weight)
    print(f"{len(y)} candidates, {int(y.sum())} of them dust ({time.time() - t0:.0f} s)")
    model = HistGradientBoostingClassifier(max_iter=args.iterations, learning_rate=0.1,
                                           max_leaf_nodes=args.leaves, random_state=0)
    model.fit(X, y, sample_weight=weight)
    data = export(model)
    ours = dust.SpeckJudge(data).probability(X[:2000])
    if not np.allclose(ours, model.predict_proba(X[:2000])[:, 1], atol=1e-5):
        raise SystemExit("the exported trees do not give scikit-learn's probabilities")
    args.out.write_text(json.dumps(data, separators=(",", ":")) + "\n", encoding="utf-8")
    print(f"wrote {args.out} ({len(data['trees'])} trees)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
