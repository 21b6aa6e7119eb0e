"""Colour from a reference photo: the colour photos a user owns of the same people and
places lend their colours to a black-and-white photo.

Both photos are seen by the spatial model's backbone (the reference taken to gray first,
so both are seen alike) and cut into stride-8 cells (``model.memory.cells``). A cell of
the black-and-white photo takes the colour of its best match in the reference only when
the match is confident:

- mutual: the reference cell's best match in the photo is that cell or its neighbour;
- similar enough: cosine similarity of the descriptors at least ``similarity``;
- unambiguous in colour (a ratio test, after Lowe): the best match that holds *another*
  colour (``colour_apart`` a/b units away) must be clearly worse, its cosine distance
  at least 1/``ratio`` times the best's. Many cells of one sky match equally well, and
  that is no doubt about the sky's colour, so the test asks about colour, not place;
- a reference cell of one colour (a/b spread under ``cell_spread``), not an edge;
- the same lightness (|ΔL| under ``lightness``): the same thing in the same light.

The reference's mirror image is matched too (``reference_photo.reference_cells``). Each
confident match becomes a hint (``model.hints.REFERENCE``) at the cell's centre, spread
over its region as the user's hints are (``model.propagate``, inside
``Colorizer.predict``). Its colour goes from the model's there toward the reference's by
``strength`` (0..1) times a weight that rises with the match's similarity (``trust_low``
to ``trust_high``), up to ``trust_max`` for a reference that matches little of the photo
(rising with the share matched, from ``trust_share`` to ``dense_share``): two photos of
one person taken apart differ in light, and their colours only nudge the model's. A
reference that matches a large share of the photo (``dense_share``) shows the same scene,
and so does one that matches less (``trust_share``) in the same light (``same_light``:
where its cells match, whatever their lightness, they are as light as the photo's): its
cells are matched again under a looser test (``SCENE_TEST``), and its colours are taken at
full strength. Such a reference also says how colourful the scene is: the photo is brought
to its colourfulness (``scene_saturation``), as the part of the photo the reference does
not show keeps the model's colours, which are paler than life. A reference that matches
less can still say so: where the model's colours at its matches are far paler than the
reference's (``paler_than``), the photo is brought toward that many times its own
colourfulness.

The settings were chosen on training photos only (``benchmarks/reference_eval.py
--split train``: the grouped validation split of the project's training photos); the numbers
that decided them are in ``REFERENCE_TEST``'s comment.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from model import color
from model.hints import REFERENCE, Hint
from model.memory.cells import Cells, cells_of
from model.memory.reference_photo import MIN_CHROMA, Reference, colourfulness_of


@dataclass(frozen=True)
class MatchTest:
    """When a match between two photos' cells counts as confident."""

    similarity: float = 0.5      # cosine similarity, at least
    ratio: float = 0.8           # best distance / distance of the best of another colour
    colour_apart: float = 12.0   # a/b distance (Lab units) that makes "another colour"
    mutual: int = 1              # the reference cell's best match: within this many cells
    cell_spread: float = 12.0    # a/b standard deviation inside the reference cell, at most
    lightness: float = 6.0       # |ΔL| between the two cells (L 0..100), at most
    hint_size: float = 1.0       # a hint's side, in cells
    min_share: float = 0.0       # fewer matches than this share of the photo's cells: none
    # a match's weight rises with its similarity, from 0 at ``trust_low`` to the full
    # strength at ``trust_high`` (trust_high <= trust_low: every match at full strength)
    trust_low: float = 0.0
    trust_high: float = 0.0
    # the most such a match weighs (times the strength) where the matches cover at most
    # ``trust_share`` of the photo's cells, rising to the whole strength at ``dense_share``
    trust_max: float = 1.0
    trust_share: float = 0.0
    # matches on at least this share of the photo's cells say it is the reference's own
    # scene: every match at full strength (0: never)
    dense_share: float = 0.0
    # a reference that matches at least ``trust_share`` of the photo's cells, and whose
    # mutual similar cells (at any lightness) differ from the photo's by at most this median
    # |ΔL| (``lightness_gap``), shows the photo's own scene in the same light: as if dense
    # (0: never)
    same_light: float = 0.0


