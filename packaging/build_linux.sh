#!/usr/bin/env bash
# Build the one-folder Linux application with PyInstaller, then smoke-test the built binary:
# --version, demo, inspect --json on the demo study, and an offscreen screenshot.
#   packaging/build_linux.sh            -> dist/dicom-viewer/dicom-viewer
# Uses .venv (run ./dev test once first); installs the [package] extra (PyInstaller) if missing.
# The app is frozen from the wheel, installed into build/pyinstaller/site, exactly as a user's
# pip install would lay it out (icons in viewer/_resources).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$here"
py="$here/.venv/bin/python"
work="$here/build/pyinstaller"
dist="$here/dist"
app="$dist/dicom-viewer/dicom-viewer"

[[ -x "$py" ]] || { echo "build_linux: no .venv; run ./dev test first" >&2; exit 1; }
if ! "$py" -c "import PyInstaller" 2>/dev/null; then
    "$py" -m pip install -q "pyinstaller>=6.10"
fi

echo "== wheel" >&2
rm -rf "$work" "$dist/dicom-viewer"
mkdir -p "$work/source" "$work/wheel"
cp pyproject.toml setup.py README.md LICENSE "$work/source/"
cp -r viewer resources "$work/source/"
find "$work/source" -name __pycache__ -prune -exec rm -rf {} +
"$py" -m pip wheel -q --no-deps --no-build-isolation -w "$work/wheel" "$work/source" \
    >"$work/wheel.log" 2>&1 || { cat "$work/wheel.log" >&2; exit 1; }
"$py" -m pip install -q --no-deps --no-index --target "$work/site" "$work"/wheel/dicom_viewer-*.whl

echo "== pyinstaller" >&2
started=$(date +%s)
DICOM_VIEWER_SITE="$work/site" "$here/.venv/bin/pyinstaller" --noconfirm --log-level WARN \
    --workpath "$work/work" --distpath "$dist" packaging/dicom-viewer.spec 2>&1 \
    | tee "$work/pyinstaller.log" >&2
echo "built in $(( $(date +%s) - started )) s: $app" >&2

# A library PyInstaller cannot resolve is missing from the bundle: the app then fails on a
# machine without it (numba's libtbb.so.12 was one; the spec leaves numba's TBB layer out).
# Qt's GTK theme plugin is optional (Qt falls back to its own style), so its GTK is not needed.
unresolved=$(grep -o "could not resolve '[^']*', dependency of '[^']*'" "$work/pyinstaller.log" \
    | grep -v "/platformthemes/libqgtk3.so'" | cut -d"'" -f2 | sort -u || true)
if [[ -n "$unresolved" ]]; then
    echo "build_linux: the bundle lacks these libraries (not on this build machine):" \
        $unresolved >&2
    echo "  install them here and build again (Debian/Ubuntu: libxcb-icccm4 libxcb-keysyms1" \
        "for the X11 platform plugin), or the app needs them on the target machine" >&2
    [[ "${DICOM_VIEWER_STRICT_BUNDLE:-0}" == 1 ]] && exit 1
fi

echo "== smoke test" >&2
smoke="$work/smoke"
rm -rf "$smoke" && mkdir -p "$smoke"
export XDG_CACHE_HOME="$smoke/cache" XDG_CONFIG_HOME="$smoke/config" XDG_STATE_HOME="$smoke/state"
"$app" --version
"$app" demo "$smoke/demo" >/dev/null
TIMEFORMAT=%R  # bash's time: wall seconds
inspect_s=$( { time "$app" inspect "$smoke/demo" --json >"$smoke/inspect.json" \
    2>"$smoke/inspect.log"; } 2>&1 )
"$py" - "$smoke/inspect.json" <<'PY'
import json, sys
report = json.load(open(sys.argv[1]))
series = [s for p in report["patients"] for st in p["studies"] for s in st["series"]]
modalities = sorted({s["modality"] for s in series})
frames = sum(k["frames"] for s in series for k in s["stacks"])
assert {"CT", "MR", "US"} <= set(modalities), modalities
print(f"inspect: {report['scanned']} files, {len(series)} series {modalities}, {frames} frames")
PY
ct_stack=$("$py" -c "
import json, sys
report = json.load(open(sys.argv[1]))
stacks = [(s['modality'], k) for p in report['patients'] for st in p['studies']
          for s in st['series'] for k in s['stacks']]
print(next(i for i, (modality, k) in enumerate(stacks) if modality == 'CT' and k['spacing']))
" "$smoke/inspect.json")
volume_s=$( { time "$app" volume "$smoke/demo" "$smoke/volume.npz" --stack "$ct_stack" \
    2>"$smoke/volume.log"; } 2>&1 )
"$py" -c "import numpy, sys; v = numpy.load(sys.argv[1])['voxels']; print('volume:', v.shape, v.dtype)" \
    "$smoke/volume.npz"
shot_s=$( { time QT_QPA_PLATFORM=offscreen "$app" screenshot "$smoke/shot.png" --size 1200x800 \
    "$smoke/demo" 2>"$smoke/screenshot.log"; } 2>&1 )
[[ -s "$smoke/shot.png" ]] || { echo "build_linux: the screenshot is missing" >&2; exit 1; }
first_paint=$(QT_QPA_PLATFORM=offscreen "$py" -m viewer.core.startup_timing 3 "$app" | tail -1)
echo "inspect --json took ${inspect_s} s; volume (worker processes) ${volume_s} s; screenshot ${shot_s} s"
echo "launch -> first paint of the main window (offscreen, 3 runs): $first_paint"
echo "size: $(du -sh "$dist/dicom-viewer" | cut -f1) in $(find "$dist/dicom-viewer" -type f | wc -l) files"
