"""Restoring a print before it is colorized, on request only: its faded tone
(``model.album.tone``) and its dust and scratches (``model.album.dust``). Nothing here
runs unless asked for: the CLI has flags for it, the app shows before and after.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.album.dust import clean_damage, find_damage
from model.album.tone import restore_tone


@dataclass(frozen=True)
class RestoreOptions:
    tone: bool = False   # restore a faded print's levels and remove its cast
    dust: bool = False   # clean dust specks and scratches

    @property
    def any(self) -> bool:
        return self.tone or self.dust


def restore_print(rgb: np.ndarray, options: RestoreOptions) -> tuple[np.ndarray, list[str]]:
    """The print (float RGB) restored as ``options`` ask, and what was done, in words.
    Tone first: the dust is then found on the print's true contrast."""
    notes = []
    if options.tone:
        rgb, change = restore_tone(rgb)
        notes.append(change.describe())
    if options.dust:
        found = find_damage(rgb)
        rgb = clean_damage(rgb, found)
        notes.append(found.describe())
    return rgb, notes
