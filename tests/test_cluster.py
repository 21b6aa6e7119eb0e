"""colorize --ray: on a local Ray instance (2 CPUs, the tiny model) the outputs are the
local CLI's bit for bit, a bad photo is reported, a rerun does nothing, and a worker or
the driver killed mid-run loses nothing. Skipped where Ray is not installed
(pip install -e '.[cluster]')."""

import importlib.util
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from PIL import Image

from colorgui.cli.main import main
from model.io.imageio import read_photo
from tests.conftest import gradient_photo

needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None,
                               reason="Ray is not installed (pip install -e '.[cluster]')")
ROOT = Path(__file__).resolve().parents[1]
FIXED_DATE = "2026-01-02T03:04:05+00:00"


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray instance for the module: 2 CPUs, a small object store, no dashboard."""
    ray = pytest.importorskip("ray")

    def fixed_clock():  # nested, so Ray sends it by value: workers cannot import tests
        """Each worker's setup: outputs dated as the local run's, so files can be equal."""
        import model.io.provenance

        model.io.provenance._now = lambda: FIXED_DATE

    ray.init(num_cpus=2, include_dashboard=False, object_store_memory=80 * 2**20,
             logging_level="warning", runtime_env={"worker_process_setup_hook": fixed_clock})
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


def run_cli(*args) -> int:
    return main(["colorize", *map(str, args), "--device", "cpu"])


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*"))
            if p.is_file()}


def test_colorize_with_ray_missing_says_how_to_install_it(tmp_path, photo_folder, monkeypatch,
                                                          capsys):
    monkeypatch.setitem(sys.modules, "ray", None)  # as where it is not installed
    monkeypatch.delitem(sys.modules, "model.cluster", raising=False)
    with pytest.raises(SystemExit) as stop:
        run_cli(photo_folder, "-o", tmp_path / "out", "--ray")
    assert "pip install 'colorgui[cluster]'" in str(stop.value)
    assert not (tmp_path / "out").exists()


@needs_ray
def test_the_pool_is_one_actor_per_gpu_else_per_cpus():
    from model.cluster import ClusterError, plan_pool

    assert plan_pool({"CPU": 64, "GPU": 4}) == plan_pool({"CPU": 8, "GPU": 4}, "cuda")
    assert plan_pool({"CPU": 64, "GPU": 4}).size == 4
    assert plan_pool({"CPU": 64, "GPU": 4}).device == "cuda"
    shared = plan_pool({"CPU": 64, "GPU": 4}, actors=16, cpus_per_actor=2)
    assert (shared.gpus, shared.cpus) == (0.25, 2)  # four actors decode for each GPU
    assert "0.25 of a GPU" in shared.describe()
    on_cpus = plan_pool({"CPU": 64, "GPU": 4}, "cpu", cpus_per_actor=4)
    assert (on_cpus.size, on_cpus.cpus, on_cpus.gpus, on_cpus.device) == (16, 4, 0, "cpu")
    assert plan_pool({"CPU": 2}, actors=5).size == 5  # a cluster that will grow
    with pytest.raises(ClusterError, match="no GPUs"):
        plan_pool({"CPU": 2}, "cuda")


@needs_ray
def test_ray_outputs_equal_the_local_clis_bit_for_bit_and_a_rerun_does_nothing(
        local_ray, tmp_path, photo_folder, tiny_checkpoint, monkeypatch, capsys):
    monkeypatch.setattr("model.io.provenance._now", lambda: FIXED_DATE)
    assert run_cli(photo_folder, "-o", tmp_path / "local", "--model", tiny_checkpoint) == 1
    capsys.readouterr()
    assert run_cli(photo_folder, "-o", tmp_path / "ray", "--model", tiny_checkpoint,
                   "--ray") == 1
    err = capsys.readouterr().err
    assert "5 colorized, 0 skipped (output exists), 1 failed" in err
    assert f"{photo_folder / 'broken.jpg'}: " in err  # named, with its reason
    local, on_ray = files_under(tmp_path / "local"), files_under(tmp_path / "ray")
    assert len(on_ray) == 5 and "album/sub/q.png" in on_ray
    assert on_ray == local  # pixels, metadata and provenance alike
    from model.io.provenance import read_provenance

    assert read_provenance(tmp_path / "ray" / "album" / "p0.jpg").model == "tiny"

    times = {p: p.stat().st_mtime_ns for p in (tmp_path / "ray").rglob("*")}
    assert run_cli(photo_folder, "-o", tmp_path / "ray", "--model", tiny_checkpoint,
                   "--ray") == 1
    assert "0 colorized, 5 skipped (output exists), 1 failed" in capsys.readouterr().err
    assert {p: p.stat().st_mtime_ns for p in (tmp_path / "ray").rglob("*")} == times


def big_album(root: Path, n: int) -> Path:
    root.mkdir()
    for i in range(n):
        Image.fromarray(gradient_photo(480, 640, i)).save(root / f"p{i:02}.png")
    return root


def outputs(out: Path) -> list[Path]:
    return sorted((out / "album").glob("p*.png"))


def wait_for(condition, timeout=90.0):
    end = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < end, "timed out waiting"
        time.sleep(0.02)


def assert_complete(out: Path, n: int) -> None:
    assert len(outputs(out)) == n
    for path in outputs(out):
        assert read_photo(path).size == (640, 480)
    assert not list(out.rglob(".*"))  # no temporary file left


def actor_pids() -> list[int]:
    """The processes of this colorgui's Ray actors (Ray titles them ray::ColorizeBatch)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            if entry.name.isdigit() and b"ColorizeBatch" in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            pass
    return found


