"""Colour from a reference photo (``model.memory.reference``), with the real bundled model:
synthetic pairs cut from one photo, whose colours the matching must give back."""

import numpy as np
import pytest
import cv2
from PIL import Image
from skimage import data

from model import color
from model.colorizer import Colorizer
from model.hints import REFERENCE
from model.io.sidecar import content_hash
from model.memory.cells import Cells, cells_of
from model.memory.reference import (MAX_SCENE_SATURATION, PALE_MAX, REFERENCE_TEST, blend,
                                    hints_from, match, Matches, lightness_gap,
                                    match_references, paler_than, reference_hints,
                                    scene_saturation, with_test)
from model.memory.reference_photo import (REFERENCE_MAX_PIXELS, ReferenceError,
                                          colourfulness_of, load_reference,
                                          reference_from_rgb)


@pytest.fixture(scope="module")
def colorizer():
    return Colorizer(device="cpu")


def photo(name: str, side: int = 256) -> np.ndarray:
    rgb = color.from_uint8(getattr(data, name)())
    return cv2.resize(rgb, (side, side), interpolation=cv2.INTER_AREA)


def strange_colours(rgb: np.ndarray) -> np.ndarray:
    """The photo with its hues turned by 150°: colours no model would guess from gray."""
    lab = color.rgb_to_lab(rgb)
    t = np.deg2rad(150)
    a, b = lab[..., 1].copy(), lab[..., 2].copy()
    lab[..., 1], lab[..., 2] = a * np.cos(t) - b * np.sin(t), a * np.sin(t) + b * np.cos(t)
    return np.clip(color.lab_to_rgb(lab), 0, 1).astype(np.float32)


