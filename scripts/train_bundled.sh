#!/usr/bin/env bash
# How the bundled model (resources/weights/colorgui-hybrid.safetensors) was trained.
#
# 1. Pack the training photos here (CPU): reduced copies (short side 144) plus the three
#    EfficientNet-Lite branches' outputs computed from the full-size originals.
#      PYTHONPATH=. python scripts/pack_training_data.py $D/imagenet_val227 $D/imagenet_extra \
#          $D/bsds500 $D/lfw --limit lfw=4500 -o .devdata/pack
#    (D=../shared/data/train; never the eval folders.)
# 2. Train on a GPU machine with this script, from the pack (tar of photos/ + cache/, or a
#    folder where it was unpacked):
#      scripts/train_bundled.sh PACK.tar|PACK_DIR OUT_DIR SECONDS [more colorgui train options]
# 3. Pick the working size on the evaluation photos and export (scripts/export_bundled.py).
set -euo pipefail
pack=$1 out=$2 seconds=${3:-400}
shift 3
if [ -d "$pack" ]; then
    work=$pack
else
    work=$(mktemp -d)
    tar xf "$pack" -C "$work"
    gunzip -f "$work"/cache/*.gz 2>/dev/null || true
fi
python3 -m colorgui train "$work/photos" -o "$out" --cache-dir "$work/cache" --no-check \
    --fresh --width 0.5 --crop 128 --batch-size 32 --lr 1e-3 --schedule cosine \
    --epochs 100000 --time-limit "$seconds" --val-share 0.05 --checkpoint-every 1000000 \
    --workers "$(( $(nproc) > 2 ? $(nproc) - 2 : 0 ))" "$@" 2>&1 | tr '\r' '\n' | grep --line-buffered -v '%|'
