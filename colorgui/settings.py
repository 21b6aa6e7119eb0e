"""Settings remembered between runs (QSettings, INI format)."""

from __future__ import annotations

import os
from pathlib import Path

from PySide6.QtCore import QSettings

MAX_RECENT = 10


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
            if kind is bool and isinstance(value, str):
                return value.lower() == "true"
            return kind(value)
        except (TypeError, ValueError):
            return default

    @property
    def device(self) -> str:
        value = self._get("device", "auto")
        return value if value in ("auto", "cpu", "cuda") else "auto"

    @device.setter
    def device(self, value: str) -> None:
        self.q.setValue("device", value)

    @property
    def theme(self) -> str:
        return "light" if self._get("theme", "dark") == "light" else "dark"

    @theme.setter
    def theme(self, value: str) -> None:
        self.q.setValue("theme", value)

    @property
    def model_path(self) -> str:
        return self._get("model", "")

    @model_path.setter
    def model_path(self, value: str) -> None:
        self.q.setValue("model", value)

    @property
    def output_dir(self) -> str:
        return self._get("output_dir", "")

    @output_dir.setter
    def output_dir(self, value: str) -> None:
        self.q.setValue("output_dir", value)

    @property
    def output_format(self) -> str:
        value = self._get("output_format", "same")
        return value if value in ("same", "png", "jpg", "tif") else "same"

    @output_format.setter
    def output_format(self, value: str) -> None:
        self.q.setValue("output_format", value)

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
        items = [path] + [p for p in self.recent_files() if p != path]
        self.q.setValue("recent", items[:MAX_RECENT])

    def sync(self) -> None:
        self.q.sync()