# chosen on training photos (benchmarks/reference_eval.py --split train: 30 same-scene
# pairs, 88 photos of 44 LFW people, 30 unrelated pairs of the grouped validation split):
# |ΔL| <= 4 and similarity >= 0.6 leave an unrelated reference no match in most photos
# (-0.00 ± 0.00 dB); the similarity ramp from 0.45 to 0.8 keeps two photos of one person
# from costing anything (+0.02 ± 0.17 dB; at full weight and |ΔL| <= 6: -0.27 ± 0.25)
# while the same scene gains +3.14 ± 0.69 dB (+4.50 ± 1.15 at full weight), its
# colourfulness at 85% of the truth's (as plain); matching the reference's mirror image
# too raised the same scene from +2.01 ± 0.58 to +2.78 ± 0.57 dB (ramp 0.4-0.9, |ΔL| <= 6);
# half-cell hints: +0.15 dB on 8 people's faces against whole-cell ones. A reference
# that matches a fifth of the photo's cells is of its scene and lends its colours at full
# strength (64 same-scene pairs +3.58 ± 0.53 → +4.42 ± 0.78 dB; 44 people's whole photo
# +0.02 → -0.01 dB, their faces -0.32 → -0.34; a share of 0.15: +4.63, people -0.02)
# A reference that matches little of the photo weighs at most 0.3 of the strength, rising
# from a tenth of its cells matched to the whole at the dense fifth: the reference's face
# colour in another photo of the same person, in another light, lay further from the truth
# than the model's (mean a/b distance on the face 9.1 against 7.1 Lab units, 165 photos of
# 44 people). People's faces went -0.42 ± 0.40 → +0.07 ± 0.25 dB, their whole photos
# +0.05 → +0.21 dB, at a cost to the same scene's pairs that match less than a fifth
# (+4.99 → +4.60 dB over all 64; a flat cap of 0.3: +4.27, the cap rising from 0.05:
# +4.71 with faces +0.04, from 0.15: +4.45 with faces +0.08; a stricter ramp instead,
# full weight only at similarity 1.0: faces -0.07)
# A reference in the same light as the photo, matching a tenth of its cells, is of its
# scene too (``same_light``): a colour print of the same negative, a photo taken moments
# apart. Two photos of one person taken on other days differ in light where they match
# (grouped validation split: of the people's pairs matching a tenth, 3 of 58 had a median
# |ΔL| <= 4, of the same-scene pairs under the dense fifth and not raised by
# ``paler_than`` 12 of 16). Same scene +4.70 ± 1.09 → +5.36 ± 1.10 dB and 93 → 101% of
# the truth's colourfulness; people's whole photos +0.20 dB and their faces +0.07 dB as
# before (at 3.5: +5.23 dB, 98%; 4.5 and 5: +5.43 dB, people as before); on 118 scene
# photos of the four folders the model never saw +2.72 → +3.16 dB, 88 → 95%. Without
# leaving out black and white (``LIGHT_ENDS``) a print's black border made one person's
# photo pass, its face -12 dB
REFERENCE_TEST = MatchTest(similarity=0.6, ratio=0.8, colour_apart=12.0, mutual=1,
                           cell_spread=12.0, lightness=4.0, hint_size=0.5,
                           trust_low=0.45, trust_high=0.8, trust_max=0.3, trust_share=0.1,
                           dense_share=0.2, same_light=4.0)
