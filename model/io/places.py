"""Where colorgui keeps things of its own: the user cache folder (things that can be
made again: decoded photos, ONNX exports, the gamut table, branch outputs) and the user
data folder (things that cannot: fine-tuned models, hint edits, the demo). Environment
variables override both, for tests and portable installs.
"""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import numpy as np

from model import color
from model.io.files import atomic_write

log = logging.getLogger(__name__)


def user_data_root() -> Path:
    """colorgui's user data folder (``COLORGUI_DATA_DIR`` overrides it)."""
    env = os.environ.get("COLORGUI_DATA_DIR")
    if env:
        return Path(env)
    from platformdirs import user_data_dir

    return Path(user_data_dir("colorgui"))


def cache_root() -> Path:
    """colorgui's user cache folder (``COLORGUI_CACHE_DIR`` overrides it)."""
    env = os.environ.get("COLORGUI_CACHE_DIR")
    if env:
        return Path(env)
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("colorgui"))


def keep(path: Path, data: bytes) -> None:
    """Write a cache file atomically. A cache folder that cannot be written is not an
    error: the file is only made again next time."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, data)
    except OSError as exc:
        log.info("could not keep %s in the cache: %s", path, exc)


def gamut_table_name() -> str:
    """The gamut table's file name, which says its version and shape."""
    return f"gamut-table-v{color.TABLE_VERSION}-{color.TABLE_SHAPE[0]}x{color.TABLE_SHAPE[1]}.npy"


def _read_table(path: Path) -> np.ndarray | None:
    try:
        table = np.load(path, allow_pickle=False)
        if table.shape == color.TABLE_SHAPE and table.dtype == np.float32 \
                and np.isfinite(table).all():
            return table
    except (OSError, ValueError):  # not there, or damaged
        pass
    return None


def gamut_table() -> np.ndarray:
    """``model.color``'s gamut table: the copy a frozen build carries in ``resources/``
    (packaging/colorgui.spec), else the one kept in the user cache folder, else built and
    kept there (0.4-0.8 s saved on each later start, and on a frozen build's first); a
    damaged file is built again."""
    from resources import ROOT as RESOURCES

    name = gamut_table_name()
    for path in (RESOURCES / name, cache_root() / name):
        table = _read_table(path)
        if table is not None:
            return table
    table = color.build_max_chroma_table()
    buf = io.BytesIO()
    np.save(buf, table, allow_pickle=False)
    keep(cache_root() / name, buf.getvalue())
    return table
