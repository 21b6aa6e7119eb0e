"""About colorgui: version, the model in use with its model card, and licences."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDialog, QDialogButtonBox, QLabel, QTextBrowser, QVBoxLayout, QWidget

from colorgui import __version__
from model.store.cards import model_card_text


class AboutDialog(QDialog):
    def __init__(self, model_path: str | None, model_description: str,
                 parent: QWidget | None = None):
        super().__init__(parent)
        self.setWindowTitle("About colorgui")
        self.resize(720, 640)
        self.header = header = QLabel(f"<h2>colorgui {__version__}</h2>"
                        "<p>Brings black-and-white photographs to colour.</p>"
                        f"<p>Model in use: {model_description}</p>")
        header.setWordWrap(True)
        self.text = QTextBrowser()
        self.text.setOpenExternalLinks(True)
        self.text.setMarkdown(model_card_text(model_path))
        # the card wraps to the width; its tables came out a pixel wider than the view,
        # which showed a scroll bar with nothing to scroll to
        self.text.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(header)
        layout.addWidget(self.text, 1)
        layout.addWidget(buttons)
