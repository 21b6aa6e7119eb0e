"""What an installed colorgui carries: the wheel holds the bundled weights and the icon,
the desktop entry and AppStream metadata agree with each other and with the app, the
PyInstaller spec's two flavours carry what each needs, and the frozen build's smoke test
says what is missing."""

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
    assert "colorgui = colorgui.cli:run" in entry_points
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


SPEC = ROOT / "packaging" / "colorgui.spec"
SMOKE = ROOT / "packaging" / "smoke_test.sh"


def read_spec(flavour: str, monkeypatch, workpath: Path) -> dict:
    """What packaging/colorgui.spec hands PyInstaller for ``flavour``, read by running it
    with PyInstaller's build steps stubbed out (no build)."""
    pytest.importorskip("PyInstaller")
    monkeypatch.setenv("COLORGUI_FLAVOUR", flavour)
    made = {}

    class Analysis:
        def __init__(self, scripts, **kwargs):
            made.update(kwargs)
            self.scripts, self.binaries, self.datas, self.pure = [], [], [], []

    def collect(*args, name, **kwargs):
        made["folder"] = name

    exec(compile(SPEC.read_text(), str(SPEC), "exec"),
         {"SPECPATH": str(SPEC.parent), "workpath": str(workpath), "Analysis": Analysis, "PYZ": lambda *a, **k: None,
          "EXE": lambda *a, **k: None, "COLLECT": collect})
    made["files"] = {Path(dest) / Path(src).name for src, dest in made["datas"]}
    return made


def test_the_lean_build_leaves_out_torch_ray_and_the_qt_the_app_never_imports(monkeypatch,
                                                                             tmp_path):
    lean = read_spec("lean", monkeypatch, tmp_path)
    assert lean["folder"] == "colorgui"
    assert {"torch", "torchvision", "triton", "ray", "pyarrow", "nvidia", "pyqtgraph"} <= set(lean["excludes"])
    qt = {m.split(".")[1] for m in lean["excludes"] if m.startswith("PySide6.")}
    assert {"QtQuick", "QtQml", "QtPdf", "QtDataVisualization", "QtWebEngineCore", "QtOpenGL"} <= qt
    assert not {"QtCore", "QtGui", "QtWidgets"} & qt
    weights = Path("resources/weights")
    assert {weights / "colorgui-spatial.safetensors", weights / "colorgui-spatial.onnx"} <= lean["files"]
    assert weights / "colorgui-hybrid.safetensors" not in lean["files"]  # 78 MB with its graph
    from model.io.places import gamut_table_name

    assert Path("resources") / gamut_table_name() in lean["files"]  # built at packaging time


def test_the_full_build_keeps_torch_and_the_paper_model(monkeypatch, tmp_path):
    full = read_spec("full", monkeypatch, tmp_path)
    assert full["folder"] == "colorgui-full"
    assert "torch" not in full["excludes"] and "pyqtgraph" not in full["excludes"]
    assert {"ray", "pyarrow", "triton"} <= set(full["excludes"])  # Ray cannot run frozen
    assert not {"PySide6.QtOpenGL", "PySide6.QtSvg"} & set(full["excludes"])  # pyqtgraph's
    assert Path("resources/weights/colorgui-hybrid.safetensors") in full["files"]


def test_an_unknown_flavour_is_refused(monkeypatch, tmp_path):
    with pytest.raises(SystemExit, match="COLORGUI_FLAVOUR must be one of lean, full"):
        read_spec("tiny", monkeypatch, tmp_path)


def test_the_gamut_table_a_build_carries_is_used_and_none_is_built(tmp_path, monkeypatch):
    import numpy as np

    import resources
    from model import color
    from model.io.places import cache_root, gamut_table, gamut_table_name

    shipped = np.full(color.TABLE_SHAPE, 7.0, np.float32)  # not the real table: to tell it apart
    np.save(tmp_path / gamut_table_name(), shipped, allow_pickle=False)
    monkeypatch.setattr(resources, "ROOT", tmp_path)
    np.testing.assert_array_equal(gamut_table(), shipped)
    assert not list(cache_root().glob("gamut-table-*.npy"))


def fake_build(tmp_path, with_graph: bool) -> Path:
    """A build folder holding the bundled default's weights (and its graph) and the
    desktop integration, whose executable answers nothing."""
    from resources import BUNDLED_MODEL, ICONS

    build = tmp_path / "colorgui"
    internal = build / "_internal"
    weights = internal / "resources" / "weights"
    weights.mkdir(parents=True)
    (internal / "resources" / "icons").symlink_to(ICONS)
    for source, folder in ((DESKTOP, "applications"), (METAINFO, "metainfo")):
        (internal / "share" / folder).mkdir(parents=True)
        (internal / "share" / folder / source.name).symlink_to(source)
    (weights / BUNDLED_MODEL.name).symlink_to(BUNDLED_MODEL)
    if with_graph:
        (weights / BUNDLED_MODEL.with_suffix(".onnx").name).symlink_to(BUNDLED_MODEL.with_suffix(".onnx"))
    app = build / "colorgui"
    app.write_text("#!/bin/sh\nexit 0\n")
    app.chmod(0o755)
    return build


@pytest.mark.skipif(shutil.which("bash") is None or sys.platform == "win32", reason="a bash script")
def test_the_smoke_test_fails_in_a_clear_line_without_the_default_models_graph(tmp_path):
    from resources import BUNDLED_MODEL

    build = fake_build(tmp_path, with_graph=False)
    proc = subprocess.run(["bash", str(SMOKE), str(build)], capture_output=True, text=True)
    assert proc.returncode == 1
    graph = BUNDLED_MODEL.with_suffix(".onnx").name
    assert proc.stderr.strip().splitlines()[-1].startswith(
        f"smoke test FAILED: {build}: the bundled default model's ONNX graph {graph} is missing "
        f"from the build")
    # with the graph, that check passes, and the silent executable fails the next one
    build = fake_build(tmp_path / "with", with_graph=True)
    proc = subprocess.run(["bash", str(SMOKE), str(build)], capture_output=True, text=True)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1].endswith(f"did not load {BUNDLED_MODEL.name}")
