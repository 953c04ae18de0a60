#!/usr/bin/env bash
# Copyright (C) 2026 pixelmeet developers
# SPDX-License-Identifier: MPL-2.0
# Install what pixelmeet needs on Debian/Ubuntu, only what is missing: GStreamer 1.22+ with its
# development files and plugin sets, and a Rust toolchain. Safe to run again.
set -euo pipefail

# PIXELMEET_MEDIA_SERVER=1: also rtpengine (Debian's rtpengine-daemon), the media server that
# meetings through --server use; the tests and pipelines/media-server start their own instance
# on their own ports (the system daemon the package may start is left as it is).
packages=(
  pkg-config build-essential
  libgstreamer1.0-dev libgstreamer-plugins-base1.0-dev libgstreamer-plugins-bad1.0-dev
  gstreamer1.0-tools gstreamer1.0-plugins-base gstreamer1.0-plugins-good
  gstreamer1.0-plugins-bad gstreamer1.0-plugins-ugly gstreamer1.0-libav
)

if [ -n "${PIXELMEET_MEDIA_SERVER:-}" ] && ! command -v rtpengine >/dev/null 2>&1; then
  packages+=(rtpengine-daemon)
fi

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if ! command -v cargo >/dev/null 2>&1; then
  [ -x "$HOME/.cargo/bin/cargo" ] || {
    # Debian's own rustc is too old for gstreamer-rs 0.25 (needs Rust 1.92): use rustup.
    echo "setup: installing the Rust toolchain with rustup" >&2
    curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal \
      --component rustfmt,clippy >&2
  }
  export PATH="$HOME/.cargo/bin:$PATH"
fi
