"""colorgui train under torchrun: two CPU processes (gloo) shard the photos, DDP keeps
their weights equal, only rank 0 writes checkpoints, and a second run resumes."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from model.store.checkpoint import read_header
from model.training.distributed import ShardedEpochSampler, World, world_from_env
from model.training.train import BEST, LAST
from tests.conftest import colour_photo_folder

ROOT = Path(__file__).resolve().parents[1]


def test_a_plain_run_is_a_world_of_one_and_torchrun_says_each_rank():
    assert world_from_env({}) == World() and not World().active
    world = world_from_env({"WORLD_SIZE": "4", "RANK": "3", "LOCAL_RANK": "1"})
    assert (world.rank, world.size, world.local_rank, world.is_main) == (3, 4, 1, False)


def test_the_shards_share_out_each_epoch_evenly_and_resume_within_their_own():
    shards = [list(ShardedEpochSampler(10, 7, World(r, 3))) for r in range(3)]
    assert [len(s) for s in shards] == [4, 4, 4]  # padded: every process takes as many steps
    keys = [k for s in shards for k in s]
    assert {i for _, i in keys} == set(range(10)) and all(e == 0 for e, _ in keys)
    resumed = ShardedEpochSampler(10, 7, World(1, 3))
    resumed.set_epoch(0, 2)
    assert list(resumed) == shards[1][2:] and len(resumed) == 2


def torchrun_train(data: Path, out: Path, steps: int) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}
    return subprocess.run(
        [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2",
         "-m", "colorgui", "train", str(data), "-o", str(out), "--architecture", "hybrid",
         "--width", "0.125", "--branches", "random_0", "--input-size", "64", "--crop", "32",
         "--batch-size", "2", "--steps", str(steps), "--checkpoint-every", "2",
         "--val-share", "0.25", "--device", "cpu"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)


def test_train_under_torchrun_on_two_cpu_processes_writes_one_checkpoint_and_resumes(tmp_path):
    data = colour_photo_folder(tmp_path / "photos", 16)
    out = tmp_path / "run"
    run = torchrun_train(data, out, 4)
    assert run.returncode == 0, run.stderr[-4000:]
    ranks = dict(re.findall(r"rank (\d) of 2: .*weights ([0-9a-f]{12})", run.stderr))
    assert set(ranks) == {"0", "1"}, run.stderr[-4000:]  # both processes trained
    assert ranks["0"] == ranks["1"]  # on different photos, yet DDP kept the weights equal
    assert sorted(p.name for p in out.iterdir()) == sorted([BEST, LAST])
    assert run.stderr.count("best checkpoint:") == 1  # rank 0 alone reports
    _, meta = read_header(out / LAST)
    assert meta["step"] == 4 and meta["processes"] == 2
    assert (tmp_path / "user-cache").is_dir()  # the branch cache, written by rank 0

    run = torchrun_train(data, out, 6)
    assert run.returncode == 0, run.stderr[-4000:]
    assert run.stderr.count("resuming from") == 1 and "at step 4" in run.stderr
    assert read_header(out / LAST)[1]["step"] == 6
