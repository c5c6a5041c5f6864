#!/usr/bin/env bash
# Install the viewer for the current user: the built app in ~/.local/opt/dicom-viewer, the
# command ~/.local/bin/dicom-viewer, the menu entry ("Open with" for DICOM files) and icons.
# Every folder is created, so it works on a fresh account (no ~/.local/bin yet).
#   packaging/install_linux.sh [APP_FOLDER]    the app built by build_linux.sh (default:
#                                              dist/dicom-viewer)
#   packaging/install_linux.sh --desktop-only  menu entry and icons only (after pip install,
#                                              when dicom-viewer is on PATH already)
# Running it again replaces what it installed. XDG_DATA_HOME is honoured (default
# ~/.local/share).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
icons="$here/resources/app"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
bin="$HOME/.local/bin"
opt="$HOME/.local/opt"

app=""
case "${1:-}" in
    --desktop-only) ;;
    "") app="$here/dist/dicom-viewer" ;;
    *) app="$1" ;;
esac
if [[ -n "$app" ]]; then
    [[ -x "$app/dicom-viewer" ]] || {
        echo "install_linux: no built app in $app (run packaging/build_linux.sh first)" >&2
        exit 1
    }
    mkdir -p "$opt" "$bin"
    rm -rf "$opt/dicom-viewer.new"
    cp -r "$app" "$opt/dicom-viewer.new"
    rm -rf "$opt/dicom-viewer"
    mv "$opt/dicom-viewer.new" "$opt/dicom-viewer"
    ln -sfn "$opt/dicom-viewer/dicom-viewer" "$bin/dicom-viewer"
    echo "installed $opt/dicom-viewer; command: $bin/dicom-viewer"
    case ":$PATH:" in
        *":$bin:"*) ;;
        *) echo "note: $bin is not on PATH yet (most desktops add it at the next login)" ;;
    esac
fi

install -Dm644 "$here/packaging/linux/dicom-viewer.desktop" \
    "$data/applications/dicom-viewer.desktop"
for size in 16 24 32 48 64 128 256; do
    install -Dm644 "$icons/dicom-viewer-$size.png" \
        "$data/icons/hicolor/${size}x${size}/apps/dicom-viewer.png"
done
install -Dm644 "$icons/dicom-viewer.svg" "$data/icons/hicolor/scalable/apps/dicom-viewer.svg"
update-desktop-database "$data/applications" 2>/dev/null || true
gtk-update-icon-cache -q -t "$data/icons/hicolor" 2>/dev/null || true
echo "menu entry: $data/applications/dicom-viewer.desktop"
