"""The first use of a model on a CPU. The bundled models ship their ONNX graphs, so it
exports nothing and loads no torch; a model without one (never installed) has its
pretrained networks prepared for the CPU (an ONNX export into the user cache): the CLI
says so once, and the runtime tells any listener."""

import dataclasses
import os
import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

from colorgui.cli.main import main
from model.io.places import cache_root
from model.nets import backbones, graph, runtime
from model.nets.backbones import BranchSet
from tests.conftest import gradient_photo

pytestmark = pytest.mark.skipif(not runtime.available(), reason="needs ONNX Runtime")

NAMES = ("random_0", "random_1")  # the tiny checkpoint's branches
ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.parametrize("model", ["spatial", "paper"])
def test_a_bundled_model_used_first_on_a_clean_cache_exports_nothing_and_loads_no_torch(
        model, tmp_path):
    assert not cache_root().exists()  # the user cache of this test, empty
    Image.fromarray(gradient_photo(40, 56)).convert("L").save(tmp_path / "p.png")
    code = ("import sys; from colorgui.cli.main import main\n"
            "code = main(['colorize', sys.argv[1], '-o', sys.argv[2], '--device', 'cpu',"
            " '--model', sys.argv[3]])\n"
            "print(sorted({m.split('.')[0] for m in sys.modules} & {'torch', 'scipy'}))\n"
            "sys.exit(code)\n")
    run = subprocess.run([sys.executable, "-c", code, str(tmp_path / "p.png"),
                          str(tmp_path / "out"), model], cwd=ROOT, capture_output=True,
                         text=True, timeout=120, env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.strip().splitlines()[-1] == "[]"
    assert (tmp_path / "out" / "p.png").is_file()
    assert "preparing" not in run.stderr
    assert list(cache_root().rglob("*.onnx")) == []


@pytest.fixture
def pretend_pretrained(monkeypatch):
    """The random branches marked pretrained, so they go to ONNX Runtime like the real
    ones (in seconds, not 20)."""
    for name in NAMES:
        spec = backbones.branch_spec(name)
        monkeypatch.setitem(backbones.BRANCHES, name, dataclasses.replace(spec, pretrained=True))


def test_the_cli_says_once_that_it_prepares_the_model_and_not_on_the_second_run(
        pretend_pretrained, photo_folder, tmp_path, tiny_checkpoint, capsys):
    assert not runtime.cache_dir().exists()
    args = ["colorize", str(photo_folder / "p0.jpg"), "-o", str(tmp_path / "out"),
            "--model", str(tiny_checkpoint), "--device", "cpu", "--overwrite"]
    assert main(args) == 0
    err = capsys.readouterr().err
    assert err.count("preparing the model for this CPU: one time only") == 1
    assert "random_0 ready (" in err and "random_1 ready (" in err
    assert err.index("preparing") < err.index("colorizing 1 photo")
    assert main(args) == 0
    err = capsys.readouterr().err
    assert "preparing" not in err and " ready (" not in err and "1 colorized" in err


def test_the_runtime_tells_listeners_of_each_export_only_while_they_listen():
    events = []
    with graph.listening_to_exports(events.append):
        BranchSet(NAMES, runtime="onnx").load()
    assert [(e.name, e.stage) for e in events] == [
        ("random_0", "start"), ("random_0", "done"), ("random_1", "start"), ("random_1", "done")]
    assert all(e.seconds > 0 for e in events if e.stage == "done")
    with graph.listening_to_exports(events.append):
        BranchSet(NAMES, runtime="onnx").load()  # cached: nothing to prepare
    for f in runtime.cache_dir().glob("*.onnx"):
        f.unlink()
    BranchSet(NAMES, runtime="onnx").load()  # exported again, but nobody listens
    assert len(events) == 4
