"""Settings remembered between runs (QSettings, INI format)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

from model.io.files import OUTPUT_FORMATS

MAX_RECENT = 10


class _Text:
    """A string setting stored under ``key``."""

    def __init__(self, key: str, default: str):
        self.key, self.default = key, default

    def valid(self, value: str) -> bool:
        return True

    def __get__(self, settings, owner=None):
        if settings is None:
            return self
        value = settings._get(self.key, self.default)
        return value if self.valid(value) else self.default

    def __set__(self, settings, value: str) -> None:
        settings.q.setValue(self.key, value)


class _Choice(_Text):
    """A string setting limited to ``choices``; anything else reads as the default."""

    def __init__(self, key: str, default: str, choices: tuple[str, ...]):
        super().__init__(key, default)
        self.choices = choices

    def valid(self, value: str) -> bool:
        return value in self.choices


class _Flag:
    """A yes/no setting stored under ``key`` (the INI file holds "true" or "false")."""

    def __init__(self, key: str, default: bool):
        self.key, self.default = key, default

    def __get__(self, settings, owner=None):
        if settings is None:
            return self
        value = settings.q.value(self.key, self.default)
        if isinstance(value, str):
            return {"true": True, "false": False}.get(value.lower(), self.default)
        return bool(value) if value is not None else self.default

    def __set__(self, settings, value: bool) -> None:
        settings.q.setValue(self.key, bool(value))


class Settings:
    def __init__(self, path: str | os.PathLike | None = None):
        if path is None and os.environ.get("COLORGUI_CONFIG_DIR"):
            path = Path(os.environ["COLORGUI_CONFIG_DIR"]) / "colorgui.ini"
        if path is not None:
            self.q = QSettings(str(path), QSettings.Format.IniFormat)
        else:
            self.q = QSettings(QSettings.Format.IniFormat, QSettings.Scope.UserScope,
                               "colorgui", "colorgui")

    def _get(self, key: str, default, kind=str):
        value = self.q.value(key, default)
        try:
            return kind(value)
        except (TypeError, ValueError):
            return default

    device = _Choice("device", "auto", ("auto", "cpu", "cuda"))
    theme = _Choice("theme", "dark", ("dark", "light"))
    output_format = _Choice("output_format", "same", ("same", *OUTPUT_FORMATS))
    model_path = _Text("model", "")      # "" is the bundled model
    output_dir = _Text("output_dir", "")  # "" is beside the original (Save, Preferences)
    batch_output_dir = _Text("batch/output_dir", "")  # the Batch tab's own "Save to"
    # the Batch tab carries each album's remembered colours to its other photos
    batch_album_memory = _Flag("batch/album_memory", False)
    batch_format = _Choice("batch/format", "same", ("same", *OUTPUT_FORMATS))
    batch_keep_structure = _Flag("batch/keep_structure", True)
    batch_skip_existing = _Flag("batch/skip_existing", True)
    last_folder = _Text("last_folder", "")  # where the file dialogs open ("": home)
    # outputs say in their metadata that their colours are AI's (model.io.provenance)
    provenance = _Flag("provenance", True)

    @property
    def jpeg_quality(self) -> int:
        return min(max(self._get("jpeg_quality", 95, int), 1), 100)

    @jpeg_quality.setter
    def jpeg_quality(self, value: int) -> None:
        self.q.setValue("jpeg_quality", int(value))

    def recent_files(self) -> list[str]:
        value = self.q.value("recent", [])
        if isinstance(value, str):
            value = [value]
        return [v for v in (value or []) if v][:MAX_RECENT]

    def add_recent(self, path: str) -> None:
        """Remember ``path`` first, as an absolute path (a relative one would name
        another file, or none, once colorgui starts from another folder)."""
        path = os.path.abspath(path)
        items = [path] + [p for p in self.recent_files() if p != path]
        self.q.setValue("recent", items[:MAX_RECENT])

    def forget_recent(self, paths: list[str]) -> None:
        self.q.setValue("recent", [p for p in self.recent_files() if p not in paths])

    def sync(self) -> None:
        self.q.sync()
