"""Hint files: the sidecar format round-trips, bad files are refused with the reason,
and the app's store finds a photo's edits by its content."""

import json

import pytest

from model.hints import Hint
from model.io.sidecar import (EditStore, Edits, HintFileError, content_hash, read_edits,
                           sidecar_path, write_edits)


def test_edits_round_trip(tmp_path):
    edits = Edits([Hint(0.25, 0.5, 12.5, -30.0, 0.03), Hint(1.0, 0.0, -5.0, 40.0)],
                  model="spatial", saturation=1.2, vivid=0.3, photo_name="a.jpg",
                  photo_sha256="ab" * 32, photo_size=(640, 480), references=["w.jpg"],
                  reference_strength=0.5, reference_dropped=[("w.jpg", 0.25, 0.125)],
                  saturation_own=0.9)
    path = tmp_path / "a.hints.json"
    write_edits(path, edits)
    assert read_edits(path) == edits
    doc = json.loads(path.read_text())
    assert doc["format"] == "colorgui-hints" and doc["version"] == 1


def test_sidecar_sits_beside_the_photo(tmp_path):
    assert sidecar_path(tmp_path / "album" / "grandma.jpg") == tmp_path / "album" / "grandma.hints.json"


@pytest.mark.parametrize("text, reason", [
    ("{not json", "not valid JSON"),
    ("[]", "not an object"),
    ('{"format": "other", "version": 1, "hints": []}', "not a colorgui hint file"),
    ('{"format": "colorgui-hints", "version": 7, "hints": []}', "version 7 is not supported"),
    ('{"format": "colorgui-hints", "version": 1, "hints": [{"x": 1.5, "y": 0, "a": 0, "b": 0}]}',
     "hint 1: x is 1.5, outside 0..1"),
    ('{"format": "colorgui-hints", "version": 1, "hints": [{"x": 0, "y": 0, "a": 0}]}',
     "hint 1 lacks b"),
    ('{"format": "colorgui-hints", "version": 1, "hints": [{"x": 0, "y": "top", "a": 0, "b": 0}]}',
     "hint 1: y must be a number"),
    ('{"format": "colorgui-hints", "version": 1, "hints": [{"x": 0, "y": 0, "a": 300, "b": 0}]}',
     "hint 1: a is 300"),
    ('{"format": "colorgui-hints", "version": 1, "hints": [], "reference_dropped": [1]}',
     "'reference_dropped' must be a list of {source, x, y}"),
    ('{"format": "colorgui-hints", "version": 1, "hints": [], '
     '"reference_dropped": [{"source": "w.jpg", "x": 2, "y": 0}]}',
     "reference_dropped: x is 2, outside 0..1"),
    # JSON's integers have no limit: float() of this one raised OverflowError, which ended
    # a whole batch in a traceback
    ('{"format": "colorgui-hints", "version": 1, "hints": [{"x": 0, "y": 0, "b": 0, "a": 1'
     + "0" * 400 + '}]}', "hint 1: a is far too large"),
    ('{"format": "colorgui-hints", "version": 1, "hints": [], '
     '"reference_dropped": [{"source": "w.jpg", "y": 0}]}', "reference_dropped: x is missing"),
])
def test_bad_hint_files_name_the_file_and_the_reason(tmp_path, text, reason):
    path = tmp_path / "bad.hints.json"
    path.write_text(text)
    with pytest.raises(HintFileError) as info:
        read_edits(path)
    assert str(path) in str(info.value) and reason in str(info.value)


def test_a_missing_hint_file_is_named(tmp_path):
    with pytest.raises(HintFileError, match="no such hint file"):
        read_edits(tmp_path / "gone.hints.json")


def test_store_keys_edits_by_content_not_name(tmp_path):
    photo = tmp_path / "one.png"
    photo.write_bytes(b"some photo bytes")
    renamed = tmp_path / "moved" / "two.png"
    renamed.parent.mkdir()
    renamed.write_bytes(photo.read_bytes())
    store = EditStore(tmp_path / "edits")
    assert store.get(content_hash(photo)) is None
    edits = Edits([Hint(0.5, 0.5, 20.0, 10.0)])
    store.put(content_hash(photo), edits)
    assert store.get(content_hash(renamed)) == edits
    store.put(content_hash(photo), Edits())  # nothing left to keep: forgotten
    assert store.get(content_hash(photo)) is None
    assert not list((tmp_path / "edits").iterdir())


def test_store_ignores_a_damaged_entry(tmp_path):
    store = EditStore(tmp_path)
    (tmp_path / f"{'0' * 64}.hints.json").write_text("{broken")
    assert store.get("0" * 64) is None


def test_a_hint_file_that_begins_with_a_byte_order_mark_is_read(tmp_path):
    """Editors on Windows save UTF-8 with a BOM: the file was refused as not JSON."""
    path = tmp_path / "bom.hints.json"
    path.write_bytes(b"\xef\xbb\xbf" + Edits([Hint(0.5, 0.5, 10, 20)]).to_json().encode())
    assert read_edits(path).hints == [Hint(0.5, 0.5, 10, 20)]
