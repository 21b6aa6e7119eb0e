"""``colorgui colorize`` and ``colorgui info``: photos in, colorized photos out (on this
machine or, with ``--ray``, on a Ray cluster), and what an output says of how it was made.
Also the helpers the other commands share (``StopOnCtrlC``, ``colorizer``).
"""

from __future__ import annotations

import argparse
import signal
import sys
from pathlib import Path

from colorgui.cli import interrupted_before
from model.progress import plural


def number_in(low: float, high: float, kind=float):
    """An argparse type: a number in [low, high] (nan lies in no range)."""
    def parse(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not {'a whole' if kind is int else 'a'} "
                                             f"number: {text}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must lie between {low:g} and {high:g}, not {text}")
        return value
    return parse


# vivid, a reference's strength
share = number_in(0.0, 1.0)
# colour strength: as a hint file's and the app's slider (nan or -1 wrote a white or an
# inverted photo)
saturation = number_in(0.0, 2.0)
# JPEG/WebP quality (-5 and 150 were taken as 0 and 100)
quality = number_in(1, 100, int)
# a share of the photos held out by ``train`` (1 left none to train on)
held_out = number_in(0.0, 0.9)


class StopOnCtrlC:
    """While in the block, the first Ctrl-C only cancels ``progress`` (a
    ``model.progress.Progress``), so the photo or step in hand (``what``) is finished and
    written; a second one interrupts at once."""

    def __init__(self, progress, what: str = "the photo in hand"):
        self.progress, self.what = progress, what
        self._previous = None

    @property
    def requested(self) -> bool:
        return self.progress.cancelled

    def _handle(self, signum, frame):
        if self.requested:
            raise KeyboardInterrupt
        self.progress.cancel()
        print(f"\nstopping after {self.what} (Ctrl-C again to stop at once)", file=sys.stderr)

    def __enter__(self):
        try:
            self._previous = signal.signal(signal.SIGINT, self._handle)
        except ValueError:  # not the main thread: Ctrl-C is not ours to handle
            pass
        return self

    def __exit__(self, *exc):
        if self._previous is not None:
            signal.signal(signal.SIGINT, self._previous)


def colorizer_from(args):
    from model.io.weights import CheckpointError
    from model.colorizer import Colorizer

    try:
        colorizer = Colorizer(getattr(args, "model", None), device=args.device,
                              vivid=getattr(args, "vivid", None))
    except (CheckpointError, RuntimeError, ValueError) as exc:
        if interrupted_before():  # (a Ctrl-C turned into a library's own error)
            raise KeyboardInterrupt from None
        sys.exit(f"colorgui: error: {exc}")
    if interrupted_before():  # a Ctrl-C while it loaded, swallowed on the way
        raise KeyboardInterrupt
    return colorizer


def model_name_of(colorizer) -> str:
    from model.io.provenance import model_name

    return model_name(colorizer.checkpoint) if colorizer.checkpoint else "in-memory"


def batch_settings(args):
    from model.batch import BatchSettings

    return BatchSettings(saturation=args.saturation, vivid=args.vivid, quality=args.quality,
                         overwrite=args.overwrite, provenance=not args.no_provenance)


class PhotoProgress:
    """A batch's progress on the command line: a tqdm bar of photos, with each failure
    and its reason written above it (the ``on_item`` of its ``BatchReport``)."""

    def __init__(self, named=str):
        from model.progress import TqdmProgress

        self.progress = TqdmProgress()
        self.progress.unit = "photo"
        self.named = named  # a photo's name in messages (a print: its page and number)

    def on_item(self, item, state, reason) -> None:
        if state == "failed":
            self.progress.message(f"failed: {self.named(item.source)}: {reason}")

    def report(self, total: int):
        from model.batch import BatchReport

        return BatchReport(on_item=self.on_item, progress=self.progress, total=total)


def _hint_file(args) -> Path | None:
    """``--hints``, checked before anything loads: one photo only, a readable file."""
    from model.io.sidecar import HintFileError, read_edits

    if args.hints is None:
        return None
    error = None
    if len(args.inputs) != 1 or args.inputs[0].is_dir():
        error = ("--hints is for a single photo, not a folder or several photos (their "
                 "sidecars PHOTO.hints.json are used instead)")
    elif getattr(args, "split_pages", False):
        error = "--hints is for a single photo, not for the prints cut from a page"
    else:
        try:
            read_edits(args.hints)
        except HintFileError as exc:
            error = str(exc)
    if error:  # a usage error, as argparse's: exit status 2
        print(f"colorgui colorize: error: {error}", file=sys.stderr)
        raise SystemExit(2)
    return args.hints


def check_output_folder(command: str, out: Path, here: bool = True) -> None:
    """-o naming a file, not a folder, or (``here``: written on this machine, not by a
    cluster's workers) a folder nothing can be written in: a usage error before anything
    loads (each photo failed on its own, after the model had loaded and colorized it)."""
    from model.io.files import unwritable_folder

    problem = None
    if here:
        problem = unwritable_folder(out)
    elif out.exists() and not out.is_dir():
        problem = f"{out} is a file, not a folder"
    if problem:
        print(f"colorgui {command}: error: -o {problem}", file=sys.stderr)
        raise SystemExit(2)


