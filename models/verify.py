#!/usr/bin/env python3
"""Check the converted ONNX models against the original TFLite models.

References:
  * BlazeFace (face_detection_*): the standard TFLite interpreter from PyPI
    `ai-edge-litert`, both with its default delegate (XNNPACK) and with the
    builtin kernels only (BUILTIN_WITHOUT_DEFAULT_DELEGATES).
  * Selfie segmentation: the custom op Convolution2DTransposeBias is not in the
    standard interpreter, so the reference is PyPI `mediapipe` (0.10.21): a
    MediaPipe CalculatorGraph ImageToTensorCalculator (range [0,1], the same
    settings as mediapipe's selfie_segmentation_cpu graph) ->
    InferenceCalculator (the .tflite given here, XNNPACK delegate,
    TfLiteCustomOpResolverCalculator for the custom op) ->
    TensorsToFloatsCalculator, i.e. the raw model output tensor.
    MediaPipe's graph takes 8-bit images, so the selfie test inputs are uint8
    images (random ones and photos) and the ONNX input is pixel / 255.
    Second selfie reference: mediapipe.solutions.selfie_segmentation (model_selection
    0 = general 256x256, 1 = landscape 144x256) fed an image of the model's size.

Inputs per model: a random input, a photo from --images squashed to the model
size, and for the selfie models also a crop containing a person.
Each ONNX model runs in onnxruntime; the max abs difference of every output is
printed.  With --dump DIR the NCHW inputs and onnxruntime outputs are written
as raw little-endian float32 files plus DIR/manifest.txt for the tract check.
"""

import argparse
import os
import sys

import numpy as np
import onnxruntime as ort
from PIL import Image

# name, H, W, input range, ONNX outputs, source package directory option
MODELS = [
    ("selfie_segmentation", 256, 256, (0.0, 1.0), ["mask"], "selfie"),
    ("selfie_segmentation_landscape", 144, 256, (0.0, 1.0), ["mask"], "selfie"),
    ("face_detection_short_range", 128, 128, (-1.0, 1.0), ["regressors", "scores"], "face"),
    ("face_detection_full_range", 192, 192, (-1.0, 1.0), ["regressors", "scores"], "face"),
]

# (file, crop box or None) per model: a photo squashed to the model size, and for the
# selfie models also a crop around a person with the model's aspect ratio.
PHOTOS = {
    "selfie_segmentation": [("2008_001009.jpg", None), ("2008_001009.jpg", (0, 100, 360, 460))],
    "selfie_segmentation_landscape": [("2008_002506.jpg", None), ("2008_002506.jpg", (0, 20, 500, 301))],
    "face_detection_short_range": [("2008_001009.jpg", None), ("2008_001009.jpg", (0, 40, 360, 400))],
    "face_detection_full_range": [("2008_002506.jpg", None), ("2008_007676.jpg", None)],
}


def load_photo(path, box, h, w):
    im = Image.open(path).convert("RGB")
    if box is not None:
        im = im.crop(box)
    return np.asarray(im.resize((w, h), Image.BILINEAR), dtype=np.uint8)


def u8_to_range(img, lo, hi):
    """uint8 HWC -> float32 HWC in [lo, hi], as mediapipe's ImageToTensorCalculator does."""
    alpha = np.float32((hi - lo) / 255.0)
    return img.astype(np.float32) * alpha + np.float32(lo)


