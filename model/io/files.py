"""Files at the bottom of the layers: which files are images, listing them, writing
atomically. Standard library only (no torch, no image decoders), so the app can list a
folder on its GUI thread without loading torch.
"""

from __future__ import annotations

import errno
import hashlib
import math
import os
import tempfile
from pathlib import Path

IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".tif", ".tiff", ".bmp", ".webp", ".gif"}

# the formats colorgui writes: the suffix an output gets (a format's name on the command
# line and in the app), the name a user reads, and the other suffixes that mean it
OUTPUT_FORMATS = {"png": ("PNG", ()), "jpg": ("JPEG", (".jpeg",)), "tif": ("TIFF", (".tiff",)),
                  "webp": ("WebP", ()), "bmp": ("BMP", ())}


class FileError(Exception):
    """A file that cannot be used; ``str()`` names the file and the reason."""

    def __init__(self, path: os.PathLike | str, reason: str):
        super().__init__(f"{path}: {reason}")
        self.path, self.reason = Path(path), reason


def read_json(path: os.PathLike | str, error: type[FileError], missing: str, parse):
    """``parse`` of the JSON document in a file. ``error(path, reason)`` when the file is
    missing (``missing`` says so), unreadable or not JSON, or ``parse`` raises ValueError."""
    import json

    try:
        text = Path(path).read_text(encoding="utf-8-sig")  # a byte-order mark is no fault
    except FileNotFoundError:
        raise error(path, missing) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise error(path, f"cannot be read ({exc})") from None
    try:
        doc = json.loads(text)
    except json.JSONDecodeError as exc:
        raise error(path, f"not valid JSON ({exc})") from None
    except RecursionError:  # thousands of [ or {: no file of ours
        raise error(path, "not a file colorgui can read (nested too deeply)") from None
    try:
        return parse(doc)
    except ValueError as exc:
        raise error(path, str(exc)) from None


def unwritable_folder(out: os.PathLike | str) -> str | None:
    """Why nothing could be written in the folder ``out`` (or where it would be made),
    naming it; None where it can. A file of a probe's is made and removed: the one sure
    test (permissions, a read-only disk, root's rights)."""
    out = Path(out)
    if out.exists() and not out.is_dir():
        return f"{out} is a file, not a folder"
    folder = out.absolute()
    while not folder.exists() and folder != folder.parent:  # made later: its nearest folder
        folder = folder.parent
    try:
        fd, probe = tempfile.mkstemp(prefix=".colorgui-", suffix=".probe", dir=folder)
        os.close(fd)
        os.unlink(probe)
    except OSError as exc:
        return f"{out}: nothing can be written in {folder} ({exc.strerror or exc})"
    return None


def json_number(value, what: str, low: float, high: float) -> float:
    """A number of a JSON document, within [low, high]; ValueError says why not, naming
    ``what`` (JSON's integers have no limit: 10**400 is no float)."""
    if value is None:
        raise ValueError(f"{what} is missing")
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} must be a number, not {value!r}")
    try:
        number = float(value)
    except OverflowError:
        raise ValueError(f"{what} is far too large") from None
    if not math.isfinite(number):
        raise ValueError(f"{what} must be a number, not {value!r}")
    if not low <= number <= high:
        raise ValueError(f"{what} is {value}, outside {low:g}..{high:g}")
    return number


LINK_LOOP = "a symbolic link loop (links that point at each other, and at no file)"


def is_link_loop(path: os.PathLike | str) -> bool:
    """Whether ``path`` is a symbolic link that leads round in a loop (``Path.resolve``
    raises on one, ``Path.exists`` calls it missing)."""
    try:
        os.stat(path)
    except OSError as exc:
        return exc.errno == errno.ELOOP
    return False


