"""Start the desktop app."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

# The shared libraries Qt's X11 (xcb) platform plugin links, and the packages that ship
# them: (Debian/Ubuntu, Fedora). A plain Debian install lacked libxcb-icccm4 and
# libxcb-keysyms1, and Qt then aborted (exit 134) blaming libxcb-cursor0.
XCB_PACKAGES = {
    "libxcb-cursor.so.0": ("libxcb-cursor0", "xcb-util-cursor"),
    "libxcb-icccm.so.4": ("libxcb-icccm4", "xcb-util-wm"),
    "libxcb-keysyms.so.1": ("libxcb-keysyms1", "xcb-util-keysyms"),
    "libxcb-image.so.0": ("libxcb-image0", "xcb-util-image"),
    "libxcb-render-util.so.0": ("libxcb-render-util0", "xcb-util-renderutil"),
    "libxcb-util.so.1": ("libxcb-util1", "xcb-util"),
    "libxkbcommon-x11.so.0": ("libxkbcommon-x11-0", "libxkbcommon-x11"),
    "libxkbcommon.so.0": ("libxkbcommon0", "libxkbcommon"),
    **{f"libxcb-{ext}.so.{v}": (f"libxcb-{ext}{v}", "libxcb")
       for ext, v in (("randr", 0), ("shape", 0), ("shm", 0), ("sync", 1), ("xfixes", 0),
                      ("render", 0), ("xkb", 1), ("xinput", 0))},
    "libxcb.so.1": ("libxcb1", "libxcb"),
    "libX11-xcb.so.1": ("libx11-xcb1", "libX11-xcb"),
    "libX11.so.6": ("libx11-6", "libX11"),
    "libGL.so.1": ("libgl1", "libglvnd-glx"),
    "libEGL.so.1": ("libegl1", "libglvnd-egl"),
    "libfontconfig.so.1": ("libfontconfig1", "fontconfig"),
    "libfreetype.so.6": ("libfreetype6", "freetype"),
    "libglib-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libgthread-2.0.so.0": ("libglib2.0-0", "glib2"),
    "libdbus-1.so.3": ("libdbus-1-3", "dbus-libs"),
}


def not_found(ldd_output: str) -> list[str]:
    """The libraries ``ldd`` could not find ("libfoo.so.1 => not found"), once each."""
    return list(dict.fromkeys(re.findall(r"^\s*(\S+)\s+=>\s+not found", ldd_output, re.M)))


def missing_libraries(plugin: Path) -> list[str]:
    """The shared libraries ``plugin`` needs that the loader cannot find; none where
    ``ldd`` is missing or fails (Qt then reports the problem itself)."""
    try:
        proc = subprocess.run(["ldd", str(plugin)], capture_output=True, text=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return []
    return not_found(proc.stdout)


def uses_xcb() -> bool:
    """Whether Qt will open its window through X11 (xcb) on this Linux machine: the
    default, unless QT_QPA_PLATFORM names another platform or the session is Wayland
    (which Qt then prefers)."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform:
        return "xcb" in platform
    return os.environ.get("XDG_SESSION_TYPE") != "wayland"


def install_hint(missing: list[str]) -> str:
    """What to install for the missing libraries, per distribution."""
    known = [name for name in missing if name in XCB_PACKAGES]
    unknown = [name for name in missing if name not in XCB_PACKAGES]
    lines = []
    if known:
        apt = " ".join(dict.fromkeys(XCB_PACKAGES[n][0] for n in known))
        dnf = " ".join(dict.fromkeys(XCB_PACKAGES[n][1] for n in known))
        lines += [f"  Debian/Ubuntu: sudo apt install {apt}",
                  f"  Fedora:        sudo dnf install {dnf}"]
    for name in unknown:
        lines.append(f"  {name}: find its package with `apt-file search {name}` or "
                     f"`dnf provides '*/{name}'`")
    return "\n".join(lines)


def platform_problem() -> str | None:
    """Why Qt could not open a window on this machine, found before Qt is asked to (it
    aborts the process then, with a message that misnames the cause), or None."""
    if not sys.platform.startswith("linux") or not uses_xcb():
        return None
    from PySide6.QtCore import QLibraryInfo  # QtCore loads no platform plugin

    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    plugin = plugins / "platforms" / "libqxcb.so"
    missing = missing_libraries(plugin) if plugin.is_file() else []
    if missing:
        return (f"the window cannot open: Qt's X11 platform plugin needs system libraries "
                f"that are not installed ({', '.join(missing)}). Install them and run "
                f"colorgui again:\n{install_hint(missing)}\n"
                f"The command line works without them (colorgui colorize --help).")
    display = os.environ.get("DISPLAY")
    if not display:
        return ("the window cannot open: no display (DISPLAY is not set). Run colorgui in a "
                "desktop session; on a machine without one, use the command line "
                "(colorgui colorize --help).")
    if not plugin.is_file() or can_connect_to_x():
        return None
    return (f"the window cannot open: the X display {display} (DISPLAY) does not answer or "
            f"refuses this user. Is the desktop session running, and is XAUTHORITY set for "
            f"it? Without one, use the command line (colorgui colorize --help).")


