#!/usr/bin/env bash
# Copyright (C) 2026 pixelmeet developers
# SPDX-License-Identifier: MPL-2.0
# The test command: install what is missing, then formatting, lints, a release build, an
# inspection of every element, the install command and its undo, a short headless run of the
# demo, and all tests (examples included).
set -euo pipefail
cd "$(dirname "$0")/.."
# rtpengine too: the tests of meetings through a media server start it.
PIXELMEET_MEDIA_SERVER=1 source scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"

cargo fmt --all -- --check
cargo clippy --workspace --all-targets --release -- -D warnings
cargo build --workspace --release

export GST_PLUGIN_PATH="$PWD/target/release"
for element in pixeldiffenc pixeldiffdec rtppixeldiffpay rtppixeldiffdepay pixeldiffadapt faceroi bgreplace pixelmeetsend pixelmeetrecv; do
  gst-inspect-1.0 "$element" >/dev/null || { echo "test: $element does not load" >&2; exit 1; }
done

# The install command and its undo, into a scratch data directory and registry: every element
# is found without GST_PLUGIN_PATH after installing and none after uninstalling.
scratch=$(mktemp -d)
XDG_DATA_HOME="$scratch/data" GST_REGISTRY="$scratch/registry.bin" scripts/install.sh
# The embedded networks' licence travels with the plugins.
for f in MODELS-NOTICE MODELS-LICENSE MODELS-LICENSE-CC0; do
  [ -s "$scratch/data/doc/pixelmeet/$f" ] || { echo "test: the models' $f was not installed" >&2; exit 1; }
done
XDG_DATA_HOME="$scratch/data" GST_REGISTRY="$scratch/registry.bin" scripts/install.sh --uninstall
rm -rf "$scratch"

# A short headless run of the demo, as a user would start it: it must save what each side
# received.
shots=$(mktemp -d)
pipelines/demo --seconds 6 --headless --snapshot-every 2 --snapshot-dir "$shots"
for f in alice-sees-bob.png bob-sees-alice.png; do
  [ -s "$shots/$f" ] || { echo "test: the demo saved no $f" >&2; exit 1; }
done
rm -rf "$shots"

# The fuzz corpora (forged-but-valid chunks included) with overflow checks on, then each fuzz
# target for a bounded time where a nightly toolchain and cargo-fuzz are installed.
cargo test -q --profile checked -p pixeldiff-codec --lib --test fuzz_corpus --test forged
cargo test -q --profile checked -p gst-plugin-pixeldiff --test fuzz_regressions
cargo test -q --profile checked -p session-keys --test fuzz_corpus
if cargo +nightly fuzz --version >/dev/null 2>&1; then
  # GLib's global state leaks one 16 KiB block at exit, for every input (see the fuzz READMEs).
  found=$(mktemp -d)
  for dir in core/pixeldiff-codec/fuzz plugins/pixeldiff/fuzz core/session-keys/fuzz; do
    for target in $(cd "$dir" && cargo +nightly fuzz list); do
      seeds=$dir/corpus/$target
      [ -d "$seeds" ] || seeds=$dir/corpus/rtp_receive
      mkdir -p "$found/$target"
      (cd "$dir" && ASAN_OPTIONS=detect_leaks=0 cargo +nightly fuzz run "$target" "$found/$target" \
        "$PWD/${seeds#"$dir"/}" -- -max_total_time="${PIXELMEET_FUZZ_SECONDS:-30}" \
        -rss_limit_mb=4096 -timeout=30)
    done
  done
  rm -rf "$found"
else
  echo "test: fuzzing skipped: no nightly toolchain with cargo-fuzz (rustup toolchain install nightly; cargo install cargo-fuzz --locked)"
fi

# Doc tests first (nextest does not run them), then every other test: its summary closes the run.
cargo test --workspace --release --doc
# GLib warnings (bad property use, leaked references reported by GStreamer) fail the tests.
export G_DEBUG=fatal_warnings
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --release --profile ci
else
  timeout 1800 cargo test --workspace --release
fi
