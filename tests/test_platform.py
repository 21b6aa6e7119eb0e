"""Before Qt is asked for a window (it aborts the process where it cannot open one, naming
the wrong package), colorgui finds out why and says what to install."""

import shutil
import sys

import pytest

from colorgui import app
from colorgui.cli.main import main

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="X11 on Linux")


@pytest.fixture
def x11_session(monkeypatch):
    monkeypatch.setenv("QT_QPA_PLATFORM", "xcb")
    monkeypatch.setenv("DISPLAY", ":99")
    monkeypatch.delenv("XDG_SESSION_TYPE", raising=False)


@linux_only
def test_missing_xcb_libraries_name_the_packages_and_no_window_is_tried(
        x11_session, monkeypatch, capsys):
    monkeypatch.setattr(app, "missing_libraries",
                        lambda plugin: ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"])
    # were Qt asked for an xcb window here, it would abort this test process
    assert main(["app"]) == 1
    err = capsys.readouterr().err
    assert "libxcb-icccm.so.4, libxcb-keysyms.so.1" in err
    assert "sudo apt install libxcb-icccm4 libxcb-keysyms1" in err
    assert "sudo dnf install xcb-util-wm xcb-util-keysyms" in err


@linux_only
def test_an_unknown_missing_library_says_how_to_find_its_package(x11_session, monkeypatch,
                                                                  capsys):
    monkeypatch.setattr(app, "missing_libraries", lambda plugin: ["libfoo.so.3"])
    assert main(["app"]) == 1
    assert "apt-file search libfoo.so.3" in capsys.readouterr().err


@linux_only
def test_a_display_that_does_not_answer_is_named(x11_session, monkeypatch, capsys):
    monkeypatch.setattr(app, "missing_libraries", lambda plugin: [])
    monkeypatch.setattr(app, "can_connect_to_x", lambda: False)
    assert main(["app"]) == 1
    assert "X display :99 (DISPLAY) does not answer" in capsys.readouterr().err


@linux_only
def test_no_display_at_all_points_to_the_command_line(x11_session, monkeypatch, capsys):
    monkeypatch.setattr(app, "missing_libraries", lambda plugin: [])
    monkeypatch.delenv("DISPLAY")
    assert main(["app"]) == 1
    assert "DISPLAY is not set" in capsys.readouterr().err


def test_other_platforms_and_wayland_sessions_are_not_checked(monkeypatch):
    monkeypatch.setattr(app, "missing_libraries", lambda plugin: ["libxcb-icccm.so.4"])
    monkeypatch.setenv("QT_QPA_PLATFORM", "offscreen")
    assert app.platform_problem() is None
    monkeypatch.delenv("QT_QPA_PLATFORM")
    monkeypatch.setenv("XDG_SESSION_TYPE", "wayland")
    assert app.platform_problem() is None


@linux_only
@pytest.mark.skipif(shutil.which("ldd") is None, reason="needs ldd")
def test_missing_libraries_reads_what_the_loader_cannot_find(tmp_path):
    from pathlib import Path

    from PySide6.QtCore import QLibraryInfo

    plugins = Path(QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath))
    lonely = tmp_path / "libqxcb.so"  # away from ../../lib, where its Qt libraries are
    shutil.copy(plugins / "platforms" / "libqxcb.so", lonely)
    assert "libQt6XcbQpa.so.6" in app.missing_libraries(lonely)
    assert app.missing_libraries(plugins / "platforms" / "libqoffscreen.so") == []


def test_ldd_lines_that_say_not_found_are_read_once_each():
    text = ("\tlinux-vdso.so.1 (0x00007f)\n"
            "\tlibxcb-icccm.so.4 => not found\n"
            "\tlibxcb.so.1 => /lib/x86_64-linux-gnu/libxcb.so.1 (0x00007f)\n"
            "\tlibxcb-keysyms.so.1 => not found\n"
            "\tlibxcb-icccm.so.4 => not found\n")
    assert app.not_found(text) == ["libxcb-icccm.so.4", "libxcb-keysyms.so.1"]


def test_the_qt_binding_installed_keeps_none_alive():
    """PySide6 6.12.0 on Python 3.11 loses a reference to None per call, and the app then
    aborts after a few repaints of a photo with many hints: the install must not get it."""
    import PySide6
    from PySide6.QtCore import QObject

    probe = QObject()
    before = sys.getrefcount(None)
    for _ in range(1000):
        probe.setObjectName("probe")
    assert sys.getrefcount(None) > before - 100, PySide6.__version__
    assert app.binding_problem() is None


def test_a_binding_that_would_crash_is_named_before_any_window(monkeypatch, capsys):
    monkeypatch.setattr(app, "platform_problem", lambda: None)
    monkeypatch.setattr(app, "binding_problem", lambda: "PySide6 6.12.0 takes a reference away")
    assert main(["app"]) == 1
    assert "PySide6 6.12.0 takes a reference away" in capsys.readouterr().err
