"""Colour memory on the command line: ``colorize --reference REF`` and ``--album``,
``colorgui suggest PHOTO`` (where a hint would help most) and ``colorgui album ALBUM``
(what an album's memory holds).

The lead wires these into ``colorgui/cli/main.py`` and ``colorgui/cli/colorize.py``:
``add_colorize_options`` on the colorize parser, ``add_commands`` on the subparsers,
``COMMANDS`` into the commands table, ``check_colorize_options(args)`` before the model
loads and ``with_memory(args, settings)`` on the batch's settings.
"""

from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

from colorgui.cli.colorize import share

SUGGESTED = 5  # points ``suggest`` writes without -n


def add_colorize_options(c) -> None:
    """``colorize``'s colour memory options."""
    from model.memory.reference import DEFAULT_STRENGTH

    c.add_argument("--reference", action="append", type=Path, default=[], metavar="REF",
                   help="a colour photo of the same people or places: where it matches an "
                        "input confidently, its colours become hints (repeatable; every "
                        "input uses every reference)")
    c.add_argument("--reference-strength", type=share, default=DEFAULT_STRENGTH,
                   metavar="S", help=f"0-1: how much the references weigh against the model "
                                     f"(default {DEFAULT_STRENGTH:g})")
    c.add_argument("--album", action="store_true",
                   help="keep colours consistent across each album (an input folder, or a "
                        "photo's own folder): the hints of its photos' sidecars are remembered "
                        "in ALBUM/colorgui-album.json (docs/hints.md) with its reference photos, "
                        "and carried to its other photos where the same thing matches")


def check_colorize_options(args) -> None:
    """Every ``--reference`` checked before the model loads (a usage error, exit status 2,
    names the file and the reason), as ``--hints`` is."""
    from model.memory.reference import ReferenceError, check_reference_file

    for ref in getattr(args, "reference", []) or []:
        try:
            check_reference_file(ref)
        except ReferenceError as exc:
            print(f"colorgui colorize: error: reference {exc}", file=sys.stderr)
            raise SystemExit(2)


def with_memory(args, settings):
    """The batch's settings with the command's references and album memory."""
    return replace(settings, references=tuple(str(r) for r in getattr(args, "reference", []) or []),
                   reference_strength=getattr(args, "reference_strength", settings.reference_strength),
                   album_memory=bool(getattr(args, "album", False)))


def add_commands(sub) -> None:
    """``suggest`` and ``album`` on the ``colorgui`` subparsers."""
    s = sub.add_parser("suggest", help="where a colour hint would help most in a photo",
                       description="Write a hint file (docs/hints.md, version 1) with the N "
                                   "points where a hint would change the photo most, each with "
                                   "the model's colour there now: change the colours you know "
                                   "and colorize with --hints. The photo's sidecar hints, if "
                                   "any, are taken as given. Without -o the file goes to stdout.")
    s.add_argument("photo", type=Path, metavar="PHOTO", help="a black-and-white photo")
    s.add_argument("-n", type=int, default=SUGGESTED, metavar="N",
                   help=f"how many points (default {SUGGESTED})")
    s.add_argument("-o", "--out", type=Path, metavar="FILE", help="the hint file to write")
    s.add_argument("--overwrite", action="store_true",
                   help="replace FILE where it exists (it may hold colours you set)")
    s.add_argument("--model", type=_model_path, help="a model's name or a checkpoint file "
                                                     "(default: the bundled model)")
    s.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="where the network runs (auto: CUDA when available, else CPU)")

    a = sub.add_parser("album", help="show what an album's colour memory holds",
                       description="Print an album's colour memory (ALBUM/colorgui-album.json, "
                                   "docs/hints.md): its reference photos and the remembered "
                                   "hints of each photo. Exit status 1 if it cannot be read.")
    a.add_argument("album", type=Path, metavar="ALBUM", help="the album folder or its memory file")
    a.add_argument("--json", action="store_true", help="print the file itself")


def _model_path(text: str):
    from colorgui.cli.main import model_path

    return model_path(text)