def cmd_colorize(args) -> int:
    from colorgui.cli.pages import needs_preparing, prepare
    from model.batch import plan_jobs, run_jobs

    from colorgui.cli.memory import check_colorize_options, with_memory

    hints = _hint_file(args)
    check_output_folder("colorize", args.out, here=args.ray is None)
    check_colorize_options(args)  # a bad --reference stops here, before the model loads
    jobs, refused = plan_jobs(args.inputs, args.out, args.format,
                              numbered=getattr(args, "split_pages", False))
    for job in jobs:
        job.hints = hints
    if not jobs:
        print("nothing to colorize" if refused else "no photos found in the inputs",
              file=sys.stderr)
        for path, reason in refused:
            print(f"  {path}: {reason}", file=sys.stderr)
        return 1
    if args.ray is not None:
        if args.reference or args.album:  # the actors run process() without the memory
            print("colorgui colorize: error: --reference and --album run on this machine, "
                  "not with --ray", file=sys.stderr)
            return 2
        if needs_preparing(args):  # the prints would lie in this machine's temporary folder
            print("colorgui colorize: error: --split-pages, --restore-tone and --clean-dust "
                  "run on this machine: split or restore first (colorgui split), then "
                  "colorize the prints with --ray", file=sys.stderr)
            return 2
        return _colorize_on_ray(args, jobs, refused)
    try:
        prepared = prepare(args, jobs, refused) if needs_preparing(args) else None
    except KeyboardInterrupt:  # the prints lay in a temporary folder, removed with it
        what = "splitting the pages" if args.split_pages else "restoring the photos"
        print(f"\ninterrupted while {what}: nothing written, none of the "
              f"{plural(len(jobs), 'photo' if not args.split_pages else 'page')} colorized",
              file=sys.stderr)
        return 130
    if prepared is not None:
        jobs, refused = prepared.items, refused + prepared.failed
        if not jobs:
            print("nothing to colorize", file=sys.stderr)
            for path, reason in refused:
                print(f"  {path}: {reason}", file=sys.stderr)
            prepared.folder.cleanup()
            return 1
    colorizer = colorizer_from(args)
    if (args.reference or args.album) and not colorizer.takes_hints:  # was silently ignored
        print(f"colorgui colorize: error: --reference and --album give colour hints, which "
              f"the {model_name_of(colorizer)} model does not take: use the spatial model "
              f"(the default)",
              file=sys.stderr)
        if prepared is not None:
            prepared.folder.cleanup()
        return 2
    cannot = f" ({len(refused)} cannot be, below)" if refused else ""
    print(f"colorizing {plural(len(jobs), 'photo')}{cannot} with {colorizer.describe()} into "
          f"{args.out}", file=sys.stderr)
    shown = PhotoProgress(prepared.named if prepared else str)
    report = shown.report(len(jobs))
    try:
        with StopOnCtrlC(shown.progress) as stop, shown.progress:
            run_jobs(jobs, colorizer, with_memory(args, batch_settings(args)), report=report,
                     progress=shown.progress)
    except KeyboardInterrupt:  # the second Ctrl-C: the photo in hand is not written
        pass
    finally:
        if prepared is not None:
            prepared.folder.cleanup()
    if prepared is not None:  # the prints' pages, not their temporary files
        report.failed = [(prepared.named(path), reason) for path, reason in report.failed]
    return _finish(report, refused, len(jobs), "interrupted" if stop.requested else None)


def _finish(report, refused, planned: int, ended: str | None = None) -> int:
    """Print a batch's summary and failures; the exit status. ``ended``: "interrupted"
    (Ctrl-C, status 130) or "stopped" (by an error, status 1) before all had run."""
    not_started = planned - report.recorded
    report.failed = refused + report.failed
    summary = report.summary()
    if ended:
        summary = f"{ended}: {summary}, {not_started} not started"
    print(summary, file=sys.stderr)
    for path, reason in report.failed:
        print(f"  {path}: {reason}", file=sys.stderr)
    if ended == "interrupted":
        return 130
    return 1 if report.failed or ended else 0


def _colorize_on_ray(args, jobs, refused) -> int:
    """``colorize --ray``: the same jobs, colorized by actors on a Ray cluster."""
    try:
        from model.cluster import ClusterError, colorize_on_cluster
    except ModuleNotFoundError as exc:
        if exc.name != "ray":
            raise
        sys.exit("colorgui: error: --ray needs Ray: pip install 'colorgui[cluster]'")
    from model.store.checkpoint import CheckpointError, read_header
    from resources import BUNDLED_MODEL

    model = args.model or BUNDLED_MODEL
    try:  # here, in a second, rather than on every actor after Ray has started
        read_header(model)
    except CheckpointError as exc:
        sys.exit(f"colorgui: error: {exc}")
    print(f"colorizing {plural(len(jobs), 'photo')} with {model.name} on the Ray cluster "
          f"{args.ray or '(default address)'} into {args.out}", file=sys.stderr)
    shown, ended = PhotoProgress(), None
    report = shown.report(len(jobs))
    with shown.progress:
        try:
            colorize_on_cluster(
                jobs, model, batch_settings(args), address=args.ray or None, device=args.device,
                actors=args.ray_actors, cpus_per_actor=args.ray_cpus, report=report,
                on_pool=lambda pool: shown.progress.message(pool.describe()))
        except ClusterError as exc:
            shown.progress.message(f"colorgui: error: {exc}")
            ended = "stopped"
        except KeyboardInterrupt:  # a photo in flight is written whole or not at all
            ended = "interrupted"
    return _finish(report, refused, len(jobs), ended)


def cmd_info(args) -> int:
    from model.io.imageio import ImageReadError
    from model.io.provenance import read_provenance

    code = 0
    for path in args.photos:
        try:
            record = read_provenance(path)
        except ImageReadError as exc:
            print(f"colorgui info: error: {exc}", file=sys.stderr)
            code = 1
            continue
        lines = record.lines() if record else ["no colorgui provenance"]
        print(f"{path}: {lines[0]}" + "".join(f"\n  {line}" for line in lines[1:]))
    return code
