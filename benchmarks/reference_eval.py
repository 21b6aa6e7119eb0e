"""Colour memory, measured: colour from a reference photo and an album's carried hints.

    python benchmarks/reference_eval.py --split eval                 # the issue's numbers
    python benchmarks/reference_eval.py --split train --limit 40     # while developing
    python benchmarks/reference_eval.py --split train --sweep        # choosing the settings

Every photo is the evaluator's ground truth (``model.training.evaluate``: 256×256, 8-bit)
and every output goes through ``Colorizer.predict``; gains are paired per photo with their
95% interval (``EvalRow.psnr_gain``). The tasks:

- **scene**: two overlapping photos of one scene made from each photo: crop A (the left
  60%, in colour) and crop B (the right 60%, mirrored and scaled by 0.85, made gray).
  B is colorized plainly and with A as its reference; also B's colourfulness / truth's.
- **person**: LFW people with two photos or more; each photo with the next photo of the
  same person as its reference: the whole photo and its central third (the face, as
  LFW's crops are aligned).
- **unrelated**: each scene photo with another photo of the set (half the list away) as
  its reference: what an unrelated reference costs.
- **memory**: 10 true hints on crop A (``model.hints.sample_hints``, seeded per photo)
  remembered by an album memory (``model.memory.album``) and carried to crop B.

``--split train`` takes the photos of the grouped validation split of
``../shared/data/train`` (``split_grouped``, 3%), ``--split eval`` those of
``../shared/data/eval``. ``--sweep`` (train only: settings are never chosen on eval)
scores a grid of matching settings and prints one line each.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
DATA = ROOT.parent / "shared" / "data"
SCENE_FOLDERS = ("imagenet_val227", "imagenet_extra")
CROP, SCALE, MEMORY_HINTS = 0.6, 0.85, 10


def scene_pair(truth: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(colour crop A, crop B's truth): A the left 60%, B the right 60% mirrored and
    scaled by 0.85."""
    h, w = truth.shape[:2]
    cw = round(CROP * w)
    a = np.ascontiguousarray(truth[:, :cw])
    b = np.ascontiguousarray(truth[:, w - cw:][:, ::-1])
    b = cv2.resize(b, (round(cw * SCALE), round(h * SCALE)), interpolation=cv2.INTER_AREA)
    from model import color

    return a, color.from_uint8(color.to_uint8(b))


def gray(rgb: np.ndarray) -> np.ndarray:
    from model import color

    return color.gray_to_rgb(color.luminance(rgb))