class MediapipeTflite:
    """Runs a .tflite through MediaPipe's InferenceCalculator (with MediaPipe's custom ops)."""

    def __init__(self, model_path, h, w):
        import mediapipe as mp
        from google.protobuf import text_format
        from mediapipe.calculators.tensor import image_to_tensor_calculator_pb2  # noqa: F401 (registers ext)
        from mediapipe.calculators.tensor import inference_calculator_pb2  # noqa: F401
        from mediapipe.framework import calculator_pb2

        self.mp = mp
        text = f"""
          input_stream: "image"
          output_stream: "floats"
          node {{
            calculator: "ImageToTensorCalculator"
            input_stream: "IMAGE:image"
            output_stream: "TENSORS:input_tensors"
            options {{ [mediapipe.ImageToTensorCalculatorOptions.ext] {{
              output_tensor_width: {w} output_tensor_height: {h} keep_aspect_ratio: false
              output_tensor_float_range {{ min: 0 max: 1 }} border_mode: BORDER_ZERO }} }}
          }}
          node {{ calculator: "TfLiteCustomOpResolverCalculator" output_side_packet: "OP_RESOLVER:op_resolver" }}
          node {{
            calculator: "InferenceCalculator"
            input_stream: "TENSORS:input_tensors"
            output_stream: "TENSORS:output_tensors"
            input_side_packet: "OP_RESOLVER:op_resolver"
            options {{ [mediapipe.InferenceCalculatorOptions.ext] {{
              model_path: "{os.path.abspath(model_path)}" delegate {{ xnnpack {{}} }} }} }}
          }}
          node {{ calculator: "TensorsToFloatsCalculator" input_stream: "TENSORS:output_tensors"
                  output_stream: "FLOATS:floats" }}
        """
        self.config = text_format.Parse(text, calculator_pb2.CalculatorGraphConfig())
        self.h, self.w = h, w

    def run(self, img_u8):
        from mediapipe.python import packet_creator, packet_getter

        graph = self.mp.CalculatorGraph(graph_config=self.config)
        out = []
        graph.observe_output_stream("floats", lambda s, p: out.append(np.array(packet_getter.get_float_list(p),
                                                                                dtype=np.float32)))
        graph.start_run()
        frame = packet_creator.create_image_frame(image_format=self.mp.ImageFormat.SRGB,
                                                  data=np.ascontiguousarray(img_u8))
        graph.add_packet_to_input_stream("image", frame.at(0))
        graph.close()
        assert len(out) == 1
        return [out[0].reshape(1, self.h, self.w, 1)]


class MediapipeSolution:
    """mediapipe.solutions.selfie_segmentation on an image of exactly the model size.

    It runs the copy of the model bundled in the mediapipe wheel (same weights and ops as
    the npm package's file, different flatbuffer bytes); at the model's own size the
    ImageToTensor and TensorsToSegmentation resizes are identities, so its mask is the
    model output.
    """

    def __init__(self, name):
        from mediapipe.python.solutions import selfie_segmentation

        self.seg = selfie_segmentation.SelfieSegmentation(model_selection=1 if "landscape" in name else 0)

    def run(self, img_u8):
        mask = self.seg.process(np.ascontiguousarray(img_u8)).segmentation_mask
        return [np.asarray(mask, dtype=np.float32)[np.newaxis, :, :, np.newaxis]]


class LiteRT:
    def __init__(self, model_path, delegates):
        from ai_edge_litert.interpreter import Interpreter, OpResolverType

        kind = OpResolverType.AUTO if delegates else OpResolverType.BUILTIN_WITHOUT_DEFAULT_DELEGATES
        self.it = Interpreter(model_path=model_path, experimental_op_resolver_type=kind, num_threads=1)
        self.it.allocate_tensors()

    def run(self, x_nhwc):
        it = self.it
        it.set_tensor(it.get_input_details()[0]["index"], x_nhwc[np.newaxis].astype(np.float32))
        it.invoke()
        return [it.get_tensor(d["index"]).copy() for d in it.get_output_details()]


