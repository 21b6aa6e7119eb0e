"""The colour memory on the Colorize tab, driven offscreen with a tiny random-weight
spatial model: reference photos, the album's memory, where to click. The tiny model's
features are random but the same for the same pixels, so a colour copy of the photo
matches it everywhere."""

import json

import numpy as np
import pytest
from PIL import Image

from colorgui.hints.memory import CarryAlbum, MatchReferences
from model.hints import CARRIED, REFERENCE, USER, Hint
from model.io.sidecar import read_edits, sidecar_path
from model.memory.album import FILE_NAME, read_memory
from model.memory.reference import REFERENCE_TEST
from tests.conftest import gradient_photo, open_and_wait

BLUE = (20.0, -60.0)


@pytest.fixture
def tiny_checkpoint(tiny_spatial_checkpoint):
    """The ``window`` fixture, here on the tiny spatial model."""
    return tiny_spatial_checkpoint


def scene(h=96, w=128, seed=3) -> np.ndarray:
    """A colour photo with regions of their own colour and lightness."""
    rgb = gradient_photo(h, w, seed).astype(np.float32)
    rgb[: h // 2, : w // 3] = (200, 40, 40)
    rgb[h // 2:, w // 2:] = (40, 60, 200)
    rgb[h // 4: 3 * h // 4, w // 3: w // 2] = (60, 180, 60)
    rng = np.random.default_rng(seed)  # a little texture, as photos have
    return np.clip(rgb + rng.normal(0, 6, rgb.shape), 0, 255).astype(np.uint8)


@pytest.fixture
def photos(tmp_path):
    """A gray photo, its colour original (another file: a reference of the same scene),
    a gray reference, and a gray second photo of the album (nearly the first)."""
    folder = tmp_path / "album"
    folder.mkdir()
    colour = scene()
    Image.fromarray(colour).convert("L").save(folder / "grandma.png")
    second = np.asarray(Image.fromarray(colour).convert("L")).copy()
    second[0, 0] ^= 1  # another photo (another SHA-256) of the same moment
    Image.fromarray(second).save(folder / "grandma again.png")
    refs = tmp_path / "refs"
    refs.mkdir()
    Image.fromarray(colour).save(refs / "wedding.png")
    Image.fromarray(scene(seed=5)).convert("L").save(refs / "gray print.png")
    return folder, refs


def reference_hints(tab):
    return [h for h in tab.hint_tool.hints.hints if h.origin == REFERENCE]


def test_a_reference_of_the_scene_raises_the_saturation_until_it_is_taken_away(
        window, qtbot, photos):
    folder, refs = photos
    tab, memory = window.colorize_tab, window.hint_session.memory
    open_and_wait(window, qtbot, folder / "grandma.png")
    tab.slider.setValue(90)  # the user's own
    with qtbot.waitSignal(window.host.matched, timeout=60_000):
        memory.add_references([str(refs / "wedding.png")])
    qtbot.waitUntil(lambda: tab.saturation > 0.9, timeout=10_000)
    raised = tab.saturation
    assert "more colourful than this photo" in window.statusBar().currentMessage()
    with qtbot.waitSignal(window.host.matched, timeout=60_000):
        memory.remove_reference(str(refs / "wedding.png"))
    qtbot.waitUntil(lambda: tab.saturation == pytest.approx(0.9), timeout=10_000)
    assert window.statusBar().currentMessage() == ""  # it said so, raised, for 15 s
    # an undo of Remove brings back the reference, its hints and the saturation they raised
    tab.hint_tool.hints.undo_stack.undo()
    qtbot.waitUntil(lambda: tab.saturation == pytest.approx(raised), timeout=10_000)
    tab.hint_tool.hints.undo_stack.redo()
    qtbot.waitUntil(lambda: tab.saturation == pytest.approx(0.9), timeout=10_000)
    # kept with the photo's edits: opened again, a removal still takes it back to 90%
    tab.hint_tool.hints.undo_stack.undo()
    qtbot.waitUntil(lambda: tab.saturation == pytest.approx(raised), timeout=10_000)
    window.hint_session.flush()
    assert window.hint_session.edits().saturation_own == pytest.approx(0.9)
    open_and_wait(window, qtbot, folder / "grandma again.png")
    open_and_wait(window, qtbot, folder / "grandma.png")
    assert tab.saturation == pytest.approx(raised)
    with qtbot.waitSignal(window.host.matched, timeout=60_000):
        memory.remove_reference(str(refs / "wedding.png"))
    qtbot.waitUntil(lambda: tab.saturation == pytest.approx(0.9), timeout=10_000)
    # and an undo gives back the photo as it was opened, raised (it was lowered to 90%)
    tab.hint_tool.hints.undo_stack.undo()
    qtbot.waitUntil(lambda: tab.saturation == pytest.approx(raised), timeout=10_000)
    assert memory.references == [str(refs / "wedding.png")]
    tab.hint_tool.hints.undo_stack.redo()
    qtbot.waitUntil(lambda: tab.saturation == pytest.approx(0.9), timeout=10_000)
    # moved by the user after the reference raised it: the user's value stays
    with qtbot.waitSignal(window.host.matched, timeout=60_000):
        memory.add_references([str(refs / "wedding.png")])
    qtbot.waitUntil(lambda: tab.saturation == pytest.approx(raised), timeout=10_000)
    tab.slider.setValue(round(100 * raised) + 10)
    with qtbot.waitSignal(window.host.matched, timeout=60_000):
        memory.remove_reference(str(refs / "wedding.png"))
    assert tab.saturation == pytest.approx(raised + 0.1)
    assert window.statusBar().currentMessage() == ""  # no reference raises it now


def test_a_reference_lends_its_colours_as_hints_kept_with_the_photos_edits(
        window, qtbot, photos):
    folder, refs = photos
    tab, memory = window.colorize_tab, window.hint_session.memory
    open_and_wait(window, qtbot, folder / "grandma.png")
    with qtbot.waitSignal(window.host.matched, timeout=60_000):
        tab.hint_tool.memory_panel.references.filesDropped.emit([str(refs / "wedding.png")])
    qtbot.waitUntil(lambda: bool(reference_hints(tab)), timeout=10_000)
    assert tab.hint_tool.action.isChecked() and tab.hint_tool.memory_panel.isVisible()
    assert memory.references == [str(refs / "wedding.png")]
    assert tab.hint_tool.memory_panel.references.item(0).text() == "wedding.png"
    # the strength says what a reference showing little of the photo weighs at most
    assert f"{REFERENCE_TEST.trust_max:.0%}" in tab.hint_tool.memory_panel.strength.toolTip()
    hints = reference_hints(tab)
    assert all(h.source == "wedding.png" for h in hints)
    qtbot.waitUntil(lambda: tab.shown_hints == tuple(tab.hint_tool.hints.hints), timeout=60_000)
    # the reference shows this photo's own scene: its saturation is raised to match it
    assert 1.0 < tab.saturation <= 2.0 and tab.saturation_label.text() != "100%"

    # like any hint: recolour one (it becomes the user's), delete another
    tool = tab.hint_tool
    tool.hints.select(tool.hints.hints.index(hints[0]))
    assert "from reference wedding.png" in tool.panel.values.text()
    tool.panel.colourChosen.emit(*BLUE)
    assert tool.hints.hints[-1 if tool.hints.selected is None else tool.hints.selected].origin == USER
    n = len(tool.hints.hints)
    tool.hints.delete(tool.hints.hints.index(reference_hints(tab)[0]))
    assert len(tool.hints.hints) == n - 1

    # saved beside the output with where each came from, and the references
    with qtbot.waitSignal(window.host.saved, timeout=60_000) as saved:
        window.save()
    kept = read_edits(sidecar_path(saved.args[1]))
    assert kept.references == [str(refs / "wedding.png")]
    assert kept.saturation == pytest.approx(tab.saturation)
    assert {h.origin for h in kept.hints} == {USER, REFERENCE}
    doc = json.loads(sidecar_path(saved.args[1]).read_text())
    assert any(h.get("from") == "reference" and h.get("source") == "wedding.png"
               for h in doc["hints"])

    # reopened: the same hints, the same references in the panel
    window.hint_session.flush()
    shown = list(tool.hints.hints)
    open_and_wait(window, qtbot, folder / "grandma again.png")
    open_and_wait(window, qtbot, folder / "grandma.png")
    qtbot.waitUntil(lambda: memory.references == [str(refs / "wedding.png")], timeout=5000)
    assert [(h.origin, h.source) for h in tool.hints.hints] == [(h.origin, h.source) for h in shown]


def test_a_deleted_matched_hint_stays_deleted_and_an_undone_removal_brings_the_reference_back(
        window, qtbot, photos, monkeypatch):
    """A new strength matched a deleted hint again; and an undo of Remove brought back the
    reference's hints with the reference gone from the list (and saved so)."""
    folder, refs = photos
    tab, memory = window.colorize_tab, window.hint_session.memory
    tool, panel = tab.hint_tool, tab.hint_tool.memory_panel
    wedding = str(refs / "wedding.png")
    places = lambda: {(h.x, h.y) for h in reference_hints(tab)}  # noqa: E731
    open_and_wait(window, qtbot, folder / "grandma.png")
    with qtbot.waitSignal(window.host.matched, timeout=60_000):
        memory.add_references([wedding])
    gone = reference_hints(tab)[0]
    tool.hints.delete(tool.hints.hints.index(gone))
    with qtbot.waitSignal(window.host.matched, timeout=60_000):
        panel.strengthChanged.emit(0.9)
    assert places() and (gone.x, gone.y) not in places()
    # kept with the photo's edits: a match after it is opened again leaves it out too
    window.hint_session.flush()
    open_and_wait(window, qtbot, folder / "grandma again.png")
    open_and_wait(window, qtbot, folder / "grandma.png")
    with qtbot.waitSignal(window.host.matched, timeout=60_000):
        panel.strengthChanged.emit(0.8)
    assert places() and (gone.x, gone.y) not in places()

    # Clear is no deletion of each: a new strength matches them all again
    tool.clear_action.trigger()
    assert not places()
    with qtbot.waitSignal(window.host.matched, timeout=60_000):
        panel.strengthChanged.emit(0.8)
    assert places() and (gone.x, gone.y) not in places()

    shown = places()
    reference_hints_before = reference_hints(tab)
    with qtbot.waitSignal(window.host.matched, timeout=60_000):
        memory.remove_reference(wedding)
    assert not places() and memory.references == [] and panel.references.count() == 0
    tool.hints.undo_stack.undo()
    assert places() == shown and memory.references == [wedding]
    assert panel.references.count() == 1 and panel.strength.value() == 80
    window.hint_session.flush()
    assert window.hint_session.edits().references == [wedding]
    tool.hints.undo_stack.redo()
    assert not places() and memory.references == [] and panel.references.count() == 0

    # a match that ends after an undo changed the references is for another list: its
    # hints stayed with no reference listed
    from colorgui.hints.memory import Matched

    monkeypatch.setattr(window, "is_current", lambda kind, job_id: True)
    stale = Matched(tab.result_serial, REFERENCE, tuple(reference_hints_before),
                    matched_for=((wedding,), 0.8))
    memory._matched(0, stale)
    assert not places() and memory.references == []


def test_a_click_beside_the_marks_of_a_reference_adds_the_users_own_hint(
        window, qtbot, photos):
    """Hundreds of matched marks lie a few pixels apart: a press takes one only on its
    own mark, where a user's hint is taken from farther away."""
    from PySide6.QtCore import QPointF

    from colorgui.hints.layer import AUTO_HIT, HIT
    from tests.test_gui_hints import click

    folder, refs = photos
    tab, memory = window.colorize_tab, window.hint_session.memory
    open_and_wait(window, qtbot, folder / "grandma.png")
    with qtbot.waitSignal(window.host.matched, timeout=60_000):
        memory.add_references([str(refs / "wedding.png")])
    qtbot.waitUntil(lambda: bool(reference_hints(tab)), timeout=10_000)
    tool, view = tab.hint_tool, tab.colour_view
    layer = tool.layer
    marks = [layer._on_screen(view, h) for h in tool.hints.hints]
    reach = layer.auto_radius(view) + AUTO_HIT
    # a point within a user's reach of a mark, off every mark
    spot = None
    for m in marks:
        for dx, dy in ((reach + 2, 0), (0, reach + 2), (-reach - 2, 0)):
            p = QPointF(m.x() + dx, m.y() + dy)
            gaps = [((q.x() - p.x()) ** 2 + (q.y() - p.y()) ** 2) ** 0.5 for q in marks]
            if reach < min(gaps) < HIT and view.viewport().rect().contains(p.toPoint()):
                spot = p
                break
        if spot is not None:
            break
    assert spot is not None
    assert layer.hint_at(view, spot) is None
    x, y = layer.relative(view, spot)
    n = len(tool.hints.hints)
    click(view, x, y)
    qtbot.waitUntil(lambda: len(tool.hints.hints) == n + 1, timeout=5000)
    assert tool.hints.hints[-1].origin == USER


def test_a_reference_that_cannot_be_used_is_named_and_left_out(window, qtbot, photos,
                                                                monkeypatch):
    folder, refs = photos
    errors = []
    monkeypatch.setattr(window, "error", lambda title, reason: errors.append(reason))
    tab, memory = window.colorize_tab, window.hint_session.memory
    open_and_wait(window, qtbot, folder / "grandma.png")
    user = Hint(0.5, 0.5, *BLUE)
    tab.hint_tool.hints.add(user)
    for bad, reason in ((refs / "gray print.png", "no colour to take"),
                        (folder / "grandma.png", "own reference")):
        errors.clear()
        with qtbot.waitSignal(window.host.matched, timeout=60_000):
            memory.add_references([str(bad)])
        qtbot.waitUntil(lambda: bool(errors), timeout=5000)
        assert str(bad) in errors[0] and reason in errors[0]
        assert memory.references == []  # left out of the list
    memory.add_references([str(refs / "missing.png")])
    assert "missing.png" in errors[-1] and memory.references == []
    assert user in tab.hint_tool.hints.hints  # the user's hint is never lost


def test_the_album_carries_hints_to_its_other_photos_and_the_user_can_drop_or_forget_them(
        window, qtbot, photos, monkeypatch):
    folder, _ = photos
    monkeypatch.setattr(window, "error", lambda title, reason: pytest.fail(f"{title}: {reason}"))
    tab, memory = window.colorize_tab, window.hint_session.memory
    tool = tab.hint_tool
    open_and_wait(window, qtbot, folder / "grandma.png")
    tool.action.setChecked(True)
    for x, y in ((0.15, 0.2), (0.8, 0.8), (0.4, 0.5)):
        tool.hints.add(Hint(x, y, *BLUE))
    tool.memory_panel.album.setChecked(True)  # keep colours consistent across the album
    remembered = read_memory(folder)
    assert remembered.enabled and [m.photo for m in remembered.hints] == ["grandma.png"] * 3

    open_and_wait(window, qtbot, folder / "grandma again.png")
    qtbot.waitUntil(lambda: any(h.origin == CARRIED for h in tool.hints.hints), timeout=60_000)
    assert tool.memory_panel.album.isChecked()
    carried = [h for h in tool.hints.hints if h.origin == CARRIED]
    ids = {m.id for m in remembered.hints}
    assert {h.source for h in carried} <= ids
    # their arrival as the photo opened is nothing to undo (one Ctrl+Z dropped them all)
    assert not tool.hints.undo_stack.canUndo()

    # Delete on one mark drops its remembered hint for this photo only: every mark of it
    # goes (a lone mark deleted came back when the photo was opened again)
    dropped = carried[0].source
    tool.hints.delete(tool.hints.hints.index(carried[0]))
    assert all(h.source != dropped for h in tool.hints.hints)
    window.hint_session.flush()
    assert dropped in read_memory(folder).dropped_at(folder / "grandma again.png")
    # Forget everywhere removes another from the memory; an undo remembers it again
    rest = [h for h in tool.hints.hints if h.origin == CARRIED]
    assert rest  # carried from more than one of the remembered hints
    forgotten = rest[0].source
    tool.hints.select(tool.hints.hints.index(rest[0]))
    assert tool.memory_panel.forget_button.isEnabled()
    tool.memory_panel.forget_button.click()
    assert forgotten not in {m.id for m in read_memory(folder).hints}
    assert all(h.source != forgotten for h in tool.hints.hints)
    tool.hints.undo_stack.undo()
    assert forgotten in {m.id for m in read_memory(folder).hints}
    assert any(h.source == forgotten for h in tool.hints.hints)
    window.hint_session.flush()  # stored again: still remembered, not dropped here
    assert forgotten in {m.id for m in read_memory(folder).hints}
    assert forgotten not in read_memory(folder).dropped_at(folder / "grandma again.png")
    tool.hints.undo_stack.redo()
    assert forgotten not in {m.id for m in read_memory(folder).hints}
    assert (folder / FILE_NAME).is_file() and not list(folder.glob("*.unreadable-*"))

    # the album turned off on another photo: this one, stored with carried hints, opens
    # without them (they stayed, and were saved into its output)
    tool.hints.undo_stack.undo()  # remembered again, and carried here
    assert any(h.origin == CARRIED for h in tool.hints.hints)
    window.hint_session.flush()
    open_and_wait(window, qtbot, folder / "grandma.png")
    tool.memory_panel.album.setChecked(False)
    open_and_wait(window, qtbot, folder / "grandma again.png")
    assert not tool.memory_panel.album.isChecked()
    assert not any(h.origin == CARRIED for h in tool.hints.hints)


def test_where_should_i_click_shows_places_and_the_doubt(window, qtbot, photos):
    folder, _ = photos
    tab = window.colorize_tab
    open_and_wait(window, qtbot, folder / "grandma.png")
    panel, layer = tab.hint_tool.memory_panel, tab.hint_tool.layer
    with qtbot.waitSignal(window.host.places, timeout=60_000):
        panel.places.setChecked(True)
    qtbot.waitUntil(lambda: len(layer.places) == 5, timeout=5000)
    assert tab.hint_tool.action.isChecked()
    assert layer._doubt is None
    panel.doubt.setChecked(True)
    assert layer._doubt is not None
    panel.places.setChecked(False)
    assert layer.places == [] and layer._doubt is None
    assert not window.is_current(MatchReferences, -1) and not window.is_current(CarryAlbum, -1)


def test_keep_colours_consistent_gives_the_batch_its_album_memory(window, qtbot, tmp_path):
    from model.io.sidecar import Edits, write_edits

    root = tmp_path / "album"
    root.mkdir()
    for i in range(2):
        Image.fromarray(gradient_photo(64, 80, i)).convert("L").save(root / f"p{i}.png")
    write_edits(sidecar_path(root / "p0.png"), Edits([Hint(0.5, 0.5, 60.0, -40.0)]))
    tab = window.batch_tab
    assert not tab.album_memory.isChecked()  # off until the user asks for it

    def run(out):
        tab.clear()
        tab.add_paths([str(root)])
        tab.output_edit.setText(str(tmp_path / out))
        with qtbot.waitSignal(window.host.batchFinished, timeout=60_000) as done:
            tab.start_button.click()
        qtbot.waitUntil(lambda: not tab.running)
        return done.args[1:]

    assert run("out-alone") == [2, 0, 0, False]
    assert not (root / FILE_NAME).exists()  # each photo was coloured alone
    tab.album_memory.setChecked(True)
    assert run("out-album") == [2, 0, 0, False]
    memory = read_memory(root)  # p0's hint is remembered for the album's other photos
    assert [(m.photo, m.hint.a, m.hint.b) for m in memory.hints] == [("p0.png", 60.0, -40.0)]
    assert window.settings.batch_album_memory  # and the choice is kept for next time


def test_the_batch_writes_a_photo_as_its_colorize_tab_showed_it(window, qtbot, tmp_path):
    """The hints and the saturation given a photo in the Colorize tab are kept in the
    app's data folder, not beside the photo: its batch output uses them all the same."""
    from tests.test_gui_hints import add_blue_hint

    root = tmp_path / "album"
    root.mkdir()
    for i in range(2):
        Image.fromarray(gradient_photo(64, 80, i)).convert("L").save(root / f"p{i}.png")
    tab = window.colorize_tab
    open_and_wait(window, qtbot, root / "p0.png")
    add_blue_hint(window, qtbot)
    tab.slider.setValue(130)
    qtbot.waitUntil(lambda: tab.saturation == pytest.approx(1.3))
    window.hint_session.flush()
    assert not sidecar_path(root / "p0.png").exists()  # nothing is written beside a photo

    batch = window.batch_tab
    batch.add_paths([str(root)])
    batch.output_edit.setText(str(tmp_path / "out"))
    with qtbot.waitSignal(window.host.batchFinished, timeout=60_000) as done:
        batch.start_button.click()
    assert done.args[1:] == [2, 0, 0, False]
    kept = read_edits(sidecar_path(tmp_path / "out" / "album" / "p0.png"))
    assert [(h.a, h.b) for h in kept.hints] == [BLUE]
    assert kept.saturation == pytest.approx(1.3)
    assert not sidecar_path(tmp_path / "out" / "album" / "p1.png").exists()  # no edits
