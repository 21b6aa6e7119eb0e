"""The album's colour memory: its file (``model.memory.album``), carrying hints to other
photos (``model.memory.carry`` through ``model.memory.recall``) and the batch that keeps
an album's colours (``model.batch`` with ``album_memory``)."""

import json
import logging

import cv2
import numpy as np
import pytest
from PIL import Image
from skimage import data

from model import color
from model.batch import BatchSettings, plan_jobs, run_jobs
from model.colorizer import Colorizer
from model.hints import CARRIED, REFERENCE, USER, Hint
from model.io.sidecar import Edits, read_edits, sidecar_path, write_edits
from model.memory.album import (FILE_NAME, AlbumError, AlbumMemory, hint_id, open_memory,
                                read_memory, write_memory)
from model.memory.recall import Recall


@pytest.fixture(scope="module")
def colorizer():
    return Colorizer(device="cpu")


# ----- the file
def test_the_memory_file_round_trips_and_names_what_is_wrong(tmp_path):
    memory = AlbumMemory(tmp_path, strength=0.7, references=["refs/wedding.jpg"])
    assert memory.remember(tmp_path / "1952" / "grandma.jpg",
                           [Hint(0.4, 0.3, 12, -30), Hint(0.1, 0.1, 5, 5, origin=REFERENCE)], "abc")
    memory.drop(tmp_path / "house.jpg", memory.hints[0].id)
    path = write_memory(memory)
    assert path == tmp_path / FILE_NAME
    doc = json.loads(path.read_text())
    assert doc["format"] == "colorgui-album" and doc["version"] == 1
    back = read_memory(tmp_path)
    assert [(m.photo, m.hint, m.sha256) for m in back.hints] == \
        [("1952/grandma.jpg", Hint(0.4, 0.3, 12, -30), "abc")]  # the user's hints only
    assert back.references == ["refs/wedding.jpg"] and back.strength == 0.7
    assert back.dropped_at(tmp_path / "house.jpg") == {memory.hints[0].id}
    for text, reason in [("{", "not valid JSON"), ('{"format": "x"}', "not a colorgui album"),
                         ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
                         ('{"format": "colorgui-album", "version": true}', "version True"),
                         ('{"format": "colorgui-album", "version": 2}', "version 2"),
                         ('{"format": "colorgui-album", "version": 1, "hints": [{"photo": "a", '
                          '"x": 2, "y": 0, "a": 0, "b": 0}]}', "hint 1: x is 2"),
                         ('{"format": "colorgui-album", "version": 1, "strength": 1' + "0" * 400
                          + "}", "strength is far too large")]:
        path.write_text(text)
        with pytest.raises(AlbumError) as caught:
            read_memory(tmp_path)
        assert str(path) in str(caught.value) and reason in str(caught.value)


def test_an_unreadable_memory_is_kept_aside_never_overwritten(tmp_path):
    path = tmp_path / FILE_NAME
    path.write_text('{"format": "colorgui-album", "version": 1, "hints": [oops')
    memory, notice = open_memory(tmp_path)
    assert memory.hints == [] and str(path) in notice and "not valid JSON" in notice
    kept = list(tmp_path.glob(f"{FILE_NAME}.unreadable-*"))
    assert len(kept) == 1 and kept[0].read_text().endswith("[oops") and not path.exists()
    write_memory(memory)  # the new memory, beside the old one kept
    assert kept[0].read_text().endswith("[oops")