# a reference that passed REFERENCE_TEST on a fifth of the photo's cells is of its scene,
# and its cells are matched again under this looser test: what the stricter one left out
# (a lighter patch of the same wall, a sky cell a little less like its match) is the same
# scene too. On 64 same-scene pairs of training photos, median 126 → 232 matches, +4.85 ±
# 0.79 → +5.60 ± 0.97 dB with the colourfulness at 81 → 82% of the truth's; looser still
# (similarity 0.3, |ΔL| <= 10, no ratio test) +5.65 dB for 290 matches. People and unrelated
# references are not dense, so they are unchanged
SCENE_TEST = replace(REFERENCE_TEST, similarity=0.4, lightness=8.0, ratio=0.9, cell_spread=16.0)
# A reference that matches less than the dense fifth can still show that the model's
# colours are paler than life in this photo: at its confident matches (a twentieth of the
# photo's cells at least) the reference's chroma is many times the model's there. Then the
# photo is brought toward that many times the model's own colourfulness, from nothing at
# PALE_FROM times to the whole at PALE_FULL. Near-gray matches on both sides (a sky,
# stone) say nothing: the reference must also be MIN_CHROMA bolder on average. Chosen on
# the grouped validation split (64 same-scene pairs, 165 photos of 44 people; sweep
# pale_from=...): of the 24 same-scene pairs under the dense fifth, the model was at least
# 1.7 times paler in over a quarter, while 9 in 10 of the people's pairs stay under 1.5
# (their faces match, and skin is no paler in the model than in another day's photo).
# Same scene +4.60 ± 1.09 → +4.71 ± 1.09 dB and its colourfulness 87 → 92% of the
# truth's; people's whole photos +0.21 and their faces +0.07 dB, as before. Starting at
# 1.5: 92%, faces -0.02; at 1.4: 93%, faces -0.07 dB. On 160 scene photos of four folders
# the model never saw: +3.13 → +3.06 dB, 89 → 92%; reported on eval: 79 → 83%, people
# as before (docs/hints.md)
PALE_SHARE = 0.05
PALE_FROM, PALE_FULL = 1.7, 2.0
# the most saturation of the model's colours whose colourfulness such a photo is brought
# toward. The saturation itself stays within MAX_SCENE_SATURATION; this sets the
# colourfulness aimed at, which the reference's hints already carry part of the way.
# Capped at 2 like the saturation, the pairs raised reached 71% of the truth's
# colourfulness (7 pairs; the model's own 36%). Capped at 3: same scene 92 → 93% with
# +4.71 → +4.70 dB, people as with 2 (+0.20, faces +0.07); 160 unseen scene photos
# 92 → 94%, +3.06 → +3.08 dB; 4 did as 3
PALE_MAX = 3.0
# L at most this far from black or white (0 or 100) is left out of ``lightness_gap``
LIGHT_ENDS = 5.0
DEFAULT_STRENGTH = 1.0
# the most a reference raises the saturation (the app's slider ends at 200%)
MAX_SCENE_SATURATION = 2.0
SCENE_SIDE = 256  # px: the size at which the photo's colourfulness is compared (cheap)



@dataclass
class FromReferences:
    """What the references bring to one photo: hints, and the colourfulness it should
    have (None where no reference says)."""

    hints: list[Hint]
    # the colourfulness the photo is brought to: that of the reference showing its own
    # scene, or else what a reference's matches say it has (``paler_than``)
    colourfulness: float | None = None


@dataclass
class Matches:
    """Confident matches: target cell ``t[i]`` ↔ reference cell ``r[i]``."""

    t: np.ndarray
    r: np.ndarray
    similarity: np.ndarray

    def __len__(self) -> int:
        return len(self.t)


