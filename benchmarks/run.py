"""Speed and memory of colorgui on this machine, against peer architectures.

    python benchmarks/run.py            # prints one Markdown table (medians)
    python benchmarks/run.py --quick    # fewer repeats and a 20-photo folder

Rows: inference at 256×256 (batch 1 and 8) for the bundled models (the default is "ours";
every other bundled model gets its own row) and two peers built
from their papers with random weights (Zhang et al. ECCV 2016; the paper's own hybrid
with VGG16 + ResNet50 + Inception-v3); end-to-end read → colorize → write for one
12-megapixel photo and for a folder of 1–3 megapixel photos, with peak resident memory;
process start to the first colorized photo; time until the GUI window is on screen;
training steps per second of ``fit`` with cached branch outputs; and the network's FLOPs
against a measured dense-matmul rate. CUDA rows appear when a GPU is present.
"""

from __future__ import annotations

import argparse
import functools
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np
import torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def median_time(fn, repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def matmul_flops_per_s(device: torch.device, n: int = 2048, repeats: int = 5,
                       dtype: torch.dtype = torch.float32) -> float:
    a = torch.randn(n, n, device=device, dtype=dtype)
    b = torch.randn(n, n, device=device, dtype=dtype)

    def run():
        a @ b
        if device.type == "cuda":
            torch.cuda.synchronize()

    return 2 * n**3 / median_time(run, repeats, warmup=2)


def count_flops(fn) -> int:
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def run_child(code: str, env: dict | None = None) -> tuple[float, float, str]:
    """Run Python code in a fresh process: (wall seconds, peak RSS in MB, stdout)."""
    # peak RSS from VmHWM: ru_maxrss survives fork+exec and would report this (large)
    # benchmark process instead of the child
    script = ("import resource, sys, time\n" + code + "\n"
              "try:\n"
              "    hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0]\n"
              "    print('PEAK_MB', int(hwm.split()[1]) / 1024)\n"
              "except OSError:\n"
              "    print('PEAK_MB', resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)\n")
    t = time.perf_counter()
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                         cwd=ROOT, env={**os.environ, **(env or {})}, check=True).stdout
    wall = time.perf_counter() - t
    peak = float([line for line in out.splitlines() if line.startswith("PEAK_MB")][-1].split()[1])
    return wall, peak, out


