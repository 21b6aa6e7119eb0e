"""``colorgui split`` (album pages in, one file per print out) and what ``colorgui
colorize --split-pages`` and the restore flags do before colorizing: the pages split
and the prints restored into a temporary folder, each print then colorized to
``<page stem>_<nn>.<ext>`` in the output folder. Neither loads torch.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path

from colorgui.cli.colorize import StopOnCtrlC, check_output_folder, quality
from model.progress import plural
from model.io.files import OUTPUT_FORMATS

RESTORE_HELP = ("never applied unless asked: --restore-tone stretches a faded print's "
                "levels (percentiles) and removes a sepia or yellow cast; --clean-dust "
                "fills in small specks and thin scratches from around them")


def add_restore_flags(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("restoring prints", RESTORE_HELP)
    group.add_argument("--restore-tone", action="store_true",
                       help="restore a faded print's tone (its levels, its cast)")
    group.add_argument("--clean-dust", action="store_true",
                       help="clean dust specks and thin scratches")


def add_split_command(sub, existing_path) -> None:
    s = sub.add_parser(
        "split", help="cut the prints out of scanned album pages, one file each",
        description="Find the prints on each scanned page (white scanner lid, cream, black "
                    "or linen album paper), straighten each and write it whole, its white "
                    "border included, as PAGE_01.EXT, PAGE_02.EXT... (PNG and TIFF pages "
                    "give lossless prints; EXIF and ICC profile kept). A scan of a single "
                    "photo is kept whole; a page with no photo says so. Folders are "
                    "searched recursively and mirrored in OUT. Pages are never modified. "
                    "Exit status 1 if a page failed or held no photo.")
    s.add_argument("inputs", nargs="+", type=existing_path, metavar="PAGE",
                   help="scanned pages or folders of them")
    s.add_argument("-o", "--out", type=Path, default=Path("prints"),
                   help="output folder (default: ./prints)")
    s.add_argument("--format", choices=tuple(OUTPUT_FORMATS),
                   help="the prints' format (default: the page's own)")
    s.add_argument("--quality", type=quality, default=95,
                   help="JPEG/WebP quality 1-100 (default 95)")
    s.add_argument("--overwrite", action="store_true", help="replace prints that exist")
    add_restore_flags(s)


def _options(args):
    from model.album.prints import SplitOptions
    from model.album.restore import RestoreOptions

    fmt = getattr(args, "format", None)
    return SplitOptions(suffix=f".{fmt}" if fmt else None, quality=args.quality,
                        overwrite=args.overwrite,
                        restore=RestoreOptions(tone=args.restore_tone, dust=args.clean_dust))


def how_cut(result, p) -> str:
    """How print ``p`` of a page's split ``result`` was cut, said alike by ``split`` and
    ``colorize --split-pages``."""
    from model.album.pages import WHOLE

    if result.analysis.verdict == WHOLE:
        return "a single photo, kept whole"
    # a turn under 0.05° is no turn (+ 0.0 makes -0.0 plain 0.0)
    turn = round(p.rect.angle, 1) + 0.0
    return "already straight" if turn == 0 else f"{turn:+.1f}° straightened"


def _say_page(result) -> None:
    from model.album.prints import KEPT, KEPT_BESIDE_THE_PAGE, SKIPPED

    name = result.page
    if result.error:
        print(f"{name}: failed: {result.error}", file=sys.stderr)
        return
    if not result.prints:
        print(f"{name}: {result.message}", file=sys.stderr)
        return
    for p in result.prints:
        extra = f" ({'; '.join(p.notes)})" if p.notes else ""
        state = "exists, skipped" if p.state == SKIPPED else \
            f"not replaced: {KEPT_BESIDE_THE_PAGE}" if p.state == KEPT else how_cut(result, p)
        print(f"{name}: print {p.index} -> {p.path} [{state}]{extra}", file=sys.stderr)


def cmd_split(args) -> int:
    from model.album.prints import KEPT, SKIPPED, WRITTEN, split_page
    from model.batch import plan_jobs
    from model.progress import Progress

    check_output_folder("split", args.out)
    jobs, refused = plan_jobs(args.inputs, args.out, args.format, numbered=True)
    if not jobs:
        print("no pages found in the inputs" if not refused else "nothing to split",
              file=sys.stderr)
        for path, reason in refused:
            print(f"  {path}: {reason}", file=sys.stderr)
        return 1
    options = replace(_options(args), keep=given_photos(jobs, refused))
    written = skipped = kept = 0
    failed = list(refused)
    empty: list[Path] = []
    progress = Progress()
    done = 0
    with StopOnCtrlC(progress, "the page in hand") as stop:
        for job in jobs:
            if progress.cancelled:
                break
            result = split_page(job.source, job.target, options)
            done += 1
            _say_page(result)
            if result.error:
                failed.append((job.source, result.error))
            elif not result.prints:
                empty.append(job.source)
            written += sum(p.state == WRITTEN for p in result.prints)
            skipped += sum(p.state == SKIPPED for p in result.prints)
            kept += sum(p.state == KEPT for p in result.prints)
    beside = f"{kept} kept beside the page (may be originals), " if kept else ""
    summary = (f"{plural(done, 'page')}: {plural(written, 'print')} written, {skipped} "
               f"skipped (file exists), {beside}{len(empty)} with no photo, "
               f"{len(failed)} failed")
    if stop.requested:
        summary = f"interrupted: {summary}, {len(jobs) - done} not started"
    print(summary, file=sys.stderr)
    for path, reason in failed:
        print(f"  {path}: {reason}", file=sys.stderr)
    if stop.requested:
        return 130
    # a print kept with --overwrite is one not written as asked, as colorize's refusal
    return 1 if failed or empty or kept else 0


# ----- colorize --split-pages, --restore-tone, --clean-dust


@dataclass
class Prepared:
    """Photos made ready for colorizing in a temporary folder: the batch items that
    colorize them, what each temporary file stands for (for messages), and the pages
    that failed or held nothing."""

    folder: tempfile.TemporaryDirectory
    items: list = field(default_factory=list)
    names: dict[Path, str] = field(default_factory=dict)
    failed: list[tuple[Path, str]] = field(default_factory=list)

    def named(self, path: Path) -> str:
        return self.names.get(Path(path), str(path))


def given_photos(jobs, refused) -> frozenset[Path]:
    """Every photo or page the command was given (resolved): a print's file never
    replaces one, --overwrite or not."""
    return frozenset([j.source.resolve() for j in jobs]
                     + [p.resolve() for p, _ in refused if p.is_file()])


def needs_preparing(args) -> bool:
    return bool(getattr(args, "split_pages", False) or getattr(args, "restore_tone", False)
                or getattr(args, "clean_dust", False))


def prepare(args, jobs, refused=()) -> Prepared:
    """Split each job's page into prints (``--split-pages``) or take it whole, restore
    as asked, and write what is to be colorized losslessly (PNG, the photo's bit depth,
    EXIF and ICC kept) into a temporary folder; each becomes a batch item whose output
    is the page's target, numbered per print."""
    restore = _options(args).restore
    given = given_photos(jobs, refused)
    prepared = Prepared(tempfile.TemporaryDirectory(prefix="colorgui-prints-"))
    try:
        _prepare_into(prepared, args, jobs, restore, given)
    except BaseException:  # Ctrl-C among them: no prints left behind
        prepared.folder.cleanup()
        raise
    return prepared


