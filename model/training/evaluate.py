"""One evaluator for every model and baseline (DESIGN.md's metrics).

Every photo is resized to 256×256 and quantised to 8 bits: that is the ground truth.
The model sees only its luminance. PSNR, SSIM and MAE compare 8-bit RGB; RMSE compares
the normalised a/b channels (the paper's unit, a/b / 128); colourfulness is Hasler &
Süsstrunk's M on 8-bit RGB, and ΔCF = |mean CF(outputs) − mean CF(ground truth)|.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass, field
from typing import Callable

import cv2
import numpy as np
from skimage.metrics import structural_similarity

from model import color
from model.color import colourfulness
from model.io.files import list_images
from model.io.imageio import ImageReadError, read_photo

log = logging.getLogger(__name__)
EVAL_SIZE = 256


def psnr(a8: np.ndarray, b8: np.ndarray) -> float:
    mse = np.mean((a8.astype(np.float64) - b8.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else float(10 * np.log10(255.0**2 / mse))


def image_metrics(pred8: np.ndarray, truth8: np.ndarray) -> dict[str, float]:
    ab_p = color.rgb_to_lab(color.from_uint8(pred8))[..., 1:] / color.AB_SCALE
    ab_t = color.rgb_to_lab(color.from_uint8(truth8))[..., 1:] / color.AB_SCALE
    return {
        "psnr": psnr(pred8, truth8),
        "rmse_ab": float(np.sqrt(np.mean((ab_p - ab_t) ** 2))),
        "ssim": float(structural_similarity(pred8, truth8, channel_axis=2, data_range=255)),
        "mae": float(np.mean(np.abs(pred8.astype(np.float64) - truth8.astype(np.float64)))),
        "cf": colourfulness(pred8),
        "cf_truth": colourfulness(truth8),
    }


@dataclass
class EvalRow:
    name: str
    n: int
    psnr: float
    rmse_ab: float
    ssim: float
    mae: float
    cf: float
    cf_truth: float
    psnr_each: tuple[float, ...] = field(default=(), repr=False)  # per photo, in order

    @property
    def delta_cf(self) -> float:
        return abs(self.cf - self.cf_truth)

    @property
    def cf_ratio(self) -> float:
        return self.cf / self.cf_truth if self.cf_truth else float("nan")

    def psnr_gain(self, base: "EvalRow") -> tuple[float, float]:
        """Mean per-photo PSNR gain over ``base`` (same photos) and its 95% confidence
        half-width (Student's t: a fine-tune judges on a handful of photos, where 1.96
        made the interval up to 6× too narrow): a gain is measurable when it exceeds the
        half-width."""
        from scipy.stats import t

        d = np.asarray(self.psnr_each) - np.asarray(base.psnr_each)
        d = d[np.isfinite(d)]  # a photo reproduced exactly (a gray one) has no finite gain
        n = len(d)
        half = t.ppf(0.975, n - 1) * d.std(ddof=1) / np.sqrt(n) if n > 1 else float("nan")
        return (float(d.mean()) if n else float("nan")), float(half)

    def better_than(self, base: "EvalRow") -> tuple[int, int]:
        """(on how many photos this row's PSNR beats ``base``'s, of how many)."""
        mine, theirs = np.asarray(self.psnr_each), np.asarray(base.psnr_each)
        if len(mine) != len(theirs):
            return 0, 0
        return int(np.sum(mine > theirs)), len(mine)


def load_ground_truth(source, limit: int | None = None, colour_only: bool = False
                      ) -> list[np.ndarray]:
    """Every readable photo of a folder (or of a list of paths), the first ``limit`` of
    them, as 256×256 float RGB, 8-bit quantised; ``colour_only``: black-and-white ones
    are left out (said in the log), as they hold no colour to compare with."""
    paths = list_images(source) if isinstance(source, (str, os.PathLike)) else list(source)
    out = []
    for path in paths:
        if limit is not None and len(out) >= limit:  # photos scored, not files tried
            break
        try:
            photo = read_photo(path)
        except ImageReadError as exc:
            log.warning("skipping %s", exc)
            continue
        if colour_only and photo.is_gray:
            log.warning("skipping %s: black and white, no colour to compare with", path)
            continue
        small = cv2.resize(photo.rgb, (EVAL_SIZE, EVAL_SIZE), interpolation=cv2.INTER_AREA)
        out.append(color.from_uint8(color.to_uint8(small)))
    return out


def gray_baseline(rgbs: list[np.ndarray]) -> list[np.ndarray]:
    """L with a = b = 0."""
    return [color.gray_to_rgb(color.luminance(x)) for x in rgbs]


def score(name: str, truths: list[np.ndarray], outputs: list[np.ndarray]) -> EvalRow:
    ms = [image_metrics(color.to_uint8(o), color.to_uint8(t)) for o, t in zip(outputs, truths)]
    mean = {k: float(np.mean([m[k] for m in ms])) for k in ms[0]}
    return EvalRow(name, len(ms), **mean, psnr_each=tuple(m["psnr"] for m in ms))


GRAY_BASELINE = "gray baseline (a=b=0)"


def score_methods(truths: list[np.ndarray], outputs: dict[str, list[np.ndarray]]) -> list[EvalRow]:
    """Rows for the gray baseline and for each method's outputs on the same photos."""
    rows = [score(GRAY_BASELINE, truths, gray_baseline(truths))]
    return rows + [score(name, truths, out) for name, out in outputs.items()]


