"""The grouped validation split: whole people, every source and class."""

import csv

from model.training.data import split_grouped


def _folder(root, name, rows, column):
    folder = root / name
    folder.mkdir(parents=True)
    with open(folder / "manifest.csv", "w", newline="") as fh:
        writer = csv.writer(fh)
        writer.writerow(["file", column])
        for file, group in rows:
            (folder / file).write_bytes(b"")
            writer.writerow([file, group])
    return [folder / f for f, _ in rows]


def test_a_person_is_never_on_both_sides_and_every_class_gives_its_share(tmp_path):
    faces = _folder(tmp_path, "faces", [(f"p{i // 3}_{i % 3}.jpg", f"p{i // 3}")
                                        for i in range(300)], "person")
    scenes = _folder(tmp_path, "scenes", [(f"{c}_{i}.jpg", c) for c in "abcd"
                                          for i in range(50)], "class")
    loose = tmp_path / "loose"
    loose.mkdir()
    extra = [loose / f"{i}.jpg" for i in range(40)]
    train, val = split_grouped(faces + scenes + extra, 0.1, seed=1)
    assert sorted(train + val) == sorted(faces + scenes + extra) and not set(train) & set(val)
    person = lambda p: p.name.split("_")[0]  # noqa: E731
    assert {person(p) for p in val if p in faces}.isdisjoint(
        {person(p) for p in train if p in faces})
    assert 15 <= sum(p in faces for p in val) <= 45
    for c in "abcd":  # every class, its share exactly
        assert sum(p.name.startswith(c) for p in val if p in scenes) == 5
    assert sum(p in extra for p in val) == 4
    again = split_grouped(faces + scenes + extra, 0.1, seed=1)
    assert again == (train, val)


def test_one_photo_per_class_still_gives_its_source_a_share(tmp_path):
    photos = _folder(tmp_path, "imagenet", [(f"{i}.jpg", f"class{i}") for i in range(200)],
                     "class_name")
    _, val = split_grouped(photos, 0.05)
    assert len(val) == 10
