#!/usr/bin/env bash
# One GPU session's training, run in parallel on one machine (16 cores, one GPU):
# the five Table 1 variants (benchmarks/table1.py, same recipe and epochs) and two
# candidates for the bundled model (scripts/train_bundled.sh), each for SECONDS:
#   long:    the bundled recipe, trained longer;
#   scenes:  the same with 1,500 of the 4,500 faces, so scenes are 64% of the photos.
# Usage: scripts/gpu_experiments.sh PACK.tar OUT_DIR [EPOCHS] [SECONDS]
# Writes OUT_DIR/{table1,candidates}-N.tar (two checkpoints each, under the 16 MiB a
# file that the device tool brings back) and OUT_DIR/logs.tar.
set -uo pipefail
pack=$1 out=$2 epochs=${3:-15} seconds=${4:-330}
here=$(cd "$(dirname "$0")/.." && pwd)
export OMP_NUM_THREADS=1 PYTHONUNBUFFERED=1
work=$(mktemp -d)
mkdir -p "$work/pack" "$work/scenes" "$work/logs" "$out"
tar xf "$pack" -C "$work/pack" && gunzip -f "$work"/pack/cache/*.gz 2>/dev/null
cp -al "$work/pack/photos" "$work/scenes/photos"
ln -s "$work/pack/cache" "$work/scenes/cache"
(cd "$work/scenes/photos/lfw" && ls | shuf --random-source=<(yes) | tail -n +1501 | xargs -r rm)

cd "$here"
nvidia-smi --query-gpu=utilization.gpu,memory.used --format=csv -l 20 >"$work/logs/gpu.csv" 2>&1 &
sampler=$!
jobs=()
for v in model1 model2 model3 model4 concat; do
    timeout $((seconds + 120)) python3 benchmarks/table1.py "$work/pack/photos" --train-only \
        --only "$v" --runs "$work/table1" --epochs "$epochs" --cache-dir "$work/pack/cache" \
        --no-check --workers 3 >"$work/logs/$v.log" 2>&1 &
    jobs+=($!)
done
common=(--feature-dropout 0.8 --crop-min-scale 0.35 --workers 2)
scripts/train_bundled.sh "$work/pack" "$work/cand/long" "$seconds" "${common[@]}" \
    >"$work/logs/long.log" 2>&1 &
jobs+=($!)
scripts/train_bundled.sh "$work/scenes" "$work/cand/scenes" "$seconds" "${common[@]}" \
    >"$work/logs/scenes.log" 2>&1 &
jobs+=($!)
wait "${jobs[@]}"
kill "$sampler" 2>/dev/null
for run in "$work"/table1/* "$work"/cand/*; do rm -f "$run/last.safetensors"; done
(cd "$work/table1" && tar cf "$out/table1-1.tar" model1 model2 && tar cf "$out/table1-2.tar" model3 model4 \
    && tar cf "$out/table1-3.tar" concat)
(cd "$work/cand" && tar cf "$out/candidates.tar" long scenes)
tar cf "$out/logs.tar" -C "$work" logs
ls -l "$out"