def evaluate(source, methods: dict[str, Callable[[list[np.ndarray]], list[np.ndarray]]],
             limit: int | None = None, colour_only: bool = False) -> list[EvalRow]:
    """Score each method (a function from 256×256 RGB photos to colorized RGB) on a folder
    or a list of photo paths, always with the gray baseline first. Raises ValueError
    where no photo can be scored."""
    truths = load_ground_truth(source, limit, colour_only)
    if not truths:
        raise ValueError(f"no readable {'colour ' if colour_only else ''}photos in {source}")
    return score_methods(truths, {name: fn(truths) for name, fn in methods.items()})


def colorizer_method(colorizer, batch: int = 16, hints: int = 0, seed: int = 0,
                     vivid: float | None = None, spread_hints: bool = True,
                     done: Callable[[int], object] | None = None
                     ) -> Callable[[list[np.ndarray]], list[np.ndarray]]:
    """Colorize with ``colorizer``; ``hints`` > 0 gives it that many hints per photo taken
    from the ground truth (``model.hints.sample_hints``, the same for every model), spread
    over their regions or, with ``spread_hints=False``, through the network's hint
    channels only; ``vivid``: the vivid setting of this run (None: the colorizer's own), so
    one loaded model serves every setting; ``done(n)`` after each ``n`` photos (a bar)."""
    from model.hints import sample_hints

    def run(rgbs: list[np.ndarray]) -> list[np.ndarray]:
        given = None
        if hints:
            rng = np.random.default_rng(seed)
            given = [sample_hints(color.normalise_ab(color.rgb_to_lab(x)[..., 1:]).transpose(2, 0, 1),
                                  rng, hints) for x in rgbs]
        if hints:
            colorizer.spread_hints = spread_hints
        try:
            out = []
            for i in range(0, len(rgbs), batch):
                chunk = None if given is None else given[i:i + batch]
                out += [p.render() for p in colorizer.predict_many(rgbs[i:i + batch], chunk, vivid)]
                if done is not None:
                    done(len(rgbs[i:i + batch]))
            return out
        finally:
            if hints:
                colorizer.spread_hints = True

    return run


