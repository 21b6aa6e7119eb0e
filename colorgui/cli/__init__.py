"""The command line: the parser and its commands (``main``), colorize and info
(``colorize``).

May import: ``model`` (``colorize --ray`` alone reaches ``model.cluster``) and, to open
the window, ``colorgui.app``.
"""