def cmd_suggest(args) -> int:
    from colorgui.cli.colorize import colorizer_from
    from model import color
    from model.io.files import atomic_write
    from model.io.imageio import ImageReadError, read_photo
    from model.io.sidecar import Edits, HintFileError, content_hash, read_edits, sidecar_path
    from model.memory.suggest import suggest

    if args.n < 1:
        print("colorgui suggest: error: -n must be at least 1", file=sys.stderr)
        return 2
    # never the photo itself, nor a hint file whose colours the user may have set since
    why = None
    if args.out is not None and args.out.exists():
        if args.out.resolve() == args.photo.resolve():
            why = "is the photo itself"
        elif not args.overwrite:
            why = "exists (it may hold colours you set); give another file, or --overwrite"
    if why:
        print(f"colorgui suggest: error: {args.out} {why}", file=sys.stderr)
        return 2
    try:
        photo = read_photo(args.photo)
    except ImageReadError as exc:
        print(f"colorgui suggest: error: {exc}", file=sys.stderr)
        return 1
    hints = []
    side = sidecar_path(args.photo)
    if side.is_file() and (args.out is None or side.resolve() != args.out.resolve()):
        try:
            hints = read_edits(side).hints
        except HintFileError as exc:
            print(f"colorgui suggest: error: {exc}", file=sys.stderr)
            return 1
    colorizer = colorizer_from(args)
    if not colorizer.takes_hints:
        print("colorgui suggest: error: this model takes no colour hints (the spatial model "
              "does)", file=sys.stderr)
        return 1
    analysis = colorizer.analyse(color.luminance(photo.rgb))
    current = colorizer.predict(photo.rgb, hints or None).ab if hints else None
    found, _ = suggest(analysis, args.n, hints, current)
    edits = Edits([s.hint() for s in found], photo_name=args.photo.name,
                  photo_sha256=content_hash(args.photo), photo_size=photo.size)
    text = edits.to_json()
    if args.out is None:
        sys.stdout.write(text)
    else:
        try:
            atomic_write(args.out, text.encode("utf-8"))
        except OSError as exc:
            print(f"colorgui suggest: error: cannot write {args.out}: {exc}", file=sys.stderr)
            return 1
        print(f"{args.out}: {len(found)} points where a hint would help most", file=sys.stderr)
    return 0


def cmd_album(args) -> int:
    from model.memory.album import AlbumError, memory_path, read_memory

    # the album is a folder, or its memory file: say what was given, not a path below it
    why = None
    if not args.album.exists():
        why = "no such folder"
    elif args.album.is_file() and args.album.suffix.lower() != ".json":
        why = "a file, not an album folder nor its memory file (colorgui-album.json)"
    if why:
        print(f"colorgui album: error: {args.album}: {why}", file=sys.stderr)
        return 1
    try:
        memory = read_memory(args.album)
    except AlbumError as exc:
        print(f"colorgui album: error: {exc}", file=sys.stderr)
        return 1
    if args.json:
        sys.stdout.write(memory.to_json())
        return 0
    print(f"{memory_path(args.album)}: album memory, {'on' if memory.enabled else 'off'}")
    print(f"  reference photos (strength {memory.strength:g}): "
          + (", ".join(memory.references) if memory.references else "none"))
    photos = memory.by_photo()
    if not photos:
        print("  no remembered hints")
    for name, entries in photos.items():
        print(f"  {name}: {len(entries)} hint{'s' if len(entries) != 1 else ''}")
        for m in entries:
            print(f"    {m.id}  at ({m.hint.x:.3f}, {m.hint.y:.3f})  a {m.hint.a:+.0f} "
                  f"b {m.hint.b:+.0f}")
    for name, ids in sorted(memory.dropped.items()):
        if ids:
            print(f"  dropped on {name}: {', '.join(sorted(ids))}")
    return 0


COMMANDS = {"suggest": cmd_suggest, "album": cmd_album}
# what reads files only, like ``info``: no torch, no model
LIGHT_COMMANDS = ("album",)