def pair(rgb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Crop A (left 60%) and crop B (right 60%, mirrored, scaled by 0.85), as the benchmark."""
    h, w = rgb.shape[:2]
    cw = round(0.6 * w)
    b = np.ascontiguousarray(rgb[:, w - cw:][:, ::-1])
    b = cv2.resize(b, (round(cw * 0.85), round(h * 0.85)), interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(rgb[:, :cw]), b


def ab_at(rgb: np.ndarray, hint) -> np.ndarray:
    lab = color.rgb_to_lab(rgb)
    h, w = lab.shape[:2]
    side = max(1, round(hint.size * max(h, w)))
    y, x = int(hint.y * h), int(hint.x * w)
    return lab[max(0, y - side // 2): y + side // 2 + 1, max(0, x - side // 2): x + side // 2 + 1,
               1:].reshape(-1, 2).mean(0)


def test_a_reference_of_the_same_scene_gives_back_its_known_colours(colorizer):
    truth = strange_colours(photo("astronaut"))
    a, b = pair(truth)
    gray_b = color.gray_to_rgb(color.luminance(b))
    ref = reference_from_rgb(a, colorizer, "a.png")
    analysis = colorizer.analyse(color.luminance(b))
    # each match at its whole weight: each hint holds the strange colour of B's truth
    # where it lies, not a model's guess
    hints = reference_hints(analysis, [ref], test=with_test(trust_max=1.0))
    assert len(hints) >= 15 and all(h.origin == REFERENCE and h.source == "a.png" for h in hints)
    errors = [np.linalg.norm(np.array([h.a, h.b]) - ab_at(b, h)) for h in hints]
    plain = colorizer.predict(gray_b).render()
    guesses = [np.linalg.norm(ab_at(plain, h) - ab_at(b, h)) for h in hints]
    assert np.median(errors) < 6 and np.median(guesses) > 3 * np.median(errors)
    # and colorizing B with the default's hints (a reference that matches less than a
    # fifth of B is only partly trusted) comes closer to the truth
    out = colorizer.predict(gray_b, reference_hints(analysis, [ref])).render()
    err = lambda x: np.abs(color.rgb_to_lab(x)[..., 1:] - color.rgb_to_lab(b)[..., 1:]).mean()  # noqa: E731
    assert err(out) < 0.8 * err(plain)


def test_a_reference_of_the_same_scene_lends_its_colours_at_full_strength(colorizer):
    a, b = pair(strange_colours(photo("astronaut")))
    ref = reference_from_rgb(a, colorizer, "a.png").cells
    target = cells_of(colorizer.analyse(color.luminance(b)))
    m = match(target, ref)
    share = len(m) / target.n  # B's third that A shows matches
    assert share > 0.1 and (m.similarity < REFERENCE_TEST.trust_high).any()  # some unsure

    def colours(**changes):
        test = with_test(**changes)
        return np.array([(h.a, h.b) for h in hints_from(m, target, ref, 1.0, "a.png", test)])

    want = np.clip(ref.ab[m.r], -128, 127)
    np.testing.assert_allclose(colours(dense_share=share), want, atol=1e-3)
    # a reference that matches less of the photo only nudges the model where it is unsure
    sparse = colours(dense_share=share + 1.0 / target.n, trust_max=1.0)
    unsure = m.similarity < REFERENCE_TEST.trust_high
    assert np.abs(sparse[unsure] - want[unsure]).max() > 1.0
    np.testing.assert_allclose(sparse[~unsure], want[~unsure], atol=1e-3)


def test_a_reference_that_matches_little_of_the_photo_only_nudges_even_its_sure_matches(
        colorizer):
    # few of B's cells match, as with another day's photo of the same person, whose
    # colours in another light are no truth
    a, b = pair(strange_colours(photo("astronaut")))
    ref = reference_from_rgb(a, colorizer, "a.png").cells
    target = cells_of(colorizer.analyse(color.luminance(b)))
    m = match(target, ref)
    share = len(m) / target.n
    sure = m.similarity >= REFERENCE_TEST.trust_high
    assert sure.any() and share < REFERENCE_TEST.dense_share

    def colours(trust_share):
        test = with_test(trust_share=trust_share, dense_share=share + 0.1)
        return np.array([(h.a, h.b) for h in hints_from(m, target, ref, 1.0, "a.png", test)])

    model, want = target.ab[m.t], ref.ab[m.r]
    little = colours(trust_share=share)  # matches no more than the share it barely trusts
    np.testing.assert_allclose(little[sure],
                               blend(model, want, np.full(len(m), REFERENCE_TEST.trust_max))[sure],
                               atol=1e-3)
    # the more of the photo it matches, the more it is trusted, short of the whole way
    more = colours(trust_share=share - 0.05)
    moved = lambda ab: np.linalg.norm(ab - model, axis=1)[sure].mean()  # noqa: E731
    assert moved(little) < moved(more) < np.linalg.norm(want - model, axis=1)[sure].mean()


def test_a_reference_of_the_photos_own_scene_is_matched_again_more_loosely(colorizer):
    a, b = pair(strange_colours(photo("coffee")))
    ref = reference_from_rgb(a, colorizer, "a.png")
    analysis = colorizer.analyse(color.luminance(b))
    strict = reference_hints(analysis, [ref], scene_test=None)
    assert len(strict) >= REFERENCE_TEST.dense_share * cells_of(analysis).n  # its scene
    loose = reference_hints(analysis, [ref])
    assert len(loose) >= 1.3 * len(strict)
    # the cells the looser test adds hold B's own colours too, and bring B closer still
    errors = [np.linalg.norm(np.array([h.a, h.b]) - ab_at(b, h)) for h in loose]
    assert np.median(errors) < 4
    gray_b = color.gray_to_rgb(color.luminance(b))
    err = lambda hints: np.abs(color.rgb_to_lab(colorizer.predict(gray_b, hints).render())[..., 1:]  # noqa: E731
                               - color.rgb_to_lab(b)[..., 1:]).mean()
    assert err(loose) < err(strict)


def test_a_reference_of_the_photos_own_scene_brings_it_to_its_colourfulness(colorizer):
    a, b = pair(strange_colours(photo("coffee")))
    ref = reference_from_rgb(a, colorizer, "a.png")
    assert ref.colourfulness == pytest.approx(colourfulness_of(a), rel=0.1)
    found = match_references(colorizer.analyse(color.luminance(b)), [ref])
    assert found.colourfulness == ref.colourfulness and found.hints
    pred = colorizer.predict(color.gray_to_rgb(color.luminance(b)), found.hints)
    paler = colourfulness_of(pred.render())
    assert paler < 0.9 * ref.colourfulness  # the part A does not show keeps pale guesses
    s = scene_saturation(pred.L, pred.ab, found.colourfulness)
    assert 1.0 < s <= MAX_SCENE_SATURATION
    raised = colourfulness_of(pred.render(s))
    assert raised == pytest.approx(ref.colourfulness, rel=0.05)
    truth = colourfulness_of(b)
    assert abs(raised - truth) < abs(paler - truth)
    # half the strength: half as far; none, or a reference paler than the photo: as it was
    assert scene_saturation(pred.L, pred.ab, found.colourfulness, 0.5) == pytest.approx(
        1 + (s - 1) / 2)
    assert scene_saturation(pred.L, pred.ab, found.colourfulness, 0.0) == 1.0
    assert scene_saturation(pred.L, pred.ab, 0.5 * paler) == 1.0
    assert scene_saturation(pred.L, pred.ab, None) == 1.0
    # an unrelated reference shows another scene: no colourfulness to reach
    other = reference_from_rgb(photo("rocket"), colorizer, "rocket.png")
    assert match_references(colorizer.analyse(color.luminance(b)), [other]).colourfulness is None


def test_a_reference_in_the_photos_light_shows_its_scene_though_it_matches_less(colorizer):
    a, b = pair(strange_colours(photo("coffee")))
    analysis = colorizer.analyse(color.luminance(b))
    less = with_test(dense_share=0.99)  # the matches alone would not say it is the scene
    ref = reference_from_rgb(a, colorizer, "a.png")
    found = match_references(analysis, [ref], test=less)
    assert found.colourfulness == ref.colourfulness  # its scene's colourfulness
    assert len(found.hints) > len(match_references(analysis, [ref], test=less,
                                                   scene_test=None).hints)  # matched again
    # the same print in another light (darker by a fifth): no longer sure it is the scene
    lab = color.rgb_to_lab(a)
    lab[..., 0] *= 0.8
    dark = reference_from_rgb(np.clip(color.lab_to_rgb(lab), 0, 1).astype(np.float32),
                              colorizer, "dark.png")
    target = cells_of(analysis)
    assert lightness_gap(target, dark.cells, less) > less.same_light
    assert len(match_references(analysis, [dark], test=less).hints) == len(
        match_references(analysis, [dark], test=less, scene_test=None).hints)  # not again


def cells(ab, L=50.0) -> Cells:
    ab = np.asarray(ab, np.float32)
    n = len(ab)
    return Cells(1, n, np.eye(n, dtype=np.float32),
                 np.broadcast_to(np.asarray(L, np.float32), (n,)).copy(), ab,
                 np.zeros(n, np.float32))


def test_black_and_white_say_nothing_of_the_light():
    gray = [[0.0, 0.0]] * 6
    photo_L = [0.0, 0.0, 100.0, 40.0, 50.0, 60.0]  # a black border, a blown-out sky
    assert lightness_gap(cells(gray, photo_L), cells(gray, photo_L), REFERENCE_TEST) == 0.0
    # another light: its mid-tones differ by 8, black stays black and white white
    other = [0.0, 2.0, 99.0, 48.0, 58.0, 68.0]
    assert lightness_gap(cells(gray, photo_L), cells(gray, other), REFERENCE_TEST) == 8.0
    assert lightness_gap(cells(gray, [0.0] * 6), cells(gray, [1.0] * 6),
                         REFERENCE_TEST) == np.inf  # nothing to judge by


def test_only_matches_far_bolder_than_the_model_say_the_photo_is_paler_than_life():
    def paler(chroma, matched=20, model_chroma=10.0):
        model = cells([[0.6 * model_chroma, 0.8 * model_chroma]] * 200)
        return paler_than(Matches(np.arange(matched), np.arange(matched), np.ones(matched)),
                          model, cells([[0.6 * chroma, 0.8 * chroma]] * 200))
    assert paler(10) == paler(15) == paler(16.9) == 1.0   # as bold, or not bold enough
    assert 1.3 < paler(18.5) < 1.5                    # half way up its rise
    assert paler(21) == pytest.approx(2.1) and paler(25) == pytest.approx(2.5)  # whole
    assert paler(40) == PALE_MAX                      # four times: at most three
    assert paler(40, matched=9) == 1.0                # under a twentieth of the photo
    # near gray on both sides (overcast sky, stone): three times "bolder" says nothing
    assert paler(3, model_chroma=1) == paler(4.5, model_chroma=2) == 1.0


def test_a_reference_matching_part_of_the_photo_far_bolder_than_the_model_raises_it(colorizer):
    a, b = pair(photo("coffee"))
    analysis = colorizer.analyse(color.luminance(b))
    sparse = with_test(dense_share=0.99, same_light=0.0)  # not the photo's own scene

    def found(chroma):
        lab = color.rgb_to_lab(a)
        lab[..., 1:] *= chroma
        ref = reference_from_rgb(np.clip(color.lab_to_rgb(lab), 0, 1).astype(np.float32),
                                 colorizer, "a.png")
        return match_references(analysis, [ref], test=sparse)

    bold, pale = found(1.0), found(0.3)  # its own colours; far paler ones
    assert bold.hints and pale.hints
    assert pale.colourfulness is None
    plain = colorizer.predict(color.gray_to_rgb(color.luminance(b)))
    assert bold.colourfulness > 1.3 * colourfulness_of(plain.render())


def test_an_unrelated_reference_changes_little(colorizer):
    target = photo("astronaut")
    gray = color.gray_to_rgb(color.luminance(target))
    for other in ("coffee", "chelsea", "rocket"):
        ref = reference_from_rgb(photo(other), colorizer, f"{other}.png")
        analysis = colorizer.analyse(color.luminance(target))
        hints = reference_hints(analysis, [ref])
        assert len(hints) <= 0.03 * cells_of(analysis).n, other
        changed = colorizer.predict(gray, hints).ab - colorizer.predict(gray).ab
        assert np.abs(changed).mean() * color.AB_SCALE < 1.0, other


def test_the_strength_weighs_the_reference_against_the_model(colorizer):
    a, b = pair(strange_colours(photo("coffee")))
    ref = reference_from_rgb(a, colorizer, "a.png")
    analysis = colorizer.analyse(color.luminance(b))
    target = cells_of(analysis)
    full = reference_hints(analysis, [ref], strength=1.0)
    half = reference_hints(analysis, [ref], strength=0.5)
    assert full and [(h.x, h.y) for h in half] == [(h.x, h.y) for h in full]
    chroma = lambda ab: float(np.hypot(*ab))  # noqa: E731
    coloured = 0
    for f, h in zip(full, half):  # half-way in chroma between the model's and the reference's
        model = target.ab[target.at(f.x, f.y)]
        if min(chroma(model), chroma((f.a, f.b))) >= 4:  # (near gray: half-way in a/b)
            coloured += 1
            assert abs(chroma((h.a, h.b)) - (chroma(model) + chroma((f.a, f.b))) / 2) < 1.0
    assert coloured >= 5
    assert reference_hints(analysis, [ref], strength=0.0) == []  # weighs nothing
    with pytest.raises(ValueError):
        reference_hints(analysis, [ref], strength=1.5)


def huge_png(path, width, height) -> None:
    """A PNG whose header claims width × height (its pixels are never read)."""
    import struct
    import zlib

    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(
            ">I", zlib.crc32(kind + body) & 0xFFFFFFFF)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
                     + chunk(b"IDAT", zlib.compress(b"\x00")) + chunk(b"IEND", b""))


def test_bad_references_are_refused_naming_the_file_and_the_reason(colorizer, tmp_path):
    gray = tmp_path / "gray scan.png"
    Image.fromarray(data.camera()).save(gray)
    gray_rgb = tmp_path / "gray in rgb.jpg"
    Image.fromarray(data.camera()).convert("RGB").save(gray_rgb)
    sepia = tmp_path / "sepia print.jpg"  # one tone over the whole photo
    L = 20 + 0.65 * color.luminance(np.repeat(color.from_uint8(data.camera())[..., None], 3, 2))
    toned = np.stack([L, np.full_like(L, 3.0), np.full_like(L, 10.0)], -1)  # inside the gamut
    Image.fromarray(color.to_uint8(np.clip(color.lab_to_rgb(toned), 0, 1))).save(sepia)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a photo at all")
    huge = tmp_path / "huge.png"
    side = int(np.sqrt(REFERENCE_MAX_PIXELS)) + 100
    huge_png(huge, side, side)
    colour = tmp_path / "colour.png"
    Image.fromarray(data.astronaut()).save(colour)
    cases = [(gray, "no colour to take"), (gray_rgb, "no colour to take"),
             (sepia, "no colour to take"),
             (broken, "not an image"), (huge, "too large"),
             (tmp_path / "missing.jpg", "no such file")]
    for path, reason in cases:
        with pytest.raises(ReferenceError) as caught:
            load_reference(path, colorizer)
        assert str(path) in str(caught.value) and reason in str(caught.value), caught.value
    with pytest.raises(ReferenceError, match="own reference") as caught:
        load_reference(colour, colorizer, photo_sha256=content_hash(colour))
    assert str(colour) in str(caught.value)
    assert load_reference(colour, colorizer).name == "colour.png"  # the same file is fine


def test_cells_hold_a_references_colours_and_unit_descriptors(colorizer):
    rgb = np.zeros((128, 192, 3), np.float32)
    rgb[:, :96] = (0.8, 0.2, 0.2)
    rgb[:, 96:] = (0.2, 0.3, 0.8)
    analysis = colorizer.analyse(color.luminance(rgb))
    cells = cells_of(analysis, color.rgb_to_lab(rgb))
    assert np.allclose(np.linalg.norm(cells.descriptors, axis=1), 1, atol=1e-4)
    red, blue = color.rgb_to_lab(rgb[:1, :1])[0, 0, 1:], color.rgb_to_lab(rgb[:1, -1:])[0, 0, 1:]
    left = cells.ab.reshape(cells.h, cells.w, 2)[:, 0]
    right = cells.ab.reshape(cells.h, cells.w, 2)[:, -1]
    assert np.abs(left - red).max() < 1 and np.abs(right - blue).max() < 1
    assert cells.spread.reshape(cells.h, cells.w)[:, 0].max() < 1


def test_a_batch_lends_the_references_colours_to_every_photo(colorizer, tmp_path, caplog):
    import logging

    from model.batch import BatchSettings, plan_jobs, run_jobs
    from model.io.imageio import write_photo
    from model.io.sidecar import read_edits, sidecar_path

    truth = strange_colours(photo("astronaut"))
    a, b = pair(truth)
    folder = tmp_path / "scans"
    write_photo(folder / "b.png", color.gray_to_rgb(color.luminance(b)))
    write_photo(folder / "a in colour.png", a)  # an input that is also the reference
    jobs, _ = plan_jobs([folder], tmp_path / "out")
    with caplog.at_level(logging.WARNING):
        report = run_jobs(jobs, colorizer, BatchSettings(references=(str(folder / "a in colour.png"),)))
    assert len(report.done) == 2 and not report.failed
    kept = read_edits(sidecar_path(tmp_path / "out" / "scans" / "b.png"))
    assert kept.references == [str(folder / "a in colour.png")]
    assert len(kept.hints) >= 15 and all(h.origin == REFERENCE for h in kept.hints)
    # the reference itself was colorized without it, and the log says so, naming it
    assert not sidecar_path(tmp_path / "out" / "scans" / "a in colour.png").exists()
    assert "a in colour.png: it is the photo being colorized" in caplog.text


def test_a_batch_with_a_reference_of_the_photos_scene_makes_it_as_colourful(colorizer, tmp_path):
    from model.batch import BatchSettings, plan_jobs, run_jobs
    from model.io.imageio import read_photo
    from model.io.provenance import read_provenance
    from model.io.sidecar import read_edits, sidecar_path

    a, b = pair(strange_colours(photo("coffee")))
    Image.fromarray(color.to_uint8(a)).save(tmp_path / "a.png")
    (tmp_path / "in").mkdir()
    Image.fromarray(color.to_uint8(color.gray_to_rgb(color.luminance(b)))).save(
        tmp_path / "in" / "b.png")

    def colorized(out: str, settings: BatchSettings):
        report = run_jobs(plan_jobs([tmp_path / "in" / "b.png"], tmp_path / out)[0], colorizer,
                          settings)
        assert len(report.done) == 1 and not report.failed
        return tmp_path / out / "b.png"

    plain = colorized("plain", BatchSettings())
    matched = colorized("matched", BatchSettings(references=(str(tmp_path / "a.png"),)))
    cf = {p: colourfulness_of(read_photo(p).rgb) for p in (plain, matched)}
    assert cf[matched] == pytest.approx(colourfulness_of(a), rel=0.12)
    assert cf[matched] > 1.1 * cf[plain]
    # the raised saturation is said where the photo is reopened, and in its record
    saturation = read_edits(sidecar_path(matched)).saturation
    assert 1.0 < saturation <= MAX_SCENE_SATURATION
    assert read_edits(sidecar_path(matched)).saturation_own == 1.0  # what it was raised from
    # its edits colorized again with the same reference: raised from the user's own, not
    # from the raised value; with another reference that shows no scene, back to their own
    import shutil

    shutil.copy(sidecar_path(matched), sidecar_path(tmp_path / "in" / "b.png"))
    again = colorized("again", BatchSettings(references=(str(tmp_path / "a.png"),)))
    assert read_edits(sidecar_path(again)).saturation == pytest.approx(saturation, abs=0.02)
    assert read_edits(sidecar_path(again)).saturation_own == 1.0
    Image.fromarray(data.rocket()).save(tmp_path / "rocket.png")
    other = colorized("other", BatchSettings(references=(str(tmp_path / "rocket.png"),)))
    kept = read_edits(sidecar_path(other))
    assert kept.saturation == 1.0 and kept.saturation_own is None
    assert read_provenance(matched).saturation == pytest.approx(saturation)


def test_a_batch_matches_a_photo_with_edits_again_leaving_out_what_the_user_deleted(
        colorizer, tmp_path):
    """The photo's edits (saved by the app) held matched hints and a deleted one: the CLI
    added a new match to the old one, and brought the deleted place back."""
    from dataclasses import replace

    from model.batch import BatchSettings, plan_jobs, run_jobs
    from model.io.sidecar import read_edits, sidecar_path, write_edits
    from model.memory.recall import matched_place

    a, b = pair(strange_colours(photo("astronaut")))
    Image.fromarray(color.to_uint8(a)).save(tmp_path / "a.png")
    (tmp_path / "in").mkdir()
    Image.fromarray(color.to_uint8(color.gray_to_rgb(color.luminance(b)))).save(
        tmp_path / "in" / "b.png")
    settings = BatchSettings(references=(str(tmp_path / "a.png"),))

    def matched(out: str) -> list:
        report = run_jobs(plan_jobs([tmp_path / "in" / "b.png"], tmp_path / out)[0], colorizer,
                          settings)
        assert len(report.done) == 1 and not report.failed
        return read_edits(sidecar_path(tmp_path / out / "b.png"))

    first = matched("first")
    assert len(first.hints) >= 15 and all(h.origin == REFERENCE for h in first.hints)
    gone = matched_place(first.hints[0])
    write_edits(sidecar_path(tmp_path / "in" / "b.png"), replace(first, reference_dropped=[gone]))
    again = matched("again")
    places = [matched_place(h) for h in again.hints]
    assert gone not in places and len(places) == len(set(places)) == len(first.hints) - 1
    assert again.reference_dropped == [gone]
    # with the album's memory too (its own dropped ids were taken for these places)
    settings = replace(settings, album_memory=True)
    places = [matched_place(h) for h in matched("album").hints if h.origin == REFERENCE]
    assert places and gone not in places