def _prepare_into(prepared: Prepared, args, jobs, restore, given) -> None:
    from model.album.pages import PrintRect
    from model.album.prints import SplitOptions, split_page
    from model.batch import kept_original
    from model.io.provenance import maybe_an_original
    from model.io.imageio import ImageReadError, read_photo
    from model.io.sidecar import sidecar_path

    scratch = Path(prepared.folder.name)
    for n, job in enumerate(jobs):
        stem = scratch / f"{n:05d}" / job.target.stem
        rects = None
        if not args.split_pages:  # the photo whole, only restored
            try:
                photo = read_photo(job.source)
            except ImageReadError as exc:
                prepared.failed.append((job.source, exc.reason))
                continue
            h, w = photo.rgb.shape[:2]
            rects = [PrintRect((w - 1) / 2, (h - 1) / 2, float(w), float(h), 0.0)]
            del photo
        result = split_page(job.source, stem, SplitOptions(suffix=".png", restore=restore,
                                                           overwrite=True), rects)
        if result.error:
            prepared.failed.append((job.source, result.error))
            continue
        if not result.prints:
            prepared.failed.append((job.source, result.message))
            continue
        side = sidecar_path(job.source)
        if args.split_pages and side.is_file():
            print(f"{job.source}: {side} is not used: its hints are placed on the whole "
                  f"page, not on the prints cut from it", file=sys.stderr)
        for p in result.prints:
            if p.notes or args.split_pages:
                what = f"print {p.index} ({how_cut(result, p)})" if args.split_pages \
                    else "photo"
                extra = f": {'; '.join(p.notes)}" if p.notes else ""
                print(f"{job.source}: {what}{extra}", file=sys.stderr)
            if args.split_pages:
                target = job.target.with_name(f"{job.target.stem}_{p.index:02d}{job.target.suffix}")
                prepared.names[p.path] = f"{job.source} (print {p.index})"
                hints = None
                if target.resolve() in given:
                    prepared.failed.append((job.source, f"print {p.index}'s colour would be "
                                                        f"written over a photo given ({target})"))
                    continue
                if args.overwrite and target.exists() and maybe_an_original(target, job.source):
                    prepared.failed.append((job.source, kept_original(target)))
                    continue
            else:  # the photo's own hints: --hints, else its sidecar
                target = job.target
                prepared.names[p.path] = str(job.source)
                hints = job.hints if job.hints is not None else side if side.is_file() else None
            # the page's own item with the print's paths (its album and whatever else
            # the batch keeps of it stay the page's); a print is a photo of its own
            prepared.items.append(replace(job, source=p.path, target=target, hints=hints,
                                          original=None if args.split_pages else job.source,
                                          kept=not args.split_pages))
