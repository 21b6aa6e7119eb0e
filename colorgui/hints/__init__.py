"""Colour hints in the Colorize tab: the hints of a photo and their undo (``edits``), the
panel that picks a colour (``panel``), the layer drawn over the photo (``layer``), the
tool that joins them (``tool``), the hint jobs of the worker (``jobs``) and the session
that keeps edits per photo (``session``).

May import: ``model``, and ``colorgui.jobs``, ``colorgui.settings``, ``colorgui.qt_images``.
"""