def _paired(r: EvalRow, base: EvalRow) -> tuple[float, float, int, int] | None:
    """(mean PSNR gain, its 95% half-width, photos better, photos) of ``r`` over ``base``
    on the same photos, or None where there is no pair to speak of."""
    if r is base or len(r.psnr_each) != len(base.psnr_each) or len(base.psnr_each) < 2:
        return None
    return (*r.psnr_gain(base), *r.better_than(base))


def format_table(rows: list[EvalRow], title: str | None = None,
                 reference: EvalRow | None = None) -> str:
    """Markdown table; the first row is the baseline that ``vs gray`` (mean per-photo PSNR
    gain ± its 95% confidence half-width) is measured against, and ``reference`` (another
    row) gets a paired ``vs`` column of its own and the share of photos each row improved."""
    def gain(r: EvalRow, base: EvalRow) -> str:
        pair = _paired(r, base)
        return "" if pair is None else "{:+.2f} ± {:.2f}".format(*pair[:2])

    def better(r: EvalRow) -> str:
        pair = _paired(r, reference)
        return "" if pair is None else f"{pair[2]}/{pair[3]} ({pair[2] / pair[3]:.0%})"

    ref_head, ref_rule = ((f" vs {reference.name} dB | better than {reference.name} |",
                           "---:|---:|") if reference else ("", ""))
    lines = [f"**{title}**", ""] if title else []
    lines += [f"| model | photos | PSNR dB | vs gray dB |{ref_head} RMSE a/b | SSIM | MAE | CF | "
              f"CF / truth | ΔCF |",
              f"|---|---:|---:|---:|{ref_rule}---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        ref = f" {gain(r, reference)} | {better(r)} |" if reference else ""
        lines.append(f"| {r.name} | {r.n} | {r.psnr:.2f} | {gain(r, rows[0])} |{ref} {r.rmse_ab:.4f} | "
                     f"{r.ssim:.4f} | {r.mae:.2f} | {r.cf:.1f} | {r.cf_ratio:.0%} | {r.delta_cf:.1f} |")
    if rows:
        lines.append(f"| ground truth | {rows[0].n} | | |{' | |' if reference else ''} | | | "
                     f"{rows[0].cf_truth:.1f} | 100% | 0.0 |")
    return "\n".join(lines)


CSV_COLUMNS = ("source", "model", "photos", "psnr_db", "vs_gray_db", "vs_gray_half_db",
               "against", "vs_against_db", "vs_against_half_db", "better_than_against",
               "rmse_ab", "ssim", "mae", "cf", "cf_ratio", "delta_cf")


def csv_rows(rows: list[EvalRow], source: str = "", reference: EvalRow | None = None) -> list[dict]:
    """``format_table``'s numbers as rows of ``CSV_COLUMNS`` (unrounded; empty where a
    pair does not apply), for ``csv.DictWriter``."""
    out = []
    for r in rows:
        vs_gray = _paired(r, rows[0])
        vs_ref = _paired(r, reference) if reference is not None else None
        out.append({"source": source, "model": r.name, "photos": r.n, "psnr_db": r.psnr,
                    "vs_gray_db": vs_gray[0] if vs_gray else "",
                    "vs_gray_half_db": vs_gray[1] if vs_gray else "",
                    "against": reference.name if reference is not None else "",
                    "vs_against_db": vs_ref[0] if vs_ref else "",
                    "vs_against_half_db": vs_ref[1] if vs_ref else "",
                    "better_than_against": vs_ref[2] / vs_ref[3] if vs_ref else "",
                    "rmse_ab": r.rmse_ab, "ssim": r.ssim, "mae": r.mae, "cf": r.cf,
                    "cf_ratio": r.cf_ratio, "delta_cf": r.delta_cf})
    return out


def model_names(paths: list[os.PathLike | str], known: dict | None = None) -> list[str]:
    """A name per model file for a table: the name ``known`` gives it (path → name: the
    bundled models' short names, the user's models' names), else its file name; where
    names clash, as much of each path as tells them apart."""
    from model.io.files import distinct_names

    return distinct_names(paths, known)