def test_remember_forget_drop_and_undrop(tmp_path):
    memory = AlbumMemory(tmp_path)
    a, b = tmp_path / "a.jpg", tmp_path / "b.jpg"
    memory.remember(a, [Hint(0.2, 0.2, 10, 10), Hint(0.8, 0.8, -10, 30)])
    memory.remember(b, [Hint(0.5, 0.5, 0, -40)])
    ids = [m.id for m in memory.hints]
    assert ids[0] == hint_id("a.jpg", Hint(0.2, 0.2, 10, 10))  # stable: made again alike
    assert not memory.remember(a, [Hint(0.2, 0.2, 10, 10), Hint(0.8, 0.8, -10, 30)])
    assert memory.remember(a, [Hint(0.2, 0.2, 10, 10)])  # the user deleted one on a
    assert [m.photo for m in memory.hints] == ["b.jpg", "a.jpg"]
    memory.drop(b, ids[0])
    assert memory.dropped_at(b) == {ids[0]}
    memory.undrop(b, ids[0])
    assert memory.dropped_at(b) == set() and memory.dropped == {}
    memory.drop(b, ids[0])
    gone = memory.forget(ids[0])
    assert [m.id for m in gone.hints] == [ids[0]] and memory.dropped_at(b) == set()
    assert [m.photo for m in memory.hints] == ["b.jpg"]
    memory.bring_back(gone)  # an undone "forget everywhere": remembered, dropped on b again
    assert [m.id for m in memory.hints] == [ids[2], ids[0]] and memory.dropped_at(b) == {ids[0]}


def test_prints_cut_from_a_page_into_a_folder_of_their_own_belong_to_the_pages_album(
        tmp_path):
    from model.batch import BatchItem
    from model.memory.album import PAGE_NOTE, album_of, note_page

    scans, prints = tmp_path / "scans", tmp_path / "cache" / "page 2-1a2b"
    scans.mkdir()
    prints.mkdir(parents=True)
    cut = prints / "page 2_01.png"
    assert album_of(cut) == prints  # no note: its own folder
    note_page(prints, scans / "page 2.jpg")
    assert album_of(cut) == scans
    assert BatchItem(cut, tmp_path / "out.png").album_folder == scans
    assert album_of(scans / "page 2.jpg") == scans
    (prints / PAGE_NOTE).write_text("{not json")  # not ours to read: its own folder
    assert album_of(cut) == prints


# ----- carrying
BLUE = (-5.0, -50.0)


def album(tmp_path):
    """Two gray photos of one scene (A: the left 60% of the astronaut, B: the right 60%,
    mirrored and scaled by 0.85) and a third of another scene, in one folder."""
    rgb = cv2.resize(color.from_uint8(data.astronaut()), (256, 256), interpolation=cv2.INTER_AREA)
    folder = tmp_path / "album"
    folder.mkdir()
    cw = round(0.6 * 256)
    a = rgb[:, :cw]
    b = cv2.resize(np.ascontiguousarray(rgb[:, 256 - cw:][:, ::-1]),
                   (round(cw * 0.85), round(256 * 0.85)), interpolation=cv2.INTER_AREA)
    for name, x in (("a.png", a), ("b.png", b), ("other.png", color.from_uint8(data.coffee()))):
        Image.fromarray(color.to_uint8(color.gray_to_rgb(color.luminance(x)))).save(folder / name)
    return folder


# on A, in the part B shares (A's right third is B's right third, mirrored), in a colour
# no model would guess for it
HINTS_ON_A = [Hint(x, y, *BLUE) for x in (0.75, 0.85, 0.95) for y in (0.3, 0.5, 0.7)]


def test_the_album_carries_a_hint_to_the_same_thing_in_another_photo(colorizer, tmp_path):
    folder = album(tmp_path)
    memory = AlbumMemory(folder)
    memory.remember(folder / "a.png", HINTS_ON_A)
    recall = Recall(colorizer)
    L = lambda name: color.luminance(color.from_uint8(np.asarray(Image.open(folder / name).convert("RGB"))))  # noqa: E731
    carried = recall.recall(folder / "b.png", L("b.png"), memory=memory).carried
    assert carried and all(h.origin == CARRIED for h in carried)
    ids = {m.id: m.hint for m in memory.hints}
    assert {h.source for h in carried} <= set(ids)
    for h in carried:  # each holds (about) the colour of the hint it was carried from
        assert np.hypot(h.a - ids[h.source].a, h.b - ids[h.source].b) < 20
    # B's right third is A's right third, mirrored: most land there (the same suit goes on)
    assert np.mean([h.x > 0.6 for h in carried]) > 0.7
    assert recall.recall(folder / "a.png", L("a.png"), memory=memory).carried == []  # its own
    assert len(recall.recall(folder / "other.png", L("other.png"), memory=memory).carried) <= 2
    for gone in {h.source for h in carried}:  # dropped on B: not carried there
        memory.drop(folder / "b.png", gone)
    assert recall.recall(folder / "b.png", L("b.png"), memory=memory).carried == []
    memory.enabled = False
    memory.dropped = {}
    assert recall.recall(folder / "b.png", L("b.png"), memory=memory).carried == []


