#!/usr/bin/env bash
# Smoke test of a frozen build: the window opens offscreen and loads the bundled model,
# then one photo is colorized through the CLI mode. Exits 0 only if both work.
#   packaging/smoke_test.sh [dist/colorgui]
set -euo pipefail
app=${1:-dist/colorgui}/colorgui
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export QT_QPA_PLATFORM=offscreen COLORGUI_CONFIG_DIR="$work/config" COLORGUI_DATA_DIR="$work/data" \
    COLORGUI_CACHE_DIR="$work/cache"
"$app" --version
"$app" app --self-test
# a gray photo written by the frozen app's own libraries would need Python; use the icon
# (an RGBA PNG): it is colorized from its luminance and keeps its alpha
"$app" colorize "$(dirname "$app")/_internal/resources/icons/colorgui-256.png" -o "$work/out"
test -s "$work/out/colorgui-256.png"
# the branches ran on ONNX Runtime (exported into the cache), not PyTorch's fallback
ls "$work/cache/onnx/"effnet_lite*.onnx > /dev/null
echo "smoke test passed: $app"
