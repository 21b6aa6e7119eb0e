#!/usr/bin/env bash
# Smoke test of a frozen build, either flavour: the bundled default model and its ONNX
# graph are in it, and the desktop entry, metadata and icon; the window opens offscreen
# and loads that model (`app --self-test`, what the desktop entry runs); a black-and-white
# photograph is colorized through the CLI on the shipped graph.
# Exits 0 only if all of it works; else 1, its last line saying what failed.
#   packaging/smoke_test.sh [dist/colorgui | dist/colorgui-full]
set -euo pipefail
build=${1:-dist/colorgui}
app=$build/colorgui
weights_dir=$build/_internal/resources/weights
fail() { echo "smoke test FAILED: $build: $*" >&2; exit 1; }

[ -x "$app" ] || fail "no executable $app (make package, or make package-full)"
# the default model as the sources name it (the first of resources.BUNDLED_MODELS), so the
# test follows the model that ships
weights=$(cd "$(dirname "$0")/.." && python3 -c 'from resources import BUNDLED_MODEL; print(BUNDLED_MODEL.name)')
graph=${weights%.*}.onnx
[ -s "$weights_dir/$weights" ] || fail "the bundled default model $weights is missing from the build"
[ -s "$weights_dir/$graph" ] || fail "the bundled default model's ONNX graph $graph is missing from\
 the build (_internal/resources/weights/): without it the app cannot colorize on a CPU without torch"

# the desktop integration packaging/README.md installs from the build: entry, metadata, icon
app_id=io.github.colorgui.Colorgui
for file in "share/applications/$app_id.desktop" "share/metainfo/$app_id.metainfo.xml" \
        resources/icons/colorgui.svg resources/icons/colorgui-256.png; do
    [ -s "$build/_internal/$file" ] || fail "the desktop integration's _internal/$file is missing"
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export QT_QPA_PLATFORM=offscreen COLORGUI_CONFIG_DIR="$work/config" COLORGUI_DATA_DIR="$work/data" \
    COLORGUI_CACHE_DIR="$work/cache"
# each step has a time limit: a dialog nobody answers offscreen would wait for ever
"$app" --version
timeout 300 "$app" app --self-test | tee "$work/self-test.txt" \
    || fail "the window's self-test failed or did not end within 5 minutes"
grep -q "model loaded: $weights " "$work/self-test.txt" || fail "the window did not load $weights"

# a real black-and-white photograph, the one `colorgui demo` ships (scikit-image's camera)
photo=$build/_internal/skimage/data/camera.png
[ -s "$photo" ] || fail "the demo's photographs are missing (no $photo)"
timeout 300 "$app" colorize "$photo" -o "$work/out" || fail "colorizing $photo failed"
[ -s "$work/out/camera.png" ] || fail "colorize wrote no $work/out/camera.png"
# the output's provenance names the bundled default by its hash
sha=$(sha256sum "$weights_dir/$weights" | cut -c1-12)
"$app" info "$work/out/camera.png" | tee "$work/info.txt"
grep -q "SHA-256 $sha" "$work/info.txt" || fail "the output was not colorized by $weights ($sha…)"
# on the shipped graph: nothing was exported for this CPU into the cache
if compgen -G "$work/cache/onnx/*.onnx" > /dev/null; then
    fail "the model was exported to ONNX at run time ($(ls "$work/cache/onnx")): the shipped graph was not used"
fi
echo "smoke test passed: $build"