def test_a_remembered_photo_that_is_gone_is_said_once_a_run(colorizer, tmp_path, caplog):
    """It was said again for every photo of the batch."""
    import logging

    folder = album(tmp_path)
    memory = AlbumMemory(folder)
    memory.remember(folder / "a.png", HINTS_ON_A)
    (folder / "a.png").unlink()
    recall = Recall(colorizer)
    with caplog.at_level(logging.WARNING):
        for name in ("b.png", "other.png", "b.png"):
            L = color.luminance(color.from_uint8(np.asarray(Image.open(folder / name))))
            assert recall.recall(folder / name, L, memory=memory).carried == []
    assert caplog.text.count("the album's hints on a.png are not carried") == 1


def test_a_batch_with_album_memory_remembers_sidecars_and_carries_them(colorizer, tmp_path,
                                                                        caplog):
    folder = album(tmp_path)
    write_edits(sidecar_path(folder / "a.png"), Edits(HINTS_ON_A))
    jobs, refused = plan_jobs([folder], tmp_path / "out")
    assert not refused and {j.album for j in jobs} == {folder}
    with caplog.at_level(logging.WARNING):
        report = run_jobs(jobs, colorizer, BatchSettings(album_memory=True))
    assert len(report.done) == 3 and not report.failed
    memory = read_memory(folder)
    assert [m.photo for m in memory.hints] == ["a.png"] * len(HINTS_ON_A)
    out_b = tmp_path / "out" / "album" / "b.png"
    kept = read_edits(sidecar_path(out_b))
    assert kept.hints and all(h.origin == CARRIED for h in kept.hints)
    assert [h.origin for h in read_edits(sidecar_path(tmp_path / "out" / "album" / "a.png")).hints] \
        == [USER] * len(HINTS_ON_A)  # A keeps its own hints, nothing carried back to it
    # without the album memory, B is colorized alone: no sidecar beside its output
    plain = run_jobs(plan_jobs([folder / "b.png"], tmp_path / "plain")[0], colorizer)
    assert len(plain.done) == 1 and not sidecar_path(tmp_path / "plain" / "b.png").exists()


def test_a_batch_keeps_an_unreadable_memory_aside_and_goes_on(colorizer, tmp_path, caplog):
    folder = album(tmp_path)
    (folder / FILE_NAME).write_text("not json")
    jobs, _ = plan_jobs([folder / "b.png"], tmp_path / "out")
    with caplog.at_level(logging.WARNING):
        report = run_jobs(jobs, colorizer, BatchSettings(album_memory=True))
    assert len(report.done) == 1
    assert str(folder / FILE_NAME) in caplog.text and "kept as" in caplog.text
    assert [p.read_text() for p in folder.glob(f"{FILE_NAME}.unreadable-*")] == ["not json"]
    assert read_memory(folder).hints == []  # a new memory began


def test_a_folder_batch_leaves_out_the_colour_copies_the_app_saved_beside_its_photos(
        tmp_path):
    """The app's Save (grandma_colorized.png beside grandma.png) was colorized again, and
    the album memory learnt its hints."""
    from model.io.provenance import Provenance
    from model.output import saved_name, write_colorized

    folder = tmp_path / "album"
    folder.mkdir()
    gray = np.full((32, 48), 128, np.uint8)
    for name in ("grandma.png", "house.png", "house_colorized.png"):  # the last one: theirs
        Image.fromarray(gray).save(folder / name)
    L = np.full((32, 48), 50.0, np.float32)
    write_colorized(folder / saved_name(folder / "grandma.png", ".png"), L,
                    np.zeros((32, 48, 2), np.float32),
                    provenance=Provenance("1", "spatial", "", 1.0, None))
    jobs, refused = plan_jobs([folder], tmp_path / "out")
    assert sorted(j.source.name for j in jobs) == ["grandma.png", "house.png",
                                                   "house_colorized.png"] and not refused
