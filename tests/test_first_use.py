"""The first use prepares the pretrained networks for the CPU (an ONNX export, about 20 s
for the paper model's branches): the CLI says so once, and the runtime tells any listener."""

import dataclasses

import pytest

from colorgui.cli.main import main
from model.nets import backbones, graph, runtime
from model.nets.backbones import BranchSet

pytestmark = pytest.mark.skipif(not runtime.available(), reason="needs ONNX Runtime")

NAMES = ("random_0", "random_1")  # the tiny checkpoint's branches


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
