"""Colorize an archive on a Ray cluster: the local batch's plan and its per-photo step,
run by Ray Data in a pool of actors, one model loaded per actor (a GPU each where the
cluster has GPUs, CPUs otherwise).

Ray (``pip install colorgui[cluster]``) brings what a home-made scheduler would lack:
workers on many machines, an actor restarted and its batch retried when a worker or a
node dies, back-pressure so a million file names do not swamp the workers. What a photo
becomes is the local batch's business (``model.batch``): the same planning, the same
``colorize_one`` (read, colorize with the photo's hints, write atomically with
provenance), so an output is bit for bit the local CLI's. Only the ``--ray`` path of the
CLI imports this module; the app and the plain CLI never import Ray.

Every node must see the inputs and the output folder at the same paths (a shared file
system) and have the same colorgui installed; a model file that a node lacks is sent to
it through Ray's object store.
"""

from __future__ import annotations

import logging
import os
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import numpy as np
import ray

from model.batch import FAILED, SKIPPED, BatchItem, BatchReport, BatchSettings, process
from model.io.files import remove_stale_temporaries
from model.io.provenance import model_digest, software_version

# photos per Ray task: small enough that a worker's death loses little and the pool's
# last tasks end together, large enough that Ray's ~ms per task is no cost next to a
# photo (tens of ms at the least)
BATCH_SIZE = 8
# a batch whose worker died is retried this often, then its photos are reported as not
# finished (a photo that kills its worker every time must not stop the archive)
TASK_RETRIES = 3


class ClusterError(RuntimeError):
    """The run could not start or ended early on the cluster (its message says why)."""


@dataclass(frozen=True)
class ModelFile:
    """The model to load on every actor: a bundled one by name (each node has its own
    installation), else the driver's file, used where a node sees it at the same path
    with the same content, else its bytes from Ray's object store."""

    path: str
    sha256: str
    bundled: str | None = None
    data: Any = None  # ray.ObjectRef to the file's bytes (not a bundled model)

    @classmethod
    def of(cls, path: os.PathLike | str) -> ModelFile:
        from resources import BUNDLED_MODELS

        path = Path(path).resolve()
        digest = model_digest(path)
        bundled = next((n for n, p in BUNDLED_MODELS.items() if p.resolve() == path), None)
        return cls(str(path), digest, bundled,
                   None if bundled else ray.put(path.read_bytes()))

    def local_path(self, scratch: Path) -> Path:
        """The file on this node (a copy in ``scratch``, under its own name, if needed:
        provenance names a fine-tuned model by its file's stem)."""
        if self.bundled:
            from resources import BUNDLED_MODELS

            here = BUNDLED_MODELS[self.bundled]
            if model_digest(here) != self.sha256:
                raise ClusterError(f"the bundled {self.bundled} model on this node differs "
                                   "from the driver's: install the same colorgui everywhere")
            return here
        path = Path(self.path)
        if path.is_file() and model_digest(path) == self.sha256:
            return path
        copy = scratch / path.name
        copy.write_bytes(ray.get(self.data))
        return copy


class ColorizeBatch:
    """A Ray Data actor: loads the model once, then colorizes batches of photos with the
    local batch's per-photo step; returns each photo's state and reason."""

    def __init__(self, model: ModelFile, device: str, settings: BatchSettings, version: str):
        from model.colorizer import Colorizer  # torch: on the workers only
        from model.io.provenance import provenance_for

        if software_version() != version:
            raise ClusterError(f"colorgui {software_version()} on this node, {version} on "
                               "the driver: install the same colorgui everywhere")
        self._scratch = tempfile.TemporaryDirectory(prefix="colorgui-model-")
        self.colorizer = Colorizer(model.local_path(Path(self._scratch.name)), device=device)
        self.settings = settings
        self.record = provenance_for(self.colorizer, settings.saturation) \
            if settings.provenance else None

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        states, reasons = [], []
        for source, target, hints in zip(batch["source"], batch["target"], batch["hints"]):
            item = BatchItem(Path(source), Path(target), Path(hints) if hints else None)
            # an output that exists now was written since the driver looked: by an earlier
            # try of this batch, whose worker died after it, or by another run
            state, reason = process(item, self.colorizer, self.settings, self.record)
            states.append(state)
            reasons.append(reason or "")
        return {"source": batch["source"], "state": np.array(states, dtype=object),
                "reason": np.array(reasons, dtype=object)}


@dataclass(frozen=True)
class Pool:
    """Where the actors run: ``size`` of them, each with ``cpus`` CPUs and ``gpus`` GPUs."""

    size: int
    cpus: float
    gpus: float
    device: str  # the Colorizer's device on each actor

    def describe(self) -> str:
        each = f"{self.cpus:g} CPU" + ("s" if self.cpus != 1 else "")
        if self.gpus:
            each += " and a GPU" if self.gpus == 1 else f" and {self.gpus:.2g} of a GPU"
        return f"up to {self.size} actor{'s' if self.size != 1 else ''}, {each} each"


