"""Preferences: device, default output folder and format, JPEG/WebP quality, provenance,
theme."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QCheckBox, QComboBox, QDialog, QDialogButtonBox, QFileDialog,
                               QFormLayout, QHBoxLayout, QLineEdit, QPushButton, QSpinBox,
                               QWidget)

from colorgui.settings import Settings
from model.io.files import OUTPUT_FORMATS
from model.nets import lean


class SettingsDialog(QDialog):
    def __init__(self, settings: Settings, cuda_available: bool, parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("Preferences")
        self.settings = settings
        self.device = QComboBox()
        self.device.addItem("Automatic (GPU when available)", "auto")
        self.device.addItem("CPU", "cpu")
        without_torch = lean.unavailable("Running on a GPU (CUDA)")  # the lean build
        self.device.addItem("GPU (CUDA)" if cuda_available else
                            "GPU (CUDA) — needs the full build" if without_torch else
                            "GPU (CUDA) — none found", "cuda")
        self.device.model().item(2).setEnabled(cuda_available)
        if without_torch:
            self.device.setItemData(2, without_torch, Qt.ItemDataRole.ToolTipRole)
        self.device.setCurrentIndex(max(0, self.device.findData(settings.device)))
        self.output_dir = QLineEdit(settings.output_dir)
        self.output_dir.setPlaceholderText("Next to the original photo")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        out_row = QHBoxLayout()
        out_row.addWidget(self.output_dir, 1)
        out_row.addWidget(browse)
        self.output_format = QComboBox()
        self.output_format.addItem("Same as the original", "same")
        for value, (label, _) in OUTPUT_FORMATS.items():
            self.output_format.addItem(label, value)
        self.output_format.setCurrentIndex(max(0, self.output_format.findData(settings.output_format)))
        self.quality = QSpinBox(minimum=50, maximum=100, value=settings.jpeg_quality)
        self.provenance = QCheckBox("Mark outputs as AI-colorized (provenance metadata)")
        self.provenance.setChecked(settings.provenance)
        self.provenance.setToolTip(
            "Write into each saved photo that its colours were added by colorgui's model: "
            "the colorgui version, the model and its hash, the settings, the number of "
            "hints and the date (XMP and the EXIF Software tag). The photo's own camera "
            "data and colour profile are kept either way.")
        self.theme = QComboBox()
        self.theme.addItem("Dark", "dark")
        self.theme.addItem("Light", "light")
        self.theme.setCurrentIndex(self.theme.findData(settings.theme))
        form = QFormLayout(self)
        form.addRow("Run the model on:", self.device)
        form.addRow("Save colorized photos to:", out_row)
        form.addRow("Format:", self.output_format)
        form.addRow("JPEG/WebP quality:", self.quality)
        form.addRow("", self.provenance)
        form.addRow("Theme:", self.theme)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok |
                                   QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Save colorized photos to")
        if folder:
            self.output_dir.setText(folder)

    def apply(self) -> bool:
        """Store the choices; True when the device changed (the model must reload)."""
        s = self.settings
        changed = s.device != self.device.currentData()
        s.device = self.device.currentData()
        s.output_dir = self.output_dir.text().strip()
        s.output_format = self.output_format.currentData()
        s.jpeg_quality = self.quality.value()
        s.provenance = self.provenance.isChecked()
        s.theme = self.theme.currentData()
        s.sync()
        return changed
