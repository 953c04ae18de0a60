#!/usr/bin/env bash
# Rebuild the four ONNX models in models/ from the MediaPipe npm packages.
#
#   models/reproduce.sh [--install] [--verify] [--images DIR] [--keep]
#
# Needs: network access to the npm registry and PyPI, npm, python3 (3.11, x86_64), tar.
#   1. `npm pack` the two exact package versions into a temp dir and check each
#      tarball's sha512 integrity against the values recorded below;
#   2. unpack them and check the .tflite sha256 sums recorded in models/README.md;
#   3. create a venv with the pinned models/requirements.txt;
#   4. run convert.py twice for the four models, check both runs are byte-identical
#      and that each .onnx has the sha256 recorded in models/README.md;
#   5. compare with the .onnx files committed in models/ (if present).
# --install  copy the freshly built .onnx files into models/
# --verify   also build a venv from models/requirements-verify.txt and run verify.py
#            (TFLite/MediaPipe reference vs onnxruntime); --images DIR selects the
#            photos it uses (default /work/shared/media/faces/dlib)
# --keep     keep the temp dir
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
INSTALL=0 VERIFY=0 KEEP=0 IMAGES=/work/shared/media/faces/dlib
while [ $# -gt 0 ]; do
    case "$1" in
        --install) INSTALL=1 ;;
        --verify) VERIFY=1 ;;
        --keep) KEEP=1 ;;
        --images) IMAGES="$2"; shift ;;
        *) echo "unknown argument: $1" >&2; exit 2 ;;
    esac
    shift
done

SELFIE_PKG="@mediapipe/selfie_segmentation@0.1.1675465747"
SELFIE_TGZ="mediapipe-selfie_segmentation-0.1.1675465747.tgz"
SELFIE_SHA512="sha512-IxYxNhwE5VwOm52L1yoFWYLP7q9Pd+NJjzOC5tlepfvEGaY3o9hslhUrx9BgseqdfZtKSDtd/4NfCSMjNzQalA=="
FACE_PKG="@mediapipe/face_detection@0.4.1657300184"
FACE_TGZ="mediapipe-face_detection-0.4.1657300184.tgz"
FACE_SHA512="sha512-k5aYtTf7av7GwD3C9T4LJB/okHK/uJwFQSOmJ9OHZMlwg7SdYVMolRgDlA962OU7fIBKsrOA7f7BzD2gpzcAKw=="

WORK="$(mktemp -d "${TMPDIR:-/tmp}/mediapipe-onnx.XXXXXX")"
if [ "$KEEP" = 0 ]; then trap 'rm -rf "$WORK"' EXIT; else echo "work dir: $WORK"; fi

integrity() {  # npm-style "sha512-<base64>" of a file
    python3 -c 'import base64,hashlib,sys; print("sha512-" + base64.b64encode(hashlib.sha512(open(sys.argv[1],"rb").read()).digest()).decode())' "$1"
}

echo "== npm pack"
mkdir -p "$WORK/npm" "$WORK/src/selfie" "$WORK/src/face"
(cd "$WORK/npm" && npm pack --silent "$SELFIE_PKG" "$FACE_PKG" >/dev/null)
for pair in "$SELFIE_TGZ:$SELFIE_SHA512" "$FACE_TGZ:$FACE_SHA512"; do
    tgz="${pair%%:*}" want="${pair#*:}"
    got="$(integrity "$WORK/npm/$tgz")"
    if [ "$got" != "$want" ]; then
        echo "integrity mismatch for $tgz: got $got, want $want" >&2; exit 1
    fi
    echo "$tgz: $got OK"
done
tar -xzf "$WORK/npm/$SELFIE_TGZ" -C "$WORK/src/selfie" --strip-components=1
tar -xzf "$WORK/npm/$FACE_TGZ" -C "$WORK/src/face" --strip-components=1

# sha256 lines recorded in README.md ("<hex>  <file>"), only the four MediaPipe models
# (README.md also lists the dlib model, which reproduce-dlib.sh checks)
SUMS="$WORK/SHA256SUMS"
grep -E '^[0-9a-f]{64}  (selfie_segmentation(_landscape)?|face_detection_(short|full)_range)\.(onnx|tflite)$' \
    "$HERE/README.md" > "$SUMS"
echo "== source .tflite sha256"
(cd "$WORK/src/selfie" && grep -E 'selfie_segmentation(_landscape)?\.tflite$' "$SUMS" | sha256sum -c -)
(cd "$WORK/src/face" && grep -E 'face_detection_(short|full)_range\.tflite$' "$SUMS" | sha256sum -c -)

echo "== converter venv"
python3 -m venv "$WORK/venv"
"$WORK/venv/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements.txt"
"$WORK/venv/bin/pip" check

MODELS="selfie:selfie_segmentation selfie:selfie_segmentation_landscape face:face_detection_short_range face:face_detection_full_range"
for run in 1 2; do
    echo "== convert (run $run)"
    mkdir -p "$WORK/out$run"
    for m in $MODELS; do
        pkg="${m%%:*}" name="${m#*:}"
        "$WORK/venv/bin/python" "$HERE/convert.py" "$WORK/src/$pkg/$name.tflite" "$WORK/out$run/$name.onnx"
    done
done
for m in $MODELS; do
    name="${m#*:}"
    cmp "$WORK/out1/$name.onnx" "$WORK/out2/$name.onnx"
done
echo "two runs are byte-identical"
echo "== .onnx sha256 vs README.md"
(cd "$WORK/out1" && grep -E '\.onnx$' "$SUMS" | sha256sum -c -)

for m in $MODELS; do
    name="${m#*:}"
    if [ "$INSTALL" = 1 ]; then
        cp "$WORK/out1/$name.onnx" "$HERE/$name.onnx"
        echo "installed models/$name.onnx"
    elif [ -f "$HERE/$name.onnx" ]; then
        cmp "$WORK/out1/$name.onnx" "$HERE/$name.onnx" && echo "models/$name.onnx matches"
    fi
done

if [ "$VERIFY" = 1 ]; then
    echo "== reference check (verify.py)"
    python3 -m venv "$WORK/venv-verify"
    "$WORK/venv-verify/bin/pip" install --quiet --disable-pip-version-check -r "$HERE/requirements-verify.txt"
    "$WORK/venv-verify/bin/python" "$HERE/verify.py" --onnx-dir "$WORK/out1" \
        --selfie-dir "$WORK/src/selfie" --face-dir "$WORK/src/face" --images "$IMAGES"
fi
echo "OK"
