"""The layers hold: model/ never imports the GUI or Qt, and the GUI thread lists and
plans photos without loading torch (1.75 s)."""

import os
import subprocess
import sys
from pathlib import Path

from PIL import Image

from tests.conftest import gradient_photo

ROOT = Path(__file__).resolve().parents[1]


def lint_imports(root: Path) -> subprocess.CompletedProcess:
    lint = Path(sys.executable).parent / "lint-imports"  # from the [test] extra
    assert lint.exists(), "pip install -e '.[test]' installs import-linter"
    env = {**os.environ, "PYTHONPATH": str(root)}
    return subprocess.run([str(lint), "--no-cache"], cwd=root, env=env, capture_output=True,
                          text=True, timeout=300)


def test_the_import_contracts_in_pyproject_are_kept():
    run = lint_imports(ROOT)
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    assert "0 broken" in run.stdout


def test_the_layers_contract_fails_when_a_lower_room_imports_a_higher_one(tmp_path):
    import shutil

    for name in ("model", "colorgui", "resources"):
        shutil.copytree(ROOT / name, tmp_path / name,
                        ignore=shutil.ignore_patterns("*.safetensors", "__pycache__"))
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    files = tmp_path / "model" / "io" / "files.py"  # the bottom of the house…
    files.write_text(files.read_text() + "\nfrom model.colorizer import Colorizer  # noqa\n")
    run = lint_imports(tmp_path)
    assert run.returncode != 0
    assert "model.io is not allowed to import model.colorizer" in run.stdout
    assert "- model.io.files -> model.colorizer" in run.stdout


ADD_A_FOLDER = """
import sys
from PySide6.QtWidgets import QApplication

app = QApplication([])
from colorgui.main_window import MainWindow
from colorgui.settings import Settings

window = MainWindow(Settings(sys.argv[1]))
window.batch_tab.add_paths([sys.argv[2]])
print(window.batch_tab.table.rowCount())
print(sorted({m.split(".")[0] for m in sys.modules} & {"torch", "torchvision", "onnxruntime"}))
"""


def test_adding_a_folder_to_the_batch_tab_loads_no_torch(tmp_path):
    album = tmp_path / "album"
    (album / "sub").mkdir(parents=True)
    for name in ("a.png", "sub/b.jpg"):
        Image.fromarray(gradient_photo(16, 16)).save(album / name)
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen", "PYTHONPATH": str(ROOT)}
    run = subprocess.run([sys.executable, "-c", ADD_A_FOLDER, str(tmp_path / "c.ini"),
                          str(album)], cwd=ROOT, env=env, capture_output=True, text=True,
                         timeout=120)
    assert run.returncode == 0, run.stderr[-3000:]
    rows, heavy = run.stdout.split("\n")[:2]
    assert rows == "2" and heavy == "[]"