def distinct_names(paths: list[os.PathLike | str], known: dict | None = None) -> list[str]:
    """A name per path for a list or table: the name ``known`` gives it (path → name),
    else its file name; where names clash, as much of each path as tells them apart."""
    from collections import Counter

    paths = [Path(p) for p in paths]
    known = {_resolved(Path(k)): v for k, v in (known or {}).items()}
    own = {p: known.get(_resolved(p), p.name) if known else p.name for p in paths}
    depth = {p: 0 for p in paths}  # 0: its own name; n: the last n parts of its path

    def name(p: Path) -> str:
        if depth[p] == 0:
            return own[p]
        return str(Path(*p.parts[-depth[p]:])) if depth[p] < len(p.parts) else str(p)

    for _ in range(max((len(p.parts) for p in paths), default=0) + 1):
        names = [name(p) for p in paths]
        counts = Counter(names)  # (a count per name per path: 4 s for 10,000 photos)
        clash = {p for p, n in zip(paths, names) if counts[n] > 1}
        if not clash:
            break
        for p in clash:
            depth[p] += 1
    return [name(p) for p in paths]


def _resolved(path: Path) -> Path:
    """``path`` resolved, or as it is where it cannot be (a symbolic link loop)."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return path


def is_image_file(path: Path) -> bool:
    return path.suffix.lower() in IMAGE_SUFFIXES


def list_images(*roots: os.PathLike | str) -> list[Path]:
    """Every image file under the given files/folders, recursively, sorted, no repeats.

    Symlinked folders are followed once (a link loop cannot hang the walk).
    """
    found: dict[Path, None] = {}
    for root in map(Path, roots):
        if root.is_file():
            found[root] = None
            continue
        seen: set[str] = set()
        for dirpath, dirnames, filenames in os.walk(root, followlinks=True):
            real = os.path.realpath(dirpath)
            if real in seen:
                dirnames[:] = []
                continue
            seen.add(real)
            dirnames.sort()
            for name in sorted(filenames):
                p = Path(dirpath) / name
                if is_image_file(p) and not name.startswith("."):
                    found[p] = None
    return list(found)


def _read_umask() -> int | None:
    """The process's umask, read without changing it (Linux 4.7+), or None."""
    try:
        with open("/proc/self/status", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return None


def _umask_by_setting_it() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


# Elsewhere the only way to read the umask is to set it, which changes it for every
# thread of the process for a moment (a file another thread creates then gets the wrong
# permissions): done once, here, at import.
_IMPORT_UMASK = _read_umask()
if _IMPORT_UMASK is None:
    _IMPORT_UMASK = _umask_by_setting_it()


def _umask() -> int:
    mask = _read_umask()
    return _IMPORT_UMASK if mask is None else mask


_PART = ".part"  # temporaries are hidden files ".NAME.<random>.part" beside NAME


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    # through a symbolic link to its file (the rename put a plain file in the link's
    # place, and the file it named kept its old bytes); never over a device or a pipe
    path = Path(os.path.realpath(path)) if path.is_symlink() else path
    if path.exists() and not path.is_file():
        raise OSError(errno.EEXIST, "is not a regular file, so it is not written over", str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=_PART, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600; outputs are ordinary files
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def remove_stale_temporaries(targets: list[Path]) -> None:
    """Delete the temporary files that a killed process left while writing any of
    ``targets`` atomically; nothing else is touched."""
    by_folder: dict[Path, set[str]] = {}
    for target in targets:
        by_folder.setdefault(target.parent, set()).add(target.name)
    for folder, names in by_folder.items():
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            name = entry.name  # mkstemp's random part has no dots
            if name.startswith(".") and name.endswith(_PART) and \
                    name[1:].rsplit(".", 2)[0] in names and entry.is_file(follow_symlinks=False):
                Path(entry.path).unlink(missing_ok=True)


def hash_file(path: os.PathLike | str, algorithm: str = "sha256") -> str:
    """The hex digest of a file's bytes, read in 1 MB chunks."""
    h = hashlib.new(algorithm)
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def atomic_write(path: os.PathLike | str, data: bytes) -> None:
    """Write bytes to ``path`` so that it is either absent, the old file, or complete."""
    _atomic_write_bytes(Path(path), data)