def make_photos(folder: Path, n: int, seed: int = 0,
                megapixels: tuple[float, float] = (1.0, 3.0)) -> None:
    """``n`` grayscale JPEG scans of scikit-image's photos, of random size and shape."""
    from PIL import Image
    from skimage import data

    rng = np.random.default_rng(seed)
    bases = [data.astronaut(), data.chelsea(), data.coffee(), data.rocket()]
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        mp = rng.uniform(*megapixels) * 1e6
        aspect = rng.uniform(0.66, 1.5)
        w, h = int((mp * aspect) ** 0.5), int((mp / aspect) ** 0.5)
        img = Image.fromarray(bases[i % 4]).convert("L").resize((w, h))
        img.save(folder / f"photo_{i:03d}.jpg", quality=90)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    repeats = 3 if args.quick else 7
    folder_n = 20 if args.quick else 100
    torch.set_grad_enabled(False)

    from benchmarks.peers import PaperHybrid, ZhangECCV16
    from model import color
    from model.nets.backbones import BranchSet
    from model.colorizer import Colorizer, network_size
    from model.nets.branch_input import branch_gray
    from model.colorizer import bundled_model_path
    from resources import BUNDLED_MODELS

    rows: list[tuple[str, str]] = []
    devices = [torch.device("cpu")] + ([torch.device("cuda")] if torch.cuda.is_available() else [])
    for device in devices:
        tag = device.type.upper()
        colorizer = Colorizer(device=device.type)
        fp32 = Colorizer(device=device.type, precision="float32")
        has_branches = bool(colorizer.config.branches)
        torch_branches = BranchSet(colorizer.config.branches, device, runtime="torch")
        # on a GPU the branches run in PyTorch anyway
        eager = (Colorizer(device="cpu", branches=torch_branches)
                 if device.type == "cpu" and has_branches else None)
        spatial = colorizer.config.architecture == "spatial"
        eager_net = (Colorizer(device="cpu", runtime="torch")
                     if device.type == "cpu" and spatial else None)
        others = {key: Colorizer(path, device=device.type) for key, path in BUNDLED_MODELS.items()
                  if path != bundled_model_path() and path.is_file()}
        dtype = getattr(colorizer.engine, "network_dtype", torch.float32)  # the graph: float32
        dtype = None if dtype == torch.float32 else dtype
        L = color.luminance(np.random.default_rng(0).random((256, 256, 3), dtype=np.float32))

        @functools.cache
        def working_at(side):  # a 256² photo's lightness at a network's working size
            h, w = network_size(256, 256, side)
            return cv2.resize(L, (w, h), interpolation=cv2.INTER_AREA)

        def working(c):  # made once per size, not inside the timed calls
            return working_at(c.config.input_size)
        zhang, paper = ZhangECCV16().eval().to(device), PaperHybrid().eval().to(device)
        ours = (f"colorgui bundled model ({colorizer.config.architecture})"
                + (f", {str(dtype).split('.')[1]} network" if dtype else ""))
        speeds = {}
        for batch in (1, 8):
            def run(c):  # 8 photos go through in the colorizer's own chunks
                small = working(c)
                c._last.clear()  # a single photo's colours are kept for its hints: not a new photo
                for start in range(0, batch, c.batch_size):
                    c._forward([small] * min(c.batch_size, batch - start), None, c.vivid)
                if device.type == "cuda":
                    torch.cuda.synchronize()
            x = torch.randn(batch, 1, 256, 256, device=device)
            candidates = [(ours, lambda: run(colorizer))]
            candidates += [(f"colorgui {key} model (also bundled)", lambda c=c: run(c))
                           for key, c in others.items()]
            if dtype:
                candidates.append(("colorgui bundled model, all float32", lambda: run(fp32)))
            if eager is not None:
                candidates.append(("colorgui bundled model, branches in PyTorch instead of "
                                   "ONNX Runtime", lambda: run(eager)))
            if eager_net is not None:
                candidates.append(("colorgui bundled model, network in PyTorch instead of "
                                   "ONNX Runtime", lambda: run(eager_net)))
            candidates += [("Zhang et al. ECCV16 (random weights, float32)", lambda: zhang(x)),
                           ("paper hybrid VGG16+ResNet50+Inception-v3 (random, float32)",
                            lambda: paper(x))]
            for name, fn in candidates:
                speeds[(name, batch)] = batch / median_time(fn, repeats)
        for (name, batch), ips in speeds.items():
            ratio = speeds[(ours, batch)] / ips
            rows.append((f"{tag} 256×256 batch {batch}: {name}",
                         f"{ips:.2f} photos/s" + ("" if ratio == 1 else f" (colorgui {ratio:.1f}× faster)")))

        # FLOPs against the machine's own dense-matmul rate, for the whole pipeline and
        # for the encoder-decoder alone in the precision it runs in. The branches' FLOPs
        # are counted on their PyTorch modules (the counter does not see ONNX Runtime)
        small = working(colorizer)
        g = [branch_gray(small)]
        branch_flops, feats = 0, None
        if has_branches:
            branch_flops = count_flops(lambda: torch_branches.all_probabilities(g))
            feats = colorizer.branches.all_probabilities(g)
        x_np = color.normalise_L(small)[None, None].astype(np.float32)
        xin = torch.from_numpy(x_np).to(device)

        def network():  # one pass, as the colorizer runs it (the ONNX graph on a CPU)
            colorizer._ab(x_np, None, colorizer.vivid)
            if device.type == "cuda":
                torch.cuda.synchronize()

        torch_net = (eager_net or colorizer).net
        extra = {"vivid": colorizer.vivid} if spatial else {}

        def torch_network():  # what the FLOP counter can see: not ONNX Runtime
            torch_net(xin, feats, half_size=True, **extra)

        net_flops = count_flops(torch_network)  # one pass; a mirroring model makes two per photo
        passes = 2 if colorizer.mirror else 1
        all_flops = passes * net_flops + branch_flops
        t_net = median_time(network, repeats)
        rate = matmul_flops_per_s(device)
        t1 = 1 / speeds[(ours, 1)]
        rows.append((f"{tag} FLOPs per 256×256 photo", f"{all_flops / 1e9:.2f} GFLOP, of which the "
                     f"network {passes} × {net_flops / 1e9:.2f} and separate pretrained branches "
                     f"{branch_flops / 1e9:.2f}"))
        rows.append((f"{tag} dense matmul rate (2048², float32)", f"{rate / 1e9:.1f} GFLOP/s"))
        net_rate = rate
        if dtype:
            net_rate = matmul_flops_per_s(device, dtype=dtype)
            rows.append((f"{tag} dense matmul rate (2048², {str(dtype).split('.')[1]})",
                         f"{net_rate / 1e9:.1f} GFLOP/s"))
        rows.append((f"{tag} network alone (one pass): time, share of the matmul rate in its precision",
                     f"{t_net * 1000:.1f} ms, {net_flops / t_net / 1e9:.0f} GFLOP/s = "
                     f"{net_flops / t_net / net_rate:.0%}"))
        rows.append((f"{tag} whole photo (branches + network): share of the float32 matmul rate",
                     f"{all_flops / t1 / rate:.0%}"))
        if dtype:  # the time the matmul rates allow, each part in its own precision
            ideal = branch_flops / rate + passes * net_flops / net_rate
            rows.append((f"{tag} whole photo: share of the matmul rates of the precisions it "
                         f"runs in (branches float32, network {str(dtype).split('.')[1]})",
                         f"{ideal / t1:.0%}"))

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        from PIL import Image
        from skimage import data

        big = tmp / "big.jpg"
        Image.fromarray(data.astronaut()).convert("L").resize((4000, 3000)).save(big, quality=92)
        code = (f"from model.batch import BatchItem, BatchSettings, run_jobs\n"
                f"from model.colorizer import Colorizer\n"
                f"c = Colorizer(device='cpu')\nt = time.perf_counter()\n"
                f"run_jobs([BatchItem(__import__('pathlib').Path({str(big)!r}), "
                f"__import__('pathlib').Path({str(tmp / 'out' / 'big.jpg')!r}))], c, "
                f"BatchSettings(overwrite=True))\n"
                f"print('E2E', time.perf_counter() - t)\n")
        walls, peaks = [], []
        for _ in range(3 if args.quick else 5):
            _, peak, out = run_child(code)
            walls.append(float([l for l in out.splitlines() if l.startswith("E2E")][0].split()[1]))
            peaks.append(peak)
        rows.append(("CPU one 12-megapixel photo, read → colorize → write",
                     f"{statistics.median(walls):.2f} s, peak memory {statistics.median(peaks):.0f} MB"))

        album = tmp / "album"
        make_photos(album, folder_n)
        code = (f"from model.batch import BatchSettings, plan_jobs, run_jobs\n"
                f"from model.colorizer import Colorizer\n"
                f"c = Colorizer(device='cpu')\njobs, _ = plan_jobs([{str(album)!r}], {str(tmp / 'out2')!r})\n"
                f"t = time.perf_counter()\nr = run_jobs(jobs, c, BatchSettings(overwrite=True))\n"
                f"print('E2E', time.perf_counter() - t, len(r.done))\n")
        _, peak, out = run_child(code)
        secs, done = [l for l in out.splitlines() if l.startswith("E2E")][0].split()[1:]
        rows.append((f"CPU folder of {folder_n} photos of 1–3 megapixels",
                     f"{float(secs):.1f} s ({int(done) / float(secs):.2f} photos/s), "
                     f"peak memory {peak:.0f} MB"))

        one = tmp / "one.jpg"
        Image.fromarray(data.coffee()).convert("L").save(one)
        starts = []
        for _ in range(3):
            t = time.perf_counter()
            subprocess.run([sys.executable, "-m", "colorgui", "colorize", str(one), "-o",
                            str(tmp / "first"), "--overwrite", "--device", "cpu"],
                           cwd=ROOT, capture_output=True, check=True)
            starts.append(time.perf_counter() - t)
        rows.append(("CPU process start → first colorized photo written (CLI)",
                     f"{statistics.median(starts):.2f} s"))

        gui = ("import os; os.environ['QT_QPA_PLATFORM']='offscreen'\nt0 = time.perf_counter()\n"
               "from PySide6.QtWidgets import QApplication\nfrom colorgui.main_window import MainWindow, apply_theme\n"
               "app = QApplication([]); w = MainWindow(); apply_theme(app, w.settings.theme); w.show(); app.processEvents()\n"
               "print('SHOWN', time.perf_counter() - t0)\nw.close()\n")
        shown = []
        for _ in range(3):
            wall, _, out = run_child(gui, {"COLORGUI_CONFIG_DIR": str(tmp / "cfg")})
            shown.append(float([l for l in out.splitlines() if l.startswith("SHOWN")][0].split()[1]))
        rows.append(("GUI imports → window on screen (offscreen; Python start not included)",
                     f"{statistics.median(shown):.2f} s"))

        train_dir = tmp / "train"
        make_photos(train_dir, 40, seed=1)
        from PIL import ImageOps

        for p in train_dir.iterdir():  # colour photos are needed for training
            ImageOps.colorize(Image.open(p), "#203050", "#f0d0a0").save(p)
        from model.training.branch_cache import BranchCache
        from model.training.train import FitOptions, fit

        cache = BranchCache(tmp / "cache")
        opts = dict(batch_size=20, crop=128, device="cpu", val_share=0.1, resume=False)
        torch.set_grad_enabled(True)
        from model.colorizer import bundled_model_path

        base = bundled_model_path()
        fit([train_dir], tmp / "run0", from_checkpoint=base, options=FitOptions(max_steps=1, **opts),
            cache=cache)
        steps = 10 if args.quick else 30
        t = time.perf_counter()
        fit([train_dir], tmp / "run1", from_checkpoint=base,
            options=FitOptions(max_steps=steps, epochs=100, **opts), cache=cache)
        dt = time.perf_counter() - t
        rows.append(("CPU fine-tuning the bundled model (fit, batch 20, 128×128)",
                     f"{steps / dt:.2f} steps/s, {20 * steps / dt:.1f} photos/s"))

    cpu = platform.processor() or platform.machine()
    print(f"colorgui benchmark — {cpu}, {os.cpu_count()} CPU cores, torch {torch.__version__}, "
          f"{torch.get_num_threads()} threads\n")
    print("| measurement | result |\n|---|---|")
    for name, value in rows:
        print(f"| {name} | {value} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
