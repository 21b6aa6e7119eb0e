"""Export a trained checkpoint as the bundled model.

Keeps the trained weights, sets the working size the network runs at, and keeps only
the metadata a user needs (data, steps, time, hardware; not the optimizer or the
per-epoch history beyond a summary), and writes its ONNX graph beside it: what a CPU
colorizes with, without torch and without an export on first use.

    python scripts/export_bundled.py runs/gpu/best.safetensors --input-size 192 \
        -o resources/weights/colorgui-hybrid.safetensors
    python scripts/export_bundled.py runs/spatial/best.safetensors --vivid 0.25 \
        -o resources/weights/colorgui-spatial.safetensors

``--graph-only`` writes the graph of a checkpoint already exported, leaving its weights
as they are (the graph names their SHA-256):

    python scripts/export_bundled.py --graph-only resources/weights/colorgui-hybrid.safetensors
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

from model.store.checkpoint import (build_network, load_checkpoint, save_checkpoint,
                                    write_graph_beside)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("checkpoint", type=Path)
    ap.add_argument("-o", "--out", type=Path, help="the bundled checkpoint to write")
    ap.add_argument("--graph-only", action="store_true",
                    help="only write the ONNX graph beside CHECKPOINT (its weights unchanged)")
    ap.add_argument("--input-size", type=int, help="working size at inference")
    ap.add_argument("--data-note", default="", help="where the training photos came from")
    ap.add_argument("--hardware", default="", help="what it was trained on, for the card")
    ap.add_argument("--vivid", type=float,
                    help="the vivid setting the model recommends (models with a class head)")
    ap.add_argument("--guide-weight", type=float,
                    help="how far a guided model's hinted colours move its automatic ones "
                         "(0-1; Colorizer.guide_weight)")
    ap.add_argument("--spread", nargs="+", default=[], metavar="KEY=VALUE",
                    help="model.propagate.spread settings for this model's hints (edge=4 reach=2)")
    ap.add_argument("--mirror", action="store_true",
                    help="the model recommends averaging each photo's colours with its mirror image's")
    args = ap.parse_args(argv)
    if args.graph_only:
        return _write_graph(args.checkpoint)
    if args.out is None:
        ap.error("-o/--out is required (or --graph-only)")
    net, meta = load_checkpoint(args.checkpoint)
    config = net.config
    if args.input_size:
        config = dataclasses.replace(config, input_size=args.input_size)
    out = build_network(config)
    out.load_state_dict(net.state_dict())
    history = meta.get("history", [])
    keep = {
        "name": args.out.stem,
        "data": {**(meta.get("data") or {}), "folders": args.data_note or
                 (meta.get("data") or {}).get("folders")},
        "step": meta.get("step"),
        "epochs": len(history),
        "best_val_loss": meta.get("best_val"),
        "train_seconds": meta.get("train_seconds"),
        "options": meta.get("options"),
        "device": meta.get("device"),
        "hardware": args.hardware,
    }
    if args.vivid is not None:
        keep["vivid"] = args.vivid
    if args.mirror:
        keep["mirror"] = True
    if args.guide_weight is not None:
        keep["guide_weight"] = args.guide_weight
    if args.spread:
        keep["spread"] = {k: float(v) for k, _, v in (s.partition("=") for s in args.spread)}
    save_checkpoint(args.out, out, keep)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB), input size {config.input_size}")
    return _write_graph(args.out)


def _write_graph(checkpoint: Path) -> int:
    graph = write_graph_beside(checkpoint)
    if graph is not None:
        print(f"wrote {graph} ({graph.stat().st_size / 1e6:.1f} MB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
