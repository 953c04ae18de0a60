#!/usr/bin/env bash
# Copyright (C) 2026 pixelmeet developers
# SPDX-License-Identifier: MPL-2.0
# Install the pixelmeet GStreamer plugins where every GStreamer application of this user finds
# them ($XDG_DATA_HOME/gstreamer-1.0/plugins, ~/.local/share/... by default), or remove them
# with --uninstall. Checks afterwards, with GST_PLUGIN_PATH cleared, that GStreamer sees (or no
# longer sees) every element. For a system-wide or packaged install use cargo-c instead, per
# plugin crate: cargo cinstall --release -p gst-plugin-pixeldiff --prefix=/usr
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${XDG_DATA_HOME:-$HOME/.local/share}/gstreamer-1.0/plugins"
# faceroi and bgreplace embed networks derived from MediaPipe's (Apache-2.0) and dlib's (CC0):
# their licences and NOTICE go beside the plugins.
notices="${XDG_DATA_HOME:-$HOME/.local/share}/doc/pixelmeet"
crates=(gst-plugin-pixeldiff gst-plugin-faceroi gst-plugin-bgreplace gst-plugin-pixelmeet)
plugins=(libgstpixeldiff.so libgstfaceroi.so libgstbgreplace.so libgstpixelmeet.so)
elements=(pixeldiffenc pixeldiffdec rtppixeldiffpay rtppixeldiffdepay pixeldiffadapt faceroi bgreplace pixelmeetsend pixelmeetrecv)

# What an application with a clean environment sees: only the installed copy, never the build
# tree. gst-inspect-1.0 -b lists nothing; a missing element fails gst-inspect-1.0 NAME.
found() { env -u GST_PLUGIN_PATH gst-inspect-1.0 "$1" >/dev/null 2>&1; }

case "${1:-}" in
  --uninstall)
    for p in "${plugins[@]}"; do rm -fv "$dest/$p"; done
    rm -fv "$notices/MODELS-LICENSE" "$notices/MODELS-LICENSE-CC0" "$notices/MODELS-NOTICE"
    rmdir "$notices" 2>/dev/null || true
    for e in "${elements[@]}"; do
      if found "$e"; then echo "install.sh: $e is still found (another copy installed elsewhere?)" >&2; exit 1; fi
    done
    echo "install.sh: removed" >&2
    exit 0
    ;;
  "") ;;
  -h|--help) sed -n '3,8p' "$0" | sed 's/^# \{0,1\}//'; echo "Usage: scripts/install.sh [--uninstall]"; exit 0 ;;
  *) echo "Usage: scripts/install.sh [--uninstall]" >&2; exit 2 ;;
esac

source scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release -q ${crates[@]/#/-p }
mkdir -p "$dest"
for p in "${plugins[@]}"; do install -m 0644 -v "target/release/$p" "$dest/$p"; done
mkdir -p "$notices"
install -m 0644 -v models/LICENSE "$notices/MODELS-LICENSE"
install -m 0644 -v models/LICENSE-CC0 "$notices/MODELS-LICENSE-CC0"
install -m 0644 -v models/NOTICE "$notices/MODELS-NOTICE"
for e in "${elements[@]}"; do
  found "$e" || { echo "install.sh: GStreamer does not find $e in $dest" >&2; exit 1; }
done
echo "install.sh: installed ${elements[*]}; try: gst-inspect-1.0 pixeldiffenc" >&2