def centre_third(rgb: np.ndarray) -> np.ndarray:
    h, w = rgb.shape[:2]
    return rgb[h // 3: h - h // 3, w // 3: w - w // 3]


def photo_sets(split: str, limit: int | None, people_limit: int | None = None,
               folders: tuple[str, ...] = SCENE_FOLDERS):
    """(scene photo paths, LFW people: lists of two or more paths each); ``folders``: the
    training folders the scene photos of ``split`` "train" come from."""
    from model.io.files import list_images

    if split == "eval":
        scene = list_images(DATA / "eval" / "imagenet")
        lfw = list_images(DATA / "eval" / "lfw")
    else:
        from model.training.data import split_grouped

        _, val = split_grouped(list_images(DATA / "train"), 0.03)
        scene = [p for p in val if p.parent.name in folders]
        lfw = [p for p in val if p.parent.name == "lfw"]
    people: dict[str, list[Path]] = {}
    for p in lfw:
        people.setdefault(p.stem.rsplit("_", 1)[0], []).append(p)
    people_list = [sorted(v) for _, v in sorted(people.items()) if len(v) >= 2]
    if limit:
        scene = scene[:limit]
        people_list = people_list[:people_limit or max(1, limit // 2)]
    return scene, people_list


@dataclass
class Prepared:
    """The photos of every task and the model's view of each, made once."""

    scene_truth: list = field(default_factory=list)   # full photos
    a: list = field(default_factory=list)             # colour crops A
    b: list = field(default_factory=list)             # crop B's truths
    people: list = field(default_factory=list)        # per person: truths
    views: dict = field(default_factory=dict)         # key → Analysis
    plain: dict = field(default_factory=dict)         # key → plain output


def prepare(colorizer, scene_paths, people_paths) -> Prepared:
    from model import color
    from model.training.evaluate import load_ground_truth

    p = Prepared()
    p.scene_truth = load_ground_truth(scene_paths)
    for t in p.scene_truth:
        a, b = scene_pair(t)
        p.a.append(a)
        p.b.append(b)
    p.people = [load_ground_truth(paths) for paths in people_paths]
    items = ([(("full", i), t) for i, t in enumerate(p.scene_truth)]
             + [(("a", i), a) for i, a in enumerate(p.a)]
             + [(("b", i), b) for i, b in enumerate(p.b)]
             + [(("lfw", i, j), t) for i, ts in enumerate(p.people) for j, t in enumerate(ts)])
    for key, rgb in items:
        L = color.luminance(rgb)
        p.views[key] = colorizer.analyse(L)
        if key[0] != "b":  # a reference, or a remembered photo: its mirror image too
            p.views[("flip",) + key] = colorizer.analyse(np.ascontiguousarray(L[:, ::-1]))
        if key[0] != "a":
            p.plain[key] = colorizer.predict(gray(rgb)).render()
    return p


def references_of(colorizer, p: Prepared, settings) -> dict:
    """Every reference each task uses, keyed like ``Prepared.views``."""
    from model import color
    from model.memory.reference_photo import (Reference, colourfulness_of, reference_cells,
                                              working_rgb)

    strides, centre = settings["strides"], settings["centre"]

    def ref(key, rgb):
        flipped = p.views[("flip",) + key] if settings.get("mirror", True) else None
        return Reference(str(key), reference_cells(p.views[key], color.rgb_to_lab(rgb),
                                                   flipped, strides, centre),
                         colourfulness=colourfulness_of(working_rgb(rgb, colorizer)))

    out = {("a", i): ref(("a", i), a) for i, a in enumerate(p.a)}
    out.update({("full", i): ref(("full", i), t) for i, t in enumerate(p.scene_truth)})
    out.update({("lfw", i, j): ref(("lfw", i, j), t)
                for i, ts in enumerate(p.people) for j, t in enumerate(ts)})
    return out


def with_reference(colorizer, p: Prepared, refs: dict, target_key, ref_key, rgb, settings):
    from model.memory.cells import cells_of
    from model.memory.reference import match_references, scene_saturation

    target = cells_of(p.views[target_key], None, settings["strides"], settings["centre"])
    found = match_references(p.views[target_key], [refs[ref_key]], settings["strength"],
                             settings["test"], target, settings["scene_test"])
    pred = colorizer.predict(gray(rgb), found.hints)
    colourfulness = found.colourfulness if settings.get("scene_colour", True) else None
    return (pred.render(scene_saturation(pred.L, pred.ab, colourfulness, settings["strength"])),
            len(found.hints))


def run_tasks(colorizer, p: Prepared, settings, tasks) -> dict:
    """Outputs of every task at one setting; rows and numbers as a dict."""
    from model.training.evaluate import score_methods

    out = {}
    refs = references_of(colorizer, p, settings)
    if "scene" in tasks:
        res = [with_reference(colorizer, p, refs, ("b", i), ("a", i), b, settings)
               for i, b in enumerate(p.b)]
        rows = score_methods(p.b, {"plain": [p.plain[("b", i)] for i in range(len(p.b))],
                                   "reference": [r[0] for r in res]})
        out["scene"] = _gain(rows) + (rows[2].cf_ratio, rows[1].cf_ratio,
                                      float(np.median([r[1] for r in res])))
    if "person" in tasks:
        truths, plain, refd, counts = [], [], [], []
        for i, ts in enumerate(p.people):
            for j, t in enumerate(ts):
                o, n = with_reference(colorizer, p, refs, ("lfw", i, j),
                                      ("lfw", i, (j + 1) % len(ts)), t, settings)
                truths.append(t)
                plain.append(p.plain[("lfw", i, j)])
                refd.append(o)
                counts.append(n)
        whole = score_methods(truths, {"plain": plain, "reference": refd})
        face = score_methods([centre_third(t) for t in truths],
                             {"plain": [centre_third(o) for o in plain],
                              "reference": [centre_third(o) for o in refd]})
        out["person"] = _gain(whole) + _gain(face) + (float(np.median(counts)),)
    if "unrelated" in tasks:
        n = len(p.scene_truth)
        res = [with_reference(colorizer, p, refs, ("full", i), ("full", (i + n // 2) % n), t,
                              settings) for i, t in enumerate(p.scene_truth)]
        rows = score_methods(p.scene_truth, {"plain": [p.plain[("full", i)] for i in range(n)],
                                             "reference": [r[0] for r in res]})
        out["unrelated"] = _gain(rows) + (float(np.median([r[1] for r in res])),)
    if "memory" in tasks:
        out["memory"] = memory_task(colorizer, p, settings)
    return out


def memory_task(colorizer, p: Prepared, settings) -> tuple:
    """10 true hints on A, remembered and carried to B."""
    from model import color
    from model.hints import sample_hints
    from model.memory.carry import ALBUM_TEST, carried_hints, remembered
    from model.memory.cells import cells_of
    from model.training.evaluate import score_methods

    outs, counts = [], []
    test = settings.get("album_test", ALBUM_TEST)
    for i, (a, b) in enumerate(zip(p.a, p.b)):
        rng = np.random.default_rng(1000 + i)
        ab = color.normalise_ab(color.rgb_to_lab(a)[..., 1:]).transpose(2, 0, 1)
        hints = sample_hints(ab, rng, MEMORY_HINTS)
        flipped = p.views[("flip", "a", i)] if settings.get("mirror", True) else None
        source = remembered(p.views[("a", i)], hints, "A", strides=settings["strides"],
                            centre=settings["centre"], flipped=flipped)
        target = cells_of(p.views[("b", i)], None, settings["strides"], settings["centre"])
        carried = carried_hints(target, [source], test, settings.get("own_colour", True))
        counts.append(len(carried))
        outs.append(colorizer.predict(gray(b), carried).render())
    rows = score_methods(p.b, {"plain": [p.plain[("b", i)] for i in range(len(p.b))],
                               "memory": outs})
    return _gain(rows) + (float(np.median(counts)),)


def _gain(rows) -> tuple[float, float]:
    return rows[2].psnr_gain(rows[1])


def default_settings() -> dict:
    from model.memory.carry import ALBUM_TEST
    from model.memory.reference import DEFAULT_STRENGTH, REFERENCE_TEST, SCENE_TEST

    return {"strides": "8+16", "centre": True, "strength": DEFAULT_STRENGTH,
            "test": REFERENCE_TEST, "album_test": ALBUM_TEST, "scene_test": SCENE_TEST}


def describe(out: dict) -> list[str]:
    lines = []
    if "scene" in out:
        g, h, cf, cf0, n = out["scene"]
        lines.append(f"scene: B with A as reference {g:+.2f} ± {h:.2f} dB over plain B; "
                     f"colourfulness {cf:.0%} of the truth's (plain {cf0:.0%}); "
                     f"median {n:.0f} matched hints")
    if "person" in out:
        g, h, fg, fh, n = out["person"]
        lines.append(f"person: whole photo {g:+.2f} ± {h:.2f} dB, central third {fg:+.2f} ± "
                     f"{fh:.2f} dB; median {n:.0f} matched hints")
    if "unrelated" in out:
        g, h, n = out["unrelated"]
        lines.append(f"unrelated: {g:+.2f} ± {h:.2f} dB; median {n:.0f} matched hints")
    if "memory" in out:
        g, h, n = out["memory"]
        lines.append(f"memory: 10 true hints on A carried to B {g:+.2f} ± {h:.2f} dB; "
                     f"median {n:.0f} carried hints")
    return lines


def parse_grid(words: list[str]) -> dict:
    """["similarity=0.6,0.7", "strength=0.5,1"] → {"similarity": [0.6, 0.7], ...}."""
    grid = {}
    for word in words:
        key, _, values = word.partition("=")
        grid[key] = [v if key == "strides" else float(v) for v in values.split(",")]
    return grid


# the settings of a run; the rest are MatchTest's
SETTINGS = ("strides", "centre", "strength", "mirror", "own_colour", "scene_colour")
SWITCHES = ("centre", "mirror", "own_colour", "scene_colour")


def sweep(colorizer, p: Prepared, base: dict, tasks, grid: dict) -> None:
    """Score a grid of settings, one line each (train photos only). ``album_*`` keys
    change the album's test, ``scene_*`` keys the test a dense reference is matched again
    under (``scene_dense_share=0``: never matched again); ``scene_colour=0`` leaves the
    photo at the model's colourfulness whatever its references say (its own scene's, or
    matches far bolder than the model's); ``pale_from``, ``pale_full``, ``pale_share`` and
    ``pale_max`` set ``paler_than``'s (``pale_from=99``: never)."""
    keys = list(grid)
    for values in itertools.product(*(grid[k] for k in keys)):
        change = dict(zip(keys, values))
        settings = dict(base)
        for k, v in change.items():
            if k in SETTINGS:
                settings[k] = bool(v) if k in SWITCHES else v
            elif k.startswith("album_"):
                settings["album_test"] = replace(settings["album_test"], **{k[6:]: v})
            elif k == "scene_dense_share" and not v:
                settings["scene_test"] = None
            elif k.startswith("scene_"):
                settings["scene_test"] = replace(settings["scene_test"], **{k[6:]: v})
            elif k.startswith("pale_"):  # module settings of paler_than (PALE_FROM, ...)
                import model.memory.reference as reference

                setattr(reference, k.upper(), v)
            else:
                settings["test"] = replace(settings["test"], **{k: v})
        t0 = time.time()
        out = run_tasks(colorizer, p, settings, tasks)
        print(f"{change} ({time.time() - t0:.0f} s)", flush=True)
        for line in describe(out):
            print("   ", line, flush=True)


def speed(colorizer, runs: int = 5) -> list[str]:
    """What matching against one reference adds to colorizing a 1 MP photo (1280×800):
    the reference read and analysed once (as a batch or the app keeps it), then per photo
    the photo's analysis, the matching, the spreading of the matched hints and the
    saturation that matches the reference's colourfulness (it shows the scene); medians of
    ``runs`` against plain ``Colorizer.predict`` on the same photo."""
    import tempfile

    from skimage import data

    from model import color
    from model.io.imageio import write_photo
    from model.memory.recall import Recall

    big = lambda rgb: cv2.resize(color.from_uint8(rgb), (1280, 800),  # noqa: E731
                                 interpolation=cv2.INTER_CUBIC)
    photo = gray(big(data.astronaut()))
    with tempfile.TemporaryDirectory() as tmp:
        ref_path = Path(tmp) / "reference.png"
        write_photo(ref_path, big(data.astronaut()[:, ::-1]))
        recall = Recall(colorizer)
        t0 = time.perf_counter()
        recall.reference(ref_path)
        load = time.perf_counter() - t0
        plain, matched, n = [], [], 0
        for i in range(2 * runs):
            # each call a photo of its own (one pixel apart), so none finds the network's
            # colours of the call before kept (the colorizer keeps the photo in view's)
            one = photo.copy()
            one[0, 0] = (i + 1) / 255.0
            t0 = time.perf_counter()
            if i % 2 == 0:
                colorizer.predict(one)
                plain.append(time.perf_counter() - t0)
            else:
                recalled = recall.recall("photo.png", color.luminance(one),
                                         references=[ref_path])
                pred = colorizer.predict(one, recalled.hints)
                recalled.saturation(pred.L, pred.ab)  # the reference shows its scene
                matched.append(time.perf_counter() - t0)
                n = len(recalled.hints)
    p, m = float(np.median(plain)), float(np.median(matched))
    return [f"speed (1280×800, {runs} runs, medians): plain {p:.2f} s, with one reference "
            f"{m:.2f} s ({n} matched hints): adds {m - p:.2f} s; reading and analysing the "
            f"reference once: {load:.2f} s"]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--split", choices=("train", "eval"), required=True)
    ap.add_argument("--limit", type=int, help="at most this many scene photos (and half as "
                                              "many LFW people)")
    ap.add_argument("--people", type=int, help="at most this many LFW people (with --limit)")
    ap.add_argument("--cache", type=Path, help="keep the prepared photos and analyses in this "
                                               "file (pickle) and reuse them (development)")
    ap.add_argument("--tasks", nargs="+", default=["scene", "person", "unrelated", "memory"],
                    choices=("scene", "person", "unrelated", "memory"))
    ap.add_argument("--strength", type=float, help="the reference's strength (default: the app's)")
    ap.add_argument("--sweep", nargs="+", metavar="KEY=V1,V2",
                    help="score a grid of settings (train only), e.g. similarity=0.6,0.7 "
                         "lightness=4,6 strength=0.5,1 album_similarity=0.7,0.8 "
                         "scene_similarity=0.3,0.4")
    ap.add_argument("--folders", nargs="+", default=list(SCENE_FOLDERS),
                    help="with --split train: the training folders the scene photos come "
                         "from (the bundled model never saw camvid, dogs_vs_cats, "
                         "food101_subset and oxford_pets_sample: its card lists its folders)")
    ap.add_argument("--model", type=Path, help="a checkpoint (default: the bundled model)")
    ap.add_argument("--speed", action="store_true", help="only time the matching on a 1 MP photo")
    args = ap.parse_args(argv)
    if args.sweep is not None and args.split != "train":
        ap.error("settings are chosen on training photos only: --sweep needs --split train")

    from model.colorizer import Colorizer

    colorizer = Colorizer(args.model, device="cpu")
    if args.speed:
        print("\n".join(speed(colorizer)))
        return 0
    scene, people = photo_sets(args.split, args.limit, args.people, tuple(args.folders))
    t0 = time.time()
    if args.cache and args.cache.is_file():
        import pickle

        p = pickle.loads(args.cache.read_bytes())
    else:
        p = prepare(colorizer, scene, people)
        if args.cache:
            import pickle

            args.cache.write_bytes(pickle.dumps(p))
    print(f"{args.split}: {len(p.b)} scene photos, {len(p.people)} people "
          f"({sum(map(len, p.people))} photos); prepared in {time.time() - t0:.0f} s",
          flush=True)
    settings = default_settings()
    if args.strength is not None:
        settings["strength"] = args.strength
    if args.sweep is not None:
        sweep(colorizer, p, settings, args.tasks, parse_grid(args.sweep))
        return 0
    t0 = time.time()
    out = run_tasks(colorizer, p, settings, args.tasks)
    for line in describe(out):
        print(line)
    print(f"({time.time() - t0:.0f} s)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
