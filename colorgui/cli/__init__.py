"""The command line: the parser and its commands (``main``), colorize and info
(``colorize``); ``run`` is the ``colorgui`` command itself.

May import: ``model`` (``colorize --ray`` alone reaches ``model.cluster``) and, to open
the window, ``colorgui.app``.
"""

from __future__ import annotations

import logging
import signal
import sys

_interrupts = 0  # Ctrl-C presses seen by ``run``'s handler


def _interrupted(signum, frame):
    global _interrupts
    _interrupts += 1
    # what a library then says failed (ONNX Runtime: "initialization failed", logged as
    # a graph that cannot be used) is this interrupt, not the user's files
    logging.disable(logging.INFO)
    raise KeyboardInterrupt


def _terminated(signum, frame):
    # unwinds like an exception, so temporary folders and half-written files go with it
    raise SystemExit(128 + signum)


def interrupted_before() -> bool:
    """Whether a Ctrl-C came while the command was loading. Libraries that catch every
    exception (ONNX Runtime building a session, an import) can swallow the
    KeyboardInterrupt; the command then asks here (``colorize.colorizer_from``)."""
    return _interrupts > 0


def run() -> int:
    """``colorgui``: ``main`` with Ctrl-C counted from the first instant (one while the
    modules load ends the command without a traceback), and SIGTERM cleaning up."""
    signal.signal(signal.SIGINT, _interrupted)
    signal.signal(signal.SIGTERM, _terminated)
    try:
        from colorgui.cli.main import main

        return main()
    except KeyboardInterrupt:  # before a command's own stopping point
        print("\ninterrupted", file=sys.stderr)
        return 130
    finally:
        # the command has said what it did: a Ctrl-C pressed as the interpreter shuts
        # down would only print a traceback from whatever library was tidying up
        signal.signal(signal.SIGINT, signal.SIG_IGN)