posix_only = pytest.mark.skipif(not Path("/proc").is_dir(), reason="finds workers in /proc")


@needs_ray
@posix_only
def test_a_worker_killed_mid_run_is_replaced_and_no_photo_is_lost(local_ray, tmp_path,
                                                                  tiny_checkpoint, capsys):
    from model.batch import plan_jobs
    from model.cluster import colorize_on_cluster

    album, out = big_album(tmp_path / "album", 24), tmp_path / "out"
    jobs, _ = plan_jobs([album], out)
    result = {}
    run = threading.Thread(target=lambda: result.update(report=colorize_on_cluster(
        jobs, tiny_checkpoint, device="cpu", batch_size=2)))
    run.start()
    wait_for(lambda: len(outputs(out)) >= 3)
    killed = actor_pids()
    assert killed and len(outputs(out)) < 24
    os.kill(killed[0], signal.SIGKILL)
    run.join(timeout=120)
    assert not run.is_alive()
    report = result["report"]
    assert not report.failed and len(report.done) + len(report.skipped) == 24
    assert_complete(out, 24)


@needs_ray
@posix_only
def test_a_driver_killed_mid_run_leaves_no_half_file_and_a_rerun_finishes(
        local_ray, tmp_path, tiny_checkpoint, capsys):
    album, out = big_album(tmp_path / "album", 24), tmp_path / "out"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    driver = subprocess.Popen(
        [sys.executable, "-m", "colorgui", "colorize", str(album), "-o", str(out), "--model",
         str(tiny_checkpoint), "--device", "cpu", "--ray", local_ray], cwd=ROOT, env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        wait_for(lambda: len(outputs(out)) >= 3 or driver.poll() is not None)
    finally:
        driver.send_signal(signal.SIGKILL)
        driver.wait(timeout=30)
    stderr = driver.stderr.read().decode()
    assert 3 <= len(outputs(out)) < 24, stderr[-3000:]
    wait_for(lambda: not actor_pids(), timeout=60)  # the killed driver's actors end
    # they may finish the photos in hand first: count what is there once they are gone
    finished = outputs(out)
    for path in finished:  # every visible output is complete
        assert read_photo(path).size == (640, 480)
    assert run_cli(album, "-o", out, "--model", tiny_checkpoint, "--ray") == 0
    err = capsys.readouterr().err
    assert f"{24 - len(finished)} colorized, {len(finished)} skipped" in err
    assert_complete(out, 24)
