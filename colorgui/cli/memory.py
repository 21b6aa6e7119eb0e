"""Colour memory on the command line: ``colorize --reference REF`` and ``--album``,
``colorgui suggest PHOTO`` (where a hint would help most) and ``colorgui album ALBUM``
(what an album's memory holds).

The lead wires these into ``colorgui/cli/main.py`` and ``colorgui/cli/colorize.py``:
``add_colorize_options`` on the colorize parser, ``add_commands`` on the subparsers,
``COMMANDS`` into the commands table, ``check_colorize_options(args)`` before the model
loads and ``with_memory(args, settings)`` on the batch's settings.
"""

from __future__ import annotations

import errno
import os
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
    c.add_argument("--reference-strength", type=share, metavar="S",
                   help=f"0-1: how much the references weigh against the model "
                        f"(default {DEFAULT_STRENGTH:g})")
    c.add_argument("--album", action="store_true",
                   help="keep colours consistent across each album (an input folder, or a "
                        "photo's own folder): the hints of its photos' sidecars are remembered "
                        "in ALBUM/colorgui-album.json (docs/hints.md) with its reference photos, "
                        "and carried to its other photos where the same thing matches")


def check_colorize_options(args) -> None:
    """Every ``--reference`` checked before the model loads (a usage error, exit status 2,
    names the file and the reason), as ``--hints`` is."""
    from model.memory.reference_photo import ReferenceError, check_reference_file

    for ref in getattr(args, "reference", []) or []:
        try:
            check_reference_file(ref)
        except ReferenceError as exc:
            print(f"colorgui colorize: error: reference {exc}", file=sys.stderr)
            raise SystemExit(2)
    if getattr(args, "reference_strength", None) is not None and not args.reference \
            and not getattr(args, "album", False):
        print("colorgui colorize: warning: --reference-strength weighs reference photos, and "
              "none is given (--reference, or an album's with --album)", file=sys.stderr)


def with_memory(args, settings):
    """The batch's settings with the command's references (absolute, each once: the
    outputs' hint files list them, read from elsewhere) and album memory."""
    references: dict[str, str] = {}
    for ref in getattr(args, "reference", []) or []:
        references.setdefault(os.path.realpath(ref), os.path.abspath(ref))
    strength = getattr(args, "reference_strength", None)
    return replace(settings, references=tuple(references.values()),
                   reference_strength=settings.reference_strength if strength is None
                   else strength,
                   album_memory=bool(getattr(args, "album", False)))


def add_commands(sub) -> None:
    """``suggest`` and ``album`` on the ``colorgui`` subparsers."""
    s = sub.add_parser("suggest", help="where a colour hint would help most in a photo",
                       description="Write a hint file (docs/hints.md, version 1) with the N "
                                   "points where a hint would change the photo most, each with "
                                   "the model's colour there now: change the colours you know "
                                   "and colorize with --hints. The photo's sidecar hints, if "
                                   "any, are taken as given and kept in the file (-o the "
                                   "sidecar adds the points to them). Without -o the file goes "
                                   "to stdout.")
    s.add_argument("photo", type=Path, metavar="PHOTO", help="a black-and-white photo")
    s.add_argument("-n", type=int, default=SUGGESTED, metavar="N",
                   help=f"how many points (default {SUGGESTED})")
    s.add_argument("-o", "--out", type=Path, metavar="FILE", help="the hint file to write")
    s.add_argument("--overwrite", action="store_true",
                   help="replace FILE where it exists (it may hold colours you set; the "
                        "photo's sidecar needs none: its hints are kept)")
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
    from colorgui.cli.colorize import colorizer_from, model_name_of
    from model import color
    from model.progress import plural
    from model.io.files import atomic_write
    from model.io.imageio import ImageReadError, read_photo
    from model.io.sidecar import Edits, HintFileError, content_hash, read_edits, sidecar_path
    from model.memory.suggest import suggest

    def usage(why: str) -> int:
        print(f"colorgui suggest: error: {why}", file=sys.stderr)
        return 2

    if args.n < 1:
        return usage("-n must be at least 1")
    if not args.photo.is_file():
        what = "a folder, not a photo" if args.photo.is_dir() else "no such file"
        return usage(f"{args.photo}: {what}")
    # never the photo itself, nor a hint file whose colours the user may have set since
    side = sidecar_path(args.photo)
    if args.out is not None and args.out.exists():
        if args.out.is_dir():
            return usage(f"{args.out} is a folder: give the hint file to write")
        if args.out.resolve() == args.photo.resolve():
            return usage(f"{args.out} is the photo itself")
        if not args.overwrite and args.out.resolve() != side.resolve():
            return usage(f"{args.out} exists (it may hold colours you set); give another "
                         f"file, or --overwrite")
    try:
        photo = read_photo(args.photo)
    except ImageReadError as exc:
        print(f"colorgui suggest: error: {exc}", file=sys.stderr)
        return 1
    edits = None
    if side.is_file():  # the user's hints are taken as given, and kept in the file written
        try:
            edits = read_edits(side)
        except HintFileError as exc:
            print(f"colorgui suggest: error: {exc}", file=sys.stderr)
            return 1
    hints = edits.hints if edits is not None else []
    colorizer = colorizer_from(args)
    if not colorizer.takes_hints:
        return usage(f"the {model_name_of(colorizer)} model takes no colour hints (the spatial "
                     f"model, the default, does)")
    if not photo.is_gray and color.has_own_colours(photo.rgb):
        print(f"colorgui suggest: warning: {args.photo.name} is in colour already: the points "
              f"are where the model's colours, from its lightness, would change most",
              file=sys.stderr)
    analysis = colorizer.analyse(color.luminance(photo.rgb))
    current = colorizer.predict(photo.rgb, hints or None).ab if hints else None
    found, _ = suggest(analysis, args.n, hints, current)
    edits = edits or Edits()
    edits.hints = list(hints) + [s.hint() for s in found]
    edits.photo_name, edits.photo_sha256 = args.photo.name, content_hash(args.photo)
    edits.photo_size = photo.size
    text = edits.to_json()
    # fewer: no other place lies apart, or would change the photo much (MIN_SHARE)
    fewer = f" (of {args.n} asked: no other place would change it much)" \
        if len(found) < args.n else ""
    kept = f", beside the {plural(len(hints), 'hint')} of {side.name}" if hints else ""
    try:
        if args.out is None:
            if sys.stdout is None:  # closed (>&-)
                raise OSError(errno.EBADF, "standard output is closed")
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            atomic_write(args.out, text.encode("utf-8"))
    except OSError as exc:
        where = "the output" if args.out is None else str(args.out)
        print(f"colorgui suggest: error: cannot write {where}: {exc.strerror or exc}",
              file=sys.stderr)
        return 1
    print(f"{args.out or 'stdout'}: {len(found)} points where a hint would help most{fewer}"
          f"{kept}", file=sys.stderr)
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