def binding_problem() -> str | None:
    """Why this Qt binding would crash the app, found by a probe, or None.

    PySide6 6.12.0 on Python 3.11 takes a reference away from None with every call of a
    method that returns nothing (QPainter's setPen, drawRect…). None is not immortal
    before Python 3.12, so after some thousands of calls Python aborts with "Fatal Python
    error: none_dealloc": a few repaints of a photo with a reference's hundreds of hints
    (seven calls per hint), or a long session of hint editing."""
    if sys.version_info >= (3, 12):
        return None
    import PySide6
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(100):
        probe.setObjectName("probe")
    if sys.getrefcount(None) > before - 50:
        return None
    return (f"PySide6 {PySide6.__version__} takes a reference away from Python's None with "
            f"every call on Python {sys.version_info.major}.{sys.version_info.minor}, which "
            f"crashes colorgui within minutes of use. Install another version and run "
            f"colorgui again: pip install 'PySide6!=6.12.0' (or use Python 3.12 or later).")


def can_connect_to_x() -> bool:
    """Whether libxcb can connect to the X display that DISPLAY names (a few ms; Qt
    aborts the process where it cannot)."""
    import ctypes

    try:
        xcb = ctypes.CDLL("libxcb.so.1")
    except OSError:
        return True  # ldd has named what is missing; let Qt say the rest
    xcb.xcb_connect.restype = ctypes.c_void_p
    xcb.xcb_connect.argtypes = [ctypes.c_char_p, ctypes.c_void_p]
    xcb.xcb_connection_has_error.argtypes = [ctypes.c_void_p]
    xcb.xcb_disconnect.argtypes = [ctypes.c_void_p]
    connection = xcb.xcb_connect(None, None)
    try:
        return xcb.xcb_connection_has_error(connection) == 0
    finally:
        xcb.xcb_disconnect(connection)


def run(paths: list[str] | None = None, batch_inputs: list[str] | None = None,
        batch_output: str | None = None, self_test: bool = False) -> int:
    """Open the window; ``paths``: photos to open, ``batch_inputs``/``batch_output``: a
    queue to show in the Batch tab. ``self_test``: close again once the model has loaded,
    exiting 0, or 1 if it could not load (checks an installed or frozen app). Returns 1,
    saying why and what to install, where Qt could not open a window here."""
    problem = platform_problem() or binding_problem()
    if problem:
        print(f"colorgui: error: {problem}", file=sys.stderr)
        return 1
    import signal

    # the command line's SIGTERM unwinds as an exception (colorgui.cli.run): through Qt's
    # event loop, with the model's thread running, that aborted the app; it ends as it did
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from PySide6.QtCore import QObject, Slot
    from PySide6.QtWidgets import QApplication

    from colorgui.main_window import MainWindow, app_icon, apply_theme

    app = QApplication.instance() or QApplication(sys.argv[:1])
    from colorgui.pages_worker import wait_for_finishing

    app.aboutToQuit.connect(wait_for_finishing)  # a print cut when its dialog was cancelled
    app.setApplicationName("colorgui")
    app.setDesktopFileName("io.github.colorgui.Colorgui")  # matches the .desktop entry
    app.setWindowIcon(app_icon())
    window = MainWindow()
    apply_theme(app, window.settings.theme)
    window.show()
    if paths:
        window.open_paths(paths)
    if batch_inputs:
        if batch_output:
            window.batch_tab.output_edit.setText(batch_output)
        window.batch_tab.add_paths(batch_inputs)
    if self_test:
        class SelfTest(QObject):  # a GUI-thread receiver, so the slots run on this thread
            @Slot(str, str, str)
            def loaded(self, path, description, device):
                print(f"self-test passed: window shown, model loaded: {description}")
                window.close()
                app.exit(0)

            @Slot(str, str)
            def failed(self, path, reason):
                print(f"self-test failed: {reason}", file=sys.stderr)
                window.close()
                app.exit(1)

        # nobody is there to answer a dialog: an error is said on stderr, and the failure
        # below ends the test
        window.error = lambda title, reason: print(f"{title}: {reason}", file=sys.stderr)
        window.start_worker()
        check = SelfTest(window)
        window.host.modelLoaded.connect(check.loaded)
        window.host.modelFailed.connect(check.failed)
    return app.exec()