def plan_pool(resources: dict[str, float], device: str = "auto", actors: int | None = None,
              cpus_per_actor: float = 1.0) -> Pool:
    """The actor pool for a cluster's ``resources`` (``ray.cluster_resources()``): one
    actor per GPU where it has GPUs (unless ``device`` is cpu), else one per
    ``cpus_per_actor`` CPUs; ``actors`` caps (or, on a cluster that grows, raises) it.
    More actors than GPUs share them: each photo's decoding and encoding run on its
    actor's CPU, one photo at a time, so several actors can keep one GPU busy."""
    if cpus_per_actor <= 0:
        raise ClusterError("CPUs per actor must be more than 0")
    gpus = int(resources.get("GPU", 0))
    if device == "cuda" and not gpus:
        raise ClusterError("--device cuda, but the cluster has no GPUs")
    if gpus and device != "cpu":
        size = actors or gpus
        return Pool(size, cpus_per_actor, min(1.0, gpus / size), "cuda")
    size = actors or max(1, int(resources.get("CPU", 1) // cpus_per_actor))
    return Pool(size, cpus_per_actor, 0.0, "cpu")


def connect(address: str | None) -> bool:
    """Join the cluster at ``address`` (None: RAY_ADDRESS, else one started on this machine
    with ``ray start``, else a new local one); True if this call started Ray in this
    process (so it shuts it down), False where the process had joined one already."""
    if ray.is_initialized():
        return False
    try:
        ray.init(address=address or None, include_dashboard=False, logging_level="warning")
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise ClusterError(f"could not reach the Ray cluster at {address or 'the default address'}: "
                           f"{exc}") from None
    return True


def colorize_on_cluster(items: list[BatchItem], model: os.PathLike | str,
                        settings: BatchSettings = BatchSettings(), *,
                        address: str | None = None, device: str = "auto",
                        actors: int | None = None, cpus_per_actor: float = 1.0,
                        batch_size: int = BATCH_SIZE,
                        on_pool: Callable[[Pool], None] | None = None,
                        report: BatchReport | None = None) -> BatchReport:
    """Colorize ``items`` (``model.batch.plan_jobs``) on a Ray cluster, as ``run_jobs``
    does here: outputs that exist are skipped (so a rerun after any crash finishes only
    the rest), a failed photo is reported with its reason and the rest go on. A photo
    whose batch lost its worker more than ``TASK_RETRIES`` times is reported as failed,
    not finished. Each photo is recorded in ``report`` as its result comes back, so a
    caller that was interrupted still knows what was done; ``on_pool(pool)`` once the
    cluster is joined. ClusterError if the run could not start or stopped early."""
    report = BatchReport(total=len(items)) if report is None else report
    remove_stale_temporaries([item.target for item in items])  # of a run that was killed
    todo: dict[str, BatchItem] = {}
    for item in items:
        if item.target.exists() and not settings.overwrite:
            report.record(item, SKIPPED)
        else:
            todo[os.path.abspath(item.source)] = item
    if not todo:
        return report
    started = connect(address)
    try:
        pool = plan_pool(ray.cluster_resources(), device, actors, cpus_per_actor)
        if on_pool:
            on_pool(pool)
        results = _dataset(todo, ModelFile.of(model), pool, batch_size, settings=settings,
                           version=software_version())
        _collect(results, todo, report)
    finally:
        if started:
            ray.shutdown()
    return report


def _dataset(todo: dict[str, BatchItem], model: ModelFile, pool: Pool, batch_size: int, **settings):
    from ray.data import ActorPoolStrategy, DataContext

    context = DataContext.get_current()
    context.enable_progress_bars = False  # the CLI shows its own, per photo
    logging.getLogger("ray.data").setLevel(logging.WARNING)  # not each dataset's start and end
    # a batch whose retries ran out drops its photos instead of ending the run: they come
    # back without a result and are reported as not finished
    context.max_errored_blocks = -1
    rows = [{"source": source, "target": os.path.abspath(job.target),
             "hints": os.path.abspath(job.hints) if job.hints else ""}
            for source, job in todo.items()]
    blocks = max(1, min(len(rows) // batch_size, 4 * pool.size * 16))
    with warnings.catch_warnings():
        # Ray 2.60 deprecates both ways to cap an actor's task retries (removed in 2.64,
        # with no replacement yet): the cluster extra stays below 2.64 until there is one
        warnings.simplefilter("ignore", DeprecationWarning)
        return ray.data.from_items(rows, override_num_blocks=blocks).map_batches(
            ColorizeBatch, batch_size=batch_size, batch_format="numpy",
            compute=ActorPoolStrategy(min_size=1, max_size=pool.size),
            num_cpus=pool.cpus, num_gpus=pool.gpus, ray_remote_args_fn=_fault_tolerance,
            fn_constructor_kwargs={"model": model, "device": pool.device, **settings})


def _fault_tolerance() -> dict:
    """Each actor's Ray options: restarted whenever it dies; its batch retried a few
    times, not forever as Ray Data would (a photo that kills its worker every time)."""
    return {"max_restarts": -1, "max_task_retries": TASK_RETRIES}


def _collect(results, todo: dict[str, BatchItem], report: BatchReport) -> None:
    seen: set[str] = set()
    try:
        for row in results.iter_rows():
            seen.add(row["source"])
            report.record(todo[row["source"]], row["state"], row["reason"] or None)
    except ray.exceptions.RayError as exc:
        raise ClusterError(f"the run stopped on the cluster: {_last_line(exc)}") from exc
    for source, item in todo.items():
        if source not in seen:
            report.record(item, FAILED, f"not finished: its worker died {TASK_RETRIES + 1} "
                                        "times on its batch (run again to retry)")


def _last_line(exc: BaseException) -> str:
    """A Ray error's own message, after the worker's traceback it carries."""
    text = str(exc).strip()
    return text.splitlines()[-1] if text else exc.__class__.__name__