def maxdiff(a, b):
    return float(np.max(np.abs(a.astype(np.float64) - b.astype(np.float64))))


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--onnx-dir", default=here)
    ap.add_argument("--selfie-dir", required=True, help="unpacked @mediapipe/selfie_segmentation package")
    ap.add_argument("--face-dir", required=True, help="unpacked @mediapipe/face_detection package")
    ap.add_argument("--images", default="/work/shared/media/faces/dlib")
    ap.add_argument("--dump", help="write inputs / onnxruntime outputs for the tract check here")
    ap.add_argument("--tolerance", type=float, default=1e-3)
    args = ap.parse_args()

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    rng = np.random.default_rng(20240601)
    manifest = []
    worst = 0.0
    if args.dump:
        os.makedirs(args.dump, exist_ok=True)

    for name, h, w, (lo, hi), out_names, pkg in MODELS:
        tfl = os.path.join(args.selfie_dir if pkg == "selfie" else args.face_dir, name + ".tflite")
        onnx_path = os.path.join(args.onnx_dir, name + ".onnx")
        sess = ort.InferenceSession(onnx_path, so, providers=["CPUExecutionProvider"])
        assert [o.name for o in sess.get_outputs()] == out_names, sess.get_outputs()
        if pkg == "selfie":
            refs = {"mediapipe": MediapipeTflite(tfl, h, w), "mp.solutions": MediapipeSolution(name)}
        else:
            refs = {"litert": LiteRT(tfl, True), "litert-builtin": LiteRT(tfl, False)}

        cases = []
        # random input
        img = rng.integers(0, 256, size=(h, w, 3), dtype=np.uint8)
        if pkg == "selfie":
            cases.append(("random_u8", img, u8_to_range(img, lo, hi)))
        else:
            cases.append(("random", None, rng.uniform(lo, hi, size=(h, w, 3)).astype(np.float32)))
        for k, (fn, box) in enumerate(PHOTOS[name]):
            img = load_photo(os.path.join(args.images, fn), box, h, w)
            label = f"photo{k}:{os.path.splitext(fn)[0]}" + (":crop" if box else "")
            cases.append((label, img, u8_to_range(img, lo, hi)))
        if pkg == "selfie":
            # random noise alone gives an all-background (saturated) mask; photo + noise does not
            img = load_photo(os.path.join(args.images, PHOTOS[name][1][0]), PHOTOS[name][1][1], h, w)
            noise = rng.integers(-64, 65, size=img.shape)
            img = np.clip(img.astype(np.int64) + noise, 0, 255).astype(np.uint8)
            cases.append(("noisy:crop+random", img, u8_to_range(img, lo, hi)))

        for label, img, x in cases:
            x_nchw = np.ascontiguousarray(x.transpose(2, 0, 1)[np.newaxis])
            onnx_outs = sess.run(None, {"input": x_nchw})
            line = f"{name:32s} {label:30s}"
            for ref_name, ref in refs.items():
                ref_outs = ref.run(img if pkg == "selfie" else x)
                diffs = []
                for on, ro, oo in zip(out_names, ref_outs, onnx_outs):
                    ro = ro.reshape(oo.shape) if on == "mask" else ro  # NHWC [1,H,W,1] == NCHW [1,1,H,W]
                    assert ro.shape == oo.shape, (ro.shape, oo.shape)
                    d = maxdiff(ro, oo)
                    worst = max(worst, d)
                    diffs.append(f"{on}={d:.3g}")
                line += f" | vs {ref_name}: " + " ".join(diffs)
            if pkg == "face":
                line += f" | max score sigmoid={1 / (1 + np.exp(-onnx_outs[1].max())):.3f}"
            else:
                m = onnx_outs[0]
                line += f" | mask min/mean/max={m.min():.3f}/{m.mean():.3f}/{m.max():.3f}"
            print(line, flush=True)
            if args.dump:
                tag = f"{name}.{label.split(':')[0]}"
                files = [os.path.join(args.dump, f"{tag}.input.f32")]
                x_nchw.astype("<f4").tofile(files[0])
                for on, oo in zip(out_names, onnx_outs):
                    files.append(os.path.join(args.dump, f"{tag}.{on}.f32"))
                    oo.astype("<f4").tofile(files[-1])
                manifest.append(" ".join([os.path.abspath(onnx_path), str(h), str(w)] + files))

    if args.dump:
        with open(os.path.join(args.dump, "manifest.txt"), "w") as f:
            f.write("\n".join(manifest) + "\n")
    print(f"worst max abs diff: {worst:.3g} (tolerance {args.tolerance})")
    return 0 if worst <= args.tolerance else 1


if __name__ == "__main__":
    sys.exit(main())
