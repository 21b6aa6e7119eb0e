"""The window's side of the colour memory, for the photo on the Colorize tab.

- Reference photos: added with the panel's Reference… (or File ▸ Add Reference Photo…,
  or dropped on the button or the panel's list),
  matched on the worker (``MatchReferences``); their hints replace the photo's earlier
  matched hints in one undo step. The list and the strength are part of the photo's edits.
  A reference of the photo's own scene (or one whose matches show the model's colours far
  paler than its own) raises its saturation to match, on the slider, where the user can
  take it back.
- The album: "keep colours consistent across this album" keeps the photo's folder's
  memory file (``model.memory.album``) on. Each time the photo's edits are stored, the
  user's hints are remembered there, and a carried hint the user deleted is dropped for
  this photo (restored by an undo). Opening a photo of such a folder carries the memory
  to it (``CarryAlbum``). "Forget everywhere" removes a carried hint's source from the
  memory (an undo puts it back). The memory file is read and written here, on the GUI
  thread: a small JSON file, written atomically, as the photo's edits are.
- Where should I click: the places and the faint doubt map, asked for again after each
  change of the hints while the box is checked (``SuggestPlaces``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QObject, Slot

from colorgui.file_dialogs import OPEN_FILTER, open_files
from colorgui.hints.edits import SetHints
from colorgui.hints.memory import CarryAlbum, MatchReferences, SuggestPlaces
from model.hints import CARRIED, REFERENCE, USER
from model.memory.album import (AlbumError, Forgotten, album_of, open_memory, read_memory,
                                write_memory)
from model.memory.recall import matched_place
from model.memory.reference import DEFAULT_STRENGTH, scene_saturation

PLACES = 5  # how many places "where should I click?" shows
SCENE_RAISED = "A reference is more colourful than this photo: saturation"


@dataclass(frozen=True)
class Matching:
    """What the photo's matched hints came from: its references and strength, the places
    the match gave them (``shown``), those the user deleted (``dropped``), which a new
    match (another strength, another reference) leaves out, and the colourfulness the
    references say the photo has (None: none says; ``FromReferences``), which sets its
    saturation;
    or, as the photo was opened, the saturation its edits say a reference raised
    (``raised``: the user's own and the raised one), not measured again."""

    references: tuple[str, ...] = ()
    strength: float = DEFAULT_STRENGTH
    shown: frozenset = frozenset()
    dropped: frozenset = frozenset()
    colourfulness: float | None = None
    raised: tuple[float, float] | None = None


class MatchedReferences(SetHints):
    """A match's hints with the references and strength they came from, as one undo step:
    an undo of a removed reference brings back the reference with its hints, so that the
    list, the strength and the hints shown always belong together."""

    def __init__(self, session: "MemorySession", new: list, before: Matching, after: Matching):
        super().__init__(session.tool.hints, new, "Colours from references")
        self.session, self.before, self.after = session, before, after

    def redo(self):
        super().redo()
        self.session._set_matching(self.after)

    def undo(self):
        super().undo()
        self.session._set_matching(self.before)


class ForgetRemembered(SetHints):
    """"Forget everywhere", undoably: the photo's marks of a remembered hint go, and the
    album's memory file forgets it (done before the step is pushed); an undo brings both
    back, a redo forgets it again."""

    def __init__(self, session: "MemorySession", album: Path, memory_id: str, gone: Forgotten):
        hints = session.tool.hints
        super().__init__(hints, [h for h in hints.hints
                                 if not (h.origin == CARRIED and h.source == memory_id)],
                         "Forget a remembered hint")
        self.session, self.album, self.memory_id, self.gone = session, album, memory_id, gone
        self._pushed = False  # the first redo (the push): the memory already forgot it

    def redo(self):
        if self._pushed:
            self.session._change_memory(self.album, lambda m: m.forget(self.memory_id))
            self.session._carried.discard(self.memory_id)
        self._pushed = True
        super().redo()

    def undo(self):
        if self.session._change_memory(self.album, lambda m: m.bring_back(self.gone)):
            self.session._carried.add(self.memory_id)
        super().undo()


class MemorySession(QObject):
    def __init__(self, window):
        super().__init__(window)
        self.window, self.tab = window, window.colorize_tab
        self.tool = self.tab.hint_tool
        self.panel = self.tool.memory_panel
        self.references: list[str] = []  # what the user asks for, maybe not matched yet
        self.strength = DEFAULT_STRENGTH
        self._matching = Matching()      # what the matched hints shown came from
        self.album = False               # the photo's folder keeps an album memory
        self._carried: set[str] = set()  # memory ids the album carried to this photo
        self._raised = None  # (the user's saturation, what a reference raised it to)
        self._scene = None   # (colourfulness, matched hints) the references say, not yet
        # measured on a preview
        self._doubt = None
        self._places_job = None          # the SuggestPlaces job sent, not yet answered
        self._places_for = None          # (photo, hints) the places shown are for
        p = self.panel
        p.addRequested.connect(self.add_dialog)
        p.filesDropped.connect(self.add_references)
        p.removeRequested.connect(self.remove_reference)
        p.strengthChanged.connect(self._strength_changed)
        p.albumToggled.connect(self.set_album)
        p.forgetRequested.connect(self.forget_selected)
        p.placesToggled.connect(self._places_toggled)
        p.doubtToggled.connect(self._doubt_toggled)
        self.tool.hints.selectionChanged.connect(self._selection_changed)
        self.tool.hints.changed.connect(self._selection_changed)
        self.tab.resultShown.connect(self._restore)

    def attach(self, host) -> None:
        host.matched.connect(self._matched)
        host.places.connect(self._places)
        host.recolored.connect(self._recolored)
        host.jobEnded.connect(self._job_ended)

    # ----- a photo is shown
    @Slot(object)
    def _restore(self, result) -> None:
        """The tab shows ``result``: a newly opened photo brings its references and
        strength from its edits, and its album's carried hints."""
        if result.opened:
            edits = result.restored
            self._scene = None
            # raised by a reference when it was saved: removed, it goes back to the user's
            self._raised = (edits.saturation_own, edits.saturation) \
                if edits is not None and edits.saturation_own is not None else None
            self.references = list(edits.references) if edits is not None else []
            strength = edits.reference_strength if edits is not None else None
            self.strength = DEFAULT_STRENGTH if strength is None else strength
            self._matching = Matching(
                tuple(self.references), self.strength, self._matched_places(),
                frozenset(edits.reference_dropped) if edits is not None else frozenset(),
                raised=self._raised)
            self.panel.set_references(self.references)
            self.panel.set_strength(self.strength)
            self.album = self._album_on(result.path)
            self.panel.set_album(self.album)
            self._carried = {h.source for h in self.tool.hints.hints if h.origin == CARRIED}
            if self.album:
                self._carry()
            else:  # carried while the album was on: with it off, no colour of its applies
                self._carried = set()
                self.tool.hints.replace_carried([])
        self._ask_places()

    def _album_on(self, photo: str) -> bool:
        try:
            return read_memory(album_of(photo)).enabled
        except AlbumError as exc:
            if exc.reason != "no album memory here":
                self.window.statusBar().showMessage(f"The album's memory is not used: {exc}",
                                                    15000)
            return False

    # ----- reference photos
    def add_dialog(self) -> None:
        if self.tab.result is None:
            self.add_references([])
            return
        paths = open_files(self.window, self.window.settings, "Reference photos (in colour)",
                           OPEN_FILTER)
        if paths:
            self.add_references(paths)

    def add_references(self, paths: list[str]) -> None:
        from model.io.files import list_images

        if self.tab.result is None:
            self.window.error("No photo to colour", "Open a black-and-white photo first, "
                                                    "then add colour photos as its references.")
            return
        missing = [p for p in paths if not Path(p).exists()]
        found = [str(p.absolute()) for p in list_images(*[p for p in paths if Path(p).exists()])]
        if missing or not found:
            self.window.error("Reference photo not found",
                              "\n".join(f"{p}: no such file" for p in missing)
                              or "\n".join(f"{p}: holds no photos" for p in paths))
        new = [p for p in found if p not in self.references]
        if not new:
            return
        self.references += new
        self._references_changed()
        self.tool.action.setChecked(True)  # the matched points show as hints

    def remove_reference(self, path: str) -> None:
        if path in self.references:
            self.references.remove(path)
            self._references_changed()

    @Slot(float)
    def _strength_changed(self, value: float) -> None:
        self.strength = value
        if self.references:
            self._references_changed()
        else:
            self.tab.editsChanged.emit()

    def _references_changed(self) -> None:
        self.panel.set_references(self.references)
        self.tab.editsChanged.emit()
        result = self.tab.result
        if result is not None:
            self.window._submit(MatchReferences(
                self.tab.result_serial, result.path, result.sha256, result.L,
                self._user_hints(), tuple(self.references), self.strength))

    def _user_hints(self) -> tuple:
        return tuple(h for h in self.tool.hints.hints if h.origin == USER)

    @Slot(int, object)
    def _matched(self, job_id: int, reply) -> None:
        kind = MatchReferences if reply.origin == REFERENCE else CarryAlbum
        if not self.window.is_current(kind, job_id) or reply.serial != self.tab.result_serial:
            return
        if reply.unusable:
            self.references = [r for r in self.references if r not in reply.unusable]
            self.panel.set_references(self.references)
            self.tab.editsChanged.emit()
        if reply.origin == CARRIED:
            self._carried = {h.source for h in reply.hints}
            self.tool.hints.replace_carried(list(reply.hints))
        elif reply.matched_for not in (None, (tuple(self.references), self.strength)):
            return  # for references the user has changed since (an undo while it ran)
        else:
            self._show_matched(reply.hints, reply.colourfulness)
        if reply.problems:
            what = "reference photos" if reply.origin == REFERENCE else "album's memory"
            self.window.error(f"Some of the {what} cannot be used", "\n\n".join(reply.problems))

    def _matched_places(self) -> frozenset:
        return frozenset(matched_place(h) for h in self.tool.hints.hints if h.origin == REFERENCE)

    def dropped_references(self) -> frozenset:
        """The matched hints the user deleted: (reference name, x, y). With none of them
        left the photo's hints were cleared, not picked through: a new match brings them
        all back (counted as deleted, no strength could)."""
        present = self._matched_places()
        m = self._matching
        if not present:
            return m.dropped
        return (m.dropped | (m.shown - present)) - present

    def _show_matched(self, matched, colourfulness: float | None) -> None:
        """A match's hints replace the earlier ones, less those the user deleted (a new
        strength brought them back), in one undo step with the references they came from
        and the colourfulness of the scene they show."""
        dropped = self.dropped_references()
        hints = [h for h in matched if matched_place(h) not in dropped]
        after = Matching(tuple(self.references), self.strength,
                         frozenset(matched_place(h) for h in hints), dropped, colourfulness)
        new = [h for h in self.tool.hints.hints if h.origin != REFERENCE] + hints
        if new != self.tool.hints.hints or after != self._matching:
            self.tool.hints.undo_stack.push(MatchedReferences(self, new, self._matching, after))

    def _set_matching(self, matching: Matching) -> None:
        """The references, strength and saturation that go with the matched hints shown
        (a match, or its undo or redo)."""
        self._matching = matching
        self.references, self.strength = list(matching.references), matching.strength
        self.panel.set_references(self.references)
        self.panel.set_strength(self.strength)
        if matching.colourfulness:
            # measured on the preview that shows these hints (_recolored)
            self._scene = (matching.colourfulness,
                           [h for h in self.tool.hints.hints if h.origin == REFERENCE])
        elif matching.raised:  # back to the photo as opened: raised then
            self._scene, self._raised = None, matching.raised
            self.tab.slider.setValue(round(100 * matching.raised[1]))
        else:
            self._scene = None
            self._scene_saturation(1.0)

    def own_saturation(self) -> float | None:
        """The user's own saturation where a reference raised the one shown, else None."""
        if self._raised and abs(self.tab.saturation - self._raised[1]) <= 0.005:
            return self._raised[0]
        return None

    def _scene_saturation(self, wanted: float) -> None:
        """A reference more colourful than the photo raises the saturation to ``wanted``
        (never below the user's own); the slider shows it. While the user leaves it there,
        the next match moves it again, and back to the user's value once no reference
        raises it (removed, or its strength set to 0)."""
        shown = self.tab.saturation
        before, raised_to = self._raised or (shown, None)
        if raised_to is None or abs(shown - raised_to) > 0.005:
            before = shown  # the user moved it since: theirs now
        target = max(before, wanted) if wanted > 1.0 else before  # 1: none raises it
        self._raised = (before, target) if target > before + 0.005 else None
        status = self.window.statusBar()
        if abs(target - shown) > 0.005:
            self.tab.slider.setValue(round(100 * target))
            if self._raised:
                status.showMessage(f"{SCENE_RAISED} {round(100 * target)}% to match its "
                                   f"colours", 15000)
        if not self._raised and status.currentMessage().startswith(SCENE_RAISED):
            status.clearMessage()  # no longer so (the user's own value, or none raised)

    # ----- the album
    def set_album(self, on: bool) -> None:
        """Turn the album memory of the photo's folder on (remembering this photo's hints)
        or off (the memory is kept, unused)."""
        result = self.tab.result
        if result is None:
            self.panel.set_album(False)
            return
        try:
            memory, notice = open_memory(album_of(result.path))
            memory.enabled = on
            if on:
                memory.remember(result.path, list(self._user_hints()), result.sha256)
            write_memory(memory)
        except (AlbumError, OSError) as exc:
            self.panel.set_album(self.album)
            self.window.error("Could not keep the album's memory", str(exc))
            return
        if notice:
            self.window.error("The album's memory could not be read", notice)
        self.album = on
        if on:
            self._carry()
        else:
            self._carried = set()
            self.tool.hints.replace_carried([])

    def _carry(self) -> None:
        result = self.tab.result
        if result is not None:
            self.window._submit(CarryAlbum(self.tab.result_serial, result.path, result.L,
                                           self._user_hints()))

    def store(self) -> None:
        """The photo's edits were stored: remember its hints in the album, and which
        carried hints the user deleted here (or brought back by an undo)."""
        result = self.tab.result
        if not self.album or result is None:
            return
        try:
            memory = read_memory(album_of(result.path))
        except AlbumError as exc:  # never overwrite what cannot be read
            self.window.statusBar().showMessage(f"The album's memory is not kept: {exc}", 15000)
            return
        changed = memory.remember(result.path, list(self._user_hints()), result.sha256)
        present = {h.source for h in self.tool.hints.hints if h.origin == CARRIED}
        before = memory.dropped_at(result.path)
        for memory_id in self._carried - present:
            memory.drop(result.path, memory_id)
        for memory_id in present & before:
            memory.undrop(result.path, memory_id)
        changed |= memory.dropped_at(result.path) != before
        if changed:
            try:
                write_memory(memory)
            except OSError as exc:
                self.window.statusBar().showMessage(f"Could not keep the album's memory: "
                                                    f"{exc}", 15000)

    @Slot()
    def _selection_changed(self) -> None:
        hint = self.tool.hints.current
        self.panel.set_forget_enabled(hint is not None and hint.origin == CARRIED and self.album)

    def forget_selected(self) -> None:
        """Remove the selected carried hint's source from the album's memory everywhere
        (one undo step, which remembers it again)."""
        hint, result = self.tool.hints.current, self.tab.result
        if hint is None or hint.origin != CARRIED or result is None:
            return
        album = album_of(result.path)
        try:
            memory = read_memory(album)
            gone = memory.forget(hint.source)
            write_memory(memory)
        except (AlbumError, OSError) as exc:
            self.window.error("Could not change the album's memory", str(exc))
            return
        self._carried.discard(hint.source)
        self.tool.hints.undo_stack.push(ForgetRemembered(self, album, hint.source, gone))

    def _change_memory(self, album: Path, change) -> bool:
        """Read the album's memory, ``change(memory)``, write it; False (and said) where
        that fails."""
        try:
            memory = read_memory(album)
            change(memory)
            write_memory(memory)
        except (AlbumError, OSError) as exc:
            self.window.statusBar().showMessage(f"Could not change the album's memory: {exc}",
                                                15000)
            return False
        return True

    # ----- where should I click?
    def _places_toggled(self, on: bool) -> None:
        if on:
            self.tool.action.setChecked(True)
            self._places_for = None
            self._ask_places()
        else:
            self.tool.layer.show_places([])
            self.tool.layer.show_doubt(None)

    def _doubt_toggled(self, on: bool) -> None:
        self.tool.layer.show_doubt(self._doubt if on else None)

    def _ask_places(self) -> None:
        """Ask for the places again if the hints changed since; one job at a time (about
        a second of the worker's on a 1 MP photo), the latest hints when it ends."""
        result = self.tab.result
        if result is None or not self.panel.places.isChecked() or self._places_job is not None:
            return
        wanted = (self.tab.result_serial, tuple(self.tool.hints.hints))
        if wanted != self._places_for:
            self._places_for = wanted
            self._places_job = self.window._submit(SuggestPlaces(
                self.tab.result_serial, result.L, wanted[1], PLACES))

    @Slot(int, object)
    def _recolored(self, job_id: int, reply) -> None:
        if (self._scene is not None and reply.serial == self.tab.result_serial
                and all(h in reply.hints for h in self._scene[1])):
            # at 256 px on the GUI thread: a few milliseconds, and no network pass
            colourfulness, self._scene = self._scene[0], None
            self._scene_saturation(scene_saturation(self.tab.result.L, reply.ab, colourfulness,
                                                    self.strength))
        self._ask_places()

    @Slot(int)
    def _job_ended(self, job_id: int) -> None:
        if self._places_job is not None and job_id == self._places_job.id:  # skipped
            self._places_job = None
            self._ask_places()

    @Slot(int, object)
    def _places(self, job_id: int, reply) -> None:
        if self._places_job is not None and job_id == self._places_job.id:
            self._places_job = None
            self._ask_places()  # the hints changed while it ran
        if not self.window.is_current(SuggestPlaces, job_id) or \
                reply.serial != self.tab.result_serial or not self.panel.places.isChecked():
            return
        self._doubt = reply.doubt
        self.tool.layer.show_places([(s.x, s.y) for s in reply.suggestions])
        if not reply.suggestions:
            self.window.statusBar().showMessage(
                "Where should I click? Nowhere: the hints given already reach the places "
                "where a hint would change much.", 10000)
        self.tool.layer.show_doubt(self._doubt if self.panel.doubt.isChecked() else None)
