#!/usr/bin/env bash
# Copyright (C) 2026 pixelmeet developers
# SPDX-License-Identifier: MPL-2.0
# Install the pixelmeet GStreamer plugins where every GStreamer application of this user finds
# them (~/.local/share/gstreamer-1.0/plugins), or remove them with --uninstall.
# For a system-wide or packaged install use cargo-c instead: cargo cinstall --release -p gst-plugin-pixeldiff --prefix=/usr
set -euo pipefail
cd "$(dirname "$0")/.."
dest="${XDG_DATA_HOME:-$HOME/.local/share}/gstreamer-1.0/plugins"
plugins=(libgstpixeldiff.so)

if [ "${1:-}" = "--uninstall" ]; then
  for p in "${plugins[@]}"; do rm -fv "$dest/$p"; done
  exit 0
fi
source scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"
cargo build --release --workspace -q
mkdir -p "$dest"
for p in "${plugins[@]}"; do install -m 0644 -v "target/release/$p" "$dest/$p"; done
echo "installed; check with: gst-inspect-1.0 pixeldiffenc" >&2