def _grid_distance(i: np.ndarray, j: np.ndarray, w: int) -> np.ndarray:
    """Chebyshev distance in cells between cell indices on a grid ``w`` wide."""
    return np.maximum(np.abs(i // w - j // w), np.abs(i % w - j % w))


def similarities(target: Cells, ref: Cells) -> np.ndarray:
    """nt × nr cosine similarities of ``target``'s cells to ``ref``'s."""
    return target.descriptors @ ref.descriptors.T


def match(target: Cells, ref: Cells, test: MatchTest = REFERENCE_TEST,
          S: np.ndarray | None = None) -> Matches:
    """The confident matches of ``target``'s cells in ``ref`` (module docstring); ``S``:
    their ``similarities``, where already known (one pair matched under several tests)."""
    S = similarities(target, ref) if S is None else S
    best_r = S.argmax(1)
    s1 = S[np.arange(target.n), best_r]
    keep = s1 >= test.similarity
    if test.mutual >= 0:
        best_t = S.argmax(0)
        keep &= _grid_distance(best_t[best_r], np.arange(target.n), target.w) <= test.mutual
    keep &= ref.spread[best_r] <= test.cell_spread
    keep &= np.abs(target.L - ref.L[best_r]) <= test.lightness
    if test.ratio < 1.0:
        t = np.flatnonzero(keep)
        if len(t):
            apart = np.linalg.norm(ref.ab[None, :, :] - ref.ab[best_r[t]][:, None, :], axis=2)
            other = np.where(apart > test.colour_apart, S[t], -1.0).max(1)
            ok = (1.0 - s1[t]) <= test.ratio * (1.0 - other)
            keep[t[~ok]] = False
    t = np.flatnonzero(keep)
    if len(t) < test.min_share * target.n:
        t = t[:0]
    return Matches(t, best_r[t], s1[t])


def hints_from(matches: Matches, target: Cells, ref: Cells, strength: float, name: str,
               test: MatchTest = REFERENCE_TEST, scene: bool | None = None) -> list[Hint]:
    """Hints at the matched cells of ``target``: their colour ``strength`` of the way from
    the model's there to the reference's; ``scene``: whether the reference shows the
    photo's own scene, every match at full strength (None: where the matches are dense)."""
    if not 0.0 <= strength <= 1.0:
        raise ValueError(f"strength must lie in [0, 1], not {strength}")
    if strength == 0.0:
        return []  # the reference weighs nothing: no hints
    x, y = target.centre(matches.t)
    weight = np.full(len(matches), strength, np.float32)
    if scene is None:
        scene = _dense(matches, target, test)
    if test.trust_high > test.trust_low and not scene:
        ramp = (matches.similarity - test.trust_low) / (test.trust_high - test.trust_low)
        weight = weight * np.clip(ramp, 0.0, 1.0) * _trust_cap(matches, target, test)
    ab = np.clip(blend(target.ab[matches.t], ref.ab[matches.r], weight), -128.0, 127.0)
    size = min(1.0, test.hint_size / max(target.h, target.w))
    return [Hint(float(xi), float(yi), float(a), float(b), size, REFERENCE, name)
            for xi, yi, (a, b) in zip(x, y, ab)]


def _trust_cap(matches: Matches, target: Cells, test: MatchTest) -> float:
    """The most a match weighs (module docstring): ``trust_max`` for a reference that
    matches little of the photo, rising with the share of its cells matched."""
    if test.trust_max >= 1.0 or test.dense_share <= test.trust_share:
        return test.trust_max
    share = len(matches) / target.n
    rise = np.clip((share - test.trust_share) / (test.dense_share - test.trust_share), 0.0, 1.0)
    return float(test.trust_max + (1.0 - test.trust_max) * rise)


def _dense(matches: Matches, target: Cells, test: MatchTest) -> bool:
    """Whether ``matches`` cover enough of ``target`` to say the reference shows its scene."""
    return test.dense_share > 0 and len(matches) >= test.dense_share * target.n


def lightness_gap(target: Cells, ref: Cells, test: MatchTest,
                  S: np.ndarray | None = None) -> float:
    """The median |ΔL| between ``target``'s cells and their mutual similar matches in
    ``ref`` (``test``'s similarity and mutuality, at any lightness, colour or spread)."""
    m = match(target, ref, replace(test, lightness=np.inf, ratio=1.0, cell_spread=np.inf,
                                   min_share=0.0), S)
    a, b = target.L[m.t], ref.L[m.r]
    # black or white at both ends (a print's border, a blown sky) is alike in any light
    mid = (np.minimum(a, b) >= LIGHT_ENDS) & (np.maximum(a, b) <= 100.0 - LIGHT_ENDS)
    return float(np.median(np.abs(a - b)[mid])) if mid.any() else np.inf


def _same_light(matches: Matches, target: Cells, ref: Cells, test: MatchTest,
                S: np.ndarray) -> bool:
    """Whether the reference shows the photo's scene in the same light (``MatchTest``)."""
    return (test.same_light > 0 and len(matches) >= test.trust_share * target.n
            and lightness_gap(target, ref, test, S) <= test.same_light)


def blend(model: np.ndarray, ref: np.ndarray, weight: np.ndarray) -> np.ndarray:
    """n×2 a/b ``weight`` of the way from ``model`` to ``ref``, chroma and hue apart: a
    straight line between two colours of different hue passes near gray, and a half-way
    blend would wash out the photo (train photos: colourfulness 85% → 80% of the truth's
    with weights from similarity; in polar terms it stays at the two colours' chroma)."""
    cm, cr = np.hypot(*model.T), np.hypot(*ref.T)
    hm, hr = np.arctan2(model[:, 1], model[:, 0]), np.arctan2(ref[:, 1], ref[:, 0])
    turn = np.angle(np.exp(1j * (hr - hm)))        # the shorter way round, -π..π
    w = np.asarray(weight, np.float64)
    # near gray the hue means nothing: blend straight there
    straight = model + w[:, None] * (ref - model)
    c = cm + w * (cr - cm)
    h = hm + w * turn
    polar = np.stack([c * np.cos(h), c * np.sin(h)], 1)
    return np.where((np.minimum(cm, cr) < 4.0)[:, None], straight, polar).astype(np.float32)


def match_references(analysis, references: list[Reference], strength: float = DEFAULT_STRENGTH,
                     test: MatchTest = REFERENCE_TEST, target: Cells | None = None,
                     scene_test: MatchTest | None = SCENE_TEST) -> FromReferences:
    """Hints from every reference for the photo of ``analysis`` (``Colorizer.analyse``);
    where two references match one cell, the more similar match gives its colour. A
    reference of the photo's own scene (dense, or in the same light) is matched again
    under ``scene_test`` and gives its colourfulness (the one with the most matches,
    where several do); where none shows the scene, the references whose matches are far
    bolder than the model's say how colourful the photo is (``paler_than``, the
    boldest)."""
    out = FromReferences([])
    if not references:
        return out
    target = target or cells_of(analysis)
    best: dict[int, tuple[float, Hint]] = {}
    scene_matches, paler = 0, 1.0
    for ref in references:
        S = similarities(target, ref.cells)
        m = match(target, ref.cells, test, S)
        dense = _dense(m, target, test) or _same_light(m, target, ref.cells, test, S)
        if dense and len(m) > scene_matches and ref.colourfulness > 0:
            scene_matches, out.colourfulness = len(m), ref.colourfulness
        elif not dense:
            paler = max(paler, paler_than(m, target, ref.cells))
        if dense and scene_test is not None:
            m = match(target, ref.cells, scene_test, S)  # the photo's own scene: again
        for t, s, hint in zip(m.t, m.similarity, hints_from(m, target, ref.cells, strength,
                                                              ref.name, test, dense)):
            if int(t) not in best or s > best[int(t)][0]:
                best[int(t)] = (float(s), hint)
    out.hints = [best[t][1] for t in sorted(best)]
    if out.colourfulness is None and paler > 1.0:
        out.colourfulness = _colourfulness_at(analysis, paler)
    return out


def paler_than(matches: Matches, target: Cells, ref: Cells) -> float:
    """How many times more colourful the photo should be than the model made it, from a
    reference that matches a part of it (``PALE_SHARE``, ``PALE_FROM`` … ``PALE_FULL``,
    at most ``PALE_MAX``): 1 where its matches are too few, or do not show the
    model's colours (``target``'s) much paler than the reference's at the same cells."""
    if len(matches) < max(3, PALE_SHARE * target.n):  # (3: a tiny photo's few cells)
        return 1.0
    ref_chroma = float(np.hypot(*ref.ab[matches.r].T).mean())
    model_chroma = float(np.hypot(*target.ab[matches.t].T).mean())
    if ref_chroma - model_chroma < MIN_CHROMA:
        return 1.0  # near gray on both sides (a sky, stone): a ratio there says nothing
    ratio = ref_chroma / max(model_chroma, 1.0)
    rise = np.clip((ratio - PALE_FROM) / (PALE_FULL - PALE_FROM), 0.0, 1.0)
    return float(min(PALE_MAX, 1.0 + rise * (ratio - 1.0)))


def _colourfulness_at(analysis, saturation: float) -> float:
    """The colourfulness of the model's own colours for the photo of ``analysis`` at
    ``saturation`` (at its working size)."""
    import cv2

    L = np.ascontiguousarray(analysis.L, np.float32)
    ab = cv2.resize(np.ascontiguousarray(analysis.ab, np.float32), (L.shape[1], L.shape[0]),
                    interpolation=cv2.INTER_LINEAR)
    return colourfulness_of(color.compose(L, ab, saturation))


def reference_hints(analysis, references: list[Reference], strength: float = DEFAULT_STRENGTH,
                    test: MatchTest = REFERENCE_TEST, target: Cells | None = None,
                    scene_test: MatchTest | None = SCENE_TEST) -> list[Hint]:
    """``match_references``' hints alone."""
    return match_references(analysis, references, strength, test, target, scene_test).hints


def scene_saturation(L: np.ndarray, ab: np.ndarray, colourfulness: float | None,
                     strength: float = DEFAULT_STRENGTH) -> float:
    """The saturation (1 to ``MAX_SCENE_SATURATION``) that brings the photo (its L and
    normalised a/b, ``Prediction``'s) to ``colourfulness``, the one its references say
    (``FromReferences``), ``strength`` of the way; 1 where there is none, or where the photo is as
    colourful already (it is never made paler).

    Chosen on the grouped validation split (benchmarks/reference_eval.py --split train):
    the same scene went from +5.60 ± 0.97 dB at 82% of the truth's colourfulness to
    +4.99 ± 1.02 dB at 90%; two photos of one person (13 of 165 pairs dense), the whole
    photo +0.10 → +0.05 dB, the face -0.35 → -0.42 dB. A vivid of 1 instead reached 85%
    for +4.94 dB. Taking the colourfulness of a reference matching a tenth of the photo
    (not a fifth) overshot (103%) and cost people's whole photos -0.26 dB."""
    if not colourfulness or strength <= 0:
        return 1.0
    import cv2

    s = SCENE_SIDE / max(L.shape[:2])
    if s < 1:
        size = (max(1, round(L.shape[1] * s)), max(1, round(L.shape[0] * s)))
        L = cv2.resize(np.ascontiguousarray(L, np.float32), size, interpolation=cv2.INTER_AREA)
        ab = cv2.resize(np.ascontiguousarray(ab, np.float32), size, interpolation=cv2.INTER_AREA)

    def cf(saturation: float) -> float:
        return colourfulness_of(color.compose(L, ab, saturation))

    if cf(1.0) >= colourfulness:
        return 1.0
    lo, hi = 1.0, MAX_SCENE_SATURATION
    if cf(hi) < colourfulness:
        lo = hi
    else:
        for _ in range(10):  # 1/1000 of the range: far finer than the eye
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if cf(mid) < colourfulness else (lo, mid)
    return 1.0 + strength * (lo - 1.0)


def with_test(**changes) -> MatchTest:
    """``REFERENCE_TEST`` with some settings changed (benchmarks, tests)."""
    return replace(REFERENCE_TEST, **changes)
