"""What an installed colorgui carries: the wheel holds the bundled weights and the icon,
and the desktop entry and AppStream metadata agree with each other and with the app."""

import configparser
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
APP_ID = "io.github.colorgui.Colorgui"
DESKTOP = ROOT / "packaging" / f"{APP_ID}.desktop"
METAINFO = ROOT / "packaging" / f"{APP_ID}.metainfo.xml"


def test_the_wheel_carries_the_bundled_weights_and_icons(tmp_path):
    from resources import BUNDLED_MODELS, ICON_SIZES, model_card_path

    # a copy of the sources, so the build leaves nothing in the checkout
    src = tmp_path / "src"
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(
        ".git", ".venv", "venv", "build", "dist", "runs", ".devdata", "*.egg-info",
        "__pycache__", ".pytest_cache", ".hypothesis"))
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w",
                    str(tmp_path / "wheel"), str(src)], check=True)
    [wheel] = (tmp_path / "wheel").glob("colorgui-*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        for model in BUNDLED_MODELS.values():
            assert zf.read(f"resources/weights/{model.name}") == model.read_bytes()
            assert f"resources/weights/{model_card_path(model).name}" in names
        entry_points = zf.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
    assert "resources/weights/MODEL_CARD.md" in names
    assert "resources/icons/colorgui.svg" in names
    assert {f"resources/icons/colorgui-{s}.png" for s in ICON_SIZES} <= names
    assert "colorgui = colorgui.cli.main:main" in entry_points
    assert not any(n.startswith(("tests/", "docs/", "benchmarks/")) for n in names)


def test_desktop_entry_launches_the_app_with_its_icon():
    entry = configparser.ConfigParser(interpolation=None)
    entry.optionxform = str
    entry.read(DESKTOP)
    d = entry["Desktop Entry"]
    assert d["Type"] == "Application" and d["Terminal"] == "false"
    assert d["Exec"].split()[:2] == ["colorgui", "app"]
    assert d["Icon"] == APP_ID
    assert "image/jpeg" in d["MimeType"].split(";")
    assert d["Categories"].endswith(";") and "Graphics" in d["Categories"]


def test_appstream_metadata_names_the_desktop_entry():
    root = ET.parse(METAINFO).getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == DESKTOP.name
    assert root.find("provides/binary").text == "colorgui"
    from colorgui import __version__

    assert root.find("releases/release").get("version") == __version__


@pytest.mark.skipif(shutil.which("appstreamcli") is None, reason="appstreamcli not installed")
def test_appstream_metadata_validates():
    subprocess.run(["appstreamcli", "validate", "--no-net", str(METAINFO)], check=True,
                   capture_output=True)
