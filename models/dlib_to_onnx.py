#!/usr/bin/env python3
"""Convert dlib's face recognition ResNet to ONNX, from dlib's XML dump of it.

Input: the XML that ``dlib::net_to_xml`` writes for
``dlib_face_recognition_resnet_model_v1.dat`` (see models/dlib/net_to_xml.cpp;
dlib prints every float with 9 significant digits, so the float32 parameters
are recovered exactly).  Written for this project.

The ONNX graph (opset 13, IR version 8):

  * input ``input``: float32 [1, 3, 150, 150], NCHW, **RGB, pixel values 0..255**
    (a 150x150 face chip as dlib's get_face_chip_details(size 150, padding
    0.25) + extract_image_chip make it);
  * dlib's input normalisation is in the graph: ``(x - mean) * (1/256)`` with
    dlib's per-channel mean (R 122.782, G 117.001, B 104.298, float32 as
    stored in the .dat);
  * con -> Conv (explicit pads from the XML), affine_con -> Mul + Add
    (per-channel), relu -> Relu, max_pool / avg_pool -> MaxPool / AveragePool
    (no padding), avg_pool_everything -> GlobalAveragePool, add_prev -> Add
    (dlib zero-pads the smaller operand when shapes differ: Pad at the end of
    the channel / spatial axes), fc_no_bias -> Flatten + MatMul;
  * output ``embedding``: float32 [1, 128] (dlib's loss_metric output; not
    normalised by the net, dlib compares embeddings by euclidean distance,
    threshold 0.6).

Initializers with >= 1024 elements (the conv filters and the fc matrix) are
stored as float16 and widened by a Cast to float in front of their use;
everything is computed in float32 (--fp32 keeps float32 storage).

The output is deterministic: fixed producer strings, no timestamps, every name
derived from dlib's layer index, deterministic protobuf serialisation.

  dlib_to_onnx.py NET.xml OUT.onnx [--fp32] [--check REF.txt]
  dlib_to_onnx.py --check REF.txt --model IN.onnx [--runtime onnxruntime]

--check compares the model's embedding of the test chip of net_to_xml.cpp
(img(r, c) = ((r*7 + c*3) % 256, (r*5 + c*11) % 256, (r*13 + c) % 256)) with
the 128 floats dlib wrote for it and fails above 2e-3 max abs difference or
below 0.9999 cosine.  The default runtime is a small float64 numpy evaluator
of the ops used here (no extra dependency); onnxruntime if asked for.
"""

import argparse
import sys
import xml.etree.ElementTree as ET

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

OPSET = 13
IR_VERSION = 8
PRODUCER = "gst-plugins models/dlib_to_onnx.py"
PRODUCER_VERSION = "1"
GRAPH_NAME = "dlib_face_recognition_resnet_model_v1"
DOC = ("dlib_face_recognition_resnet_model_v1 (dlib, Davis King; CC0 1.0), "
       "converted to ONNX by models/dlib_to_onnx.py. Input: 150x150 RGB face chip, 0..255. "
       "Output: 128-d embedding, compare by euclidean distance (dlib: same person < 0.6).")
FP16_MIN_SIZE = 1024
MAX_ABS_TOL = 2e-3
COSINE_MIN = 0.9999


def floats(el):
    return np.array(el.text.split(), dtype=np.float32)


class Builder:
    def __init__(self, fp16):
        self.fp16 = fp16
        self.nodes = []
        self.casts = []
        self.inits = []

    def const(self, name, arr):
        arr = np.ascontiguousarray(arr)
        if self.fp16 and arr.dtype == np.float32 and arr.size >= FP16_MIN_SIZE:
            self.inits.append(numpy_helper.from_array(arr.astype(np.float16), name + "_f16"))
            self.casts.append(helper.make_node("Cast", [name + "_f16"], [name], name=name + "_cast",
                                               to=TensorProto.FLOAT))
        else:
            self.inits.append(numpy_helper.from_array(arr, name))
        return name

    def node(self, op, inputs, name, **attrs):
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name


def convert(xml_path, fp16=True):
    root = ET.parse(xml_path).getroot()
    # net_to_xml lists layers from the loss (idx 0) to the input (highest idx)
    layers = sorted(root.findall("layer"), key=lambda l: int(l.get("idx")), reverse=True)
    b = Builder(fp16)
    cur = shape = None  # current tensor name and its (C, H, W)
    tags = {}
    have_output = False
    for layer in layers:
        kind = layer.get("type")
        p = f"l{int(layer.get('idx')):03d}"
        if kind == "input":
            e = layer[0]
            assert e.tag == "input_rgb_image_sized", e.tag
            mean = np.array([float(e.get(c)) for c in "rgb"], np.float32).reshape(1, 3, 1, 1)
            shape = (3, int(e.get("nr")), int(e.get("nc")))
            assert shape == (3, 150, 150), shape
            x = b.node("Sub", ["input", b.const(p + "_mean", mean)], p + "_sub")
            cur = b.node("Mul", [x, b.const(p + "_scale", np.array(1 / 256, np.float32))], p + "_scale_out")
            continue
        if kind == "tag":
            tags[layer.get("id")] = (cur, shape)
            continue
        if kind == "skip":
            cur, shape = tags[layer.get("id")]
            continue
        if kind == "loss":
            assert layer[0].tag == "loss_metric", layer[0].tag
            continue
        assert kind == "comp", kind
        e = layer[0]
        k = e.tag
        if k == "con":
            nf, kh, kw = (int(e.get(a)) for a in ("num_filters", "nr", "nc"))
            sy, sx, py, px = (int(e.get(a)) for a in ("stride_y", "stride_x", "padding_y", "padding_x"))
            assert e.get("use_bias", "true") == "true"
            v = floats(e)
            c = shape[0]
            n = nf * c * kh * kw
            assert v.size == n + nf, (v.size, n, nf)
            w = v[:n].reshape(nf, c, kh, kw)
            cur = b.node("Conv", [cur, b.const(p + "_w", w), b.const(p + "_b", v[n:])], p + "_conv",
                         kernel_shape=[kh, kw], strides=[sy, sx], pads=[py, px, py, px])
            shape = (nf, (shape[1] + 2 * py - kh) // sy + 1, (shape[2] + 2 * px - kw) // sx + 1)
        elif k == "affine_con":
            assert e.get("disabled") is None
            v = floats(e)
            c = shape[0]
            assert v.size == 2 * c
            x = b.node("Mul", [cur, b.const(p + "_gamma", v[:c].reshape(1, c, 1, 1))], p + "_mul")
            cur = b.node("Add", [x, b.const(p + "_beta", v[c:].reshape(1, c, 1, 1))], p + "_affine")
        elif k == "relu":
            cur = b.node("Relu", [cur], p + "_relu")
        elif k in ("max_pool", "avg_pool"):
            kh, kw = int(e.get("nr")), int(e.get("nc"))
            sy, sx, py, px = (int(e.get(a)) for a in ("stride_y", "stride_x", "padding_y", "padding_x"))
            if kh == 0 and kw == 0:  # avg_pool_everything
                assert k == "avg_pool"
                cur = b.node("GlobalAveragePool", [cur], p + "_gap")
                shape = (shape[0], 1, 1)
            else:
                assert py == 0 and px == 0, "pooling with padding not supported"
                cur = b.node("MaxPool" if k == "max_pool" else "AveragePool", [cur], p + "_" + k,
                             kernel_shape=[kh, kw], strides=[sy, sx])
                shape = (shape[0], (shape[1] - kh) // sy + 1, (shape[2] - kw) // sx + 1)
        elif k == "add_prev":
            other, oshape = tags[e.get("tag")]
            target = tuple(max(s, t) for s, t in zip(shape, oshape))

            def pad_to(x, s, suffix):
                if s == target:
                    return x
                pads = np.array([0, 0, 0, 0, 0] + [t - u for t, u in zip(target, s)], np.int64)
                return b.node("Pad", [x, b.const(p + "_pads" + suffix, pads)], p + "_pad" + suffix,
                              mode="constant")

            cur = b.node("Add", [pad_to(cur, shape, "a"), pad_to(other, oshape, "b")], p + "_add")
            shape = target
        elif k == "fc_no_bias":
            n_out = int(e.get("num_outputs"))
            v = floats(e)
            n_in = shape[0] * shape[1] * shape[2]
            assert v.size == n_in * n_out, (v.size, n_in, n_out)
            x = b.node("Flatten", [cur], p + "_flatten", axis=1)
            b.nodes.append(helper.make_node("MatMul", [x, b.const(p + "_w", v.reshape(n_in, n_out))],
                                            ["embedding"], name=p + "_matmul"))
            have_output = True
        else:
            raise NotImplementedError(f"dlib layer {k}")
    assert have_output

    graph = helper.make_graph(
        b.casts + b.nodes, GRAPH_NAME,
        [helper.make_tensor_value_info("input", TensorProto.FLOAT, [1, 3, 150, 150])],
        [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, [1, 128])],
        initializer=b.inits)
    model = helper.make_model(graph, producer_name=PRODUCER, producer_version=PRODUCER_VERSION,
                              opset_imports=[helper.make_opsetid("", OPSET)], doc_string=DOC)
    model.ir_version = IR_VERSION
    onnx.checker.check_model(model, full_check=True)
    return model


def test_chip():
    r = np.arange(150).reshape(150, 1)
    c = np.arange(150).reshape(1, 150)
    img = np.stack([(r * 7 + c * 3) % 256, (r * 5 + c * 11) % 256, (r * 13 + c) % 256])
    return img.astype(np.float32)[None]  # [1, 3, 150, 150]


def run_numpy(model, x):
    """Evaluate the graph (only the ops convert() emits) in float64."""
    env = {"input": x.astype(np.float64)}
    for t in model.graph.initializer:
        env[t.name] = numpy_helper.to_array(t)

    def attr(n, name, default=None):
        for a in n.attribute:
            if a.name == name:
                return helper.get_attribute_value(a)
        return default

    def windows(v, kh, kw, sy, sx):  # [N, C, OH, OW, kh, kw]
        return np.lib.stride_tricks.sliding_window_view(v, (kh, kw), axis=(2, 3))[:, :, ::sy, ::sx]

    for n in model.graph.node:
        a = [env[i] for i in n.input]
        op = n.op_type
        if op == "Cast":
            assert attr(n, "to") == TensorProto.FLOAT
            y = a[0].astype(np.float32).astype(np.float64)
        elif op in ("Sub", "Mul", "Add"):
            y = {"Sub": np.subtract, "Mul": np.multiply, "Add": np.add}[op](a[0], a[1])
        elif op == "Relu":
            y = np.maximum(a[0], 0)
        elif op == "Conv":
            kh, kw = attr(n, "kernel_shape")
            sy, sx = attr(n, "strides")
            py, px, _, _ = attr(n, "pads")
            v = np.pad(a[0], ((0, 0), (0, 0), (py, py), (px, px)))
            y = np.einsum("ncyxij,fcij->nfyx", windows(v, kh, kw, sy, sx), a[1].astype(np.float64),
                          optimize=True) + a[2].astype(np.float64).reshape(1, -1, 1, 1)
        elif op in ("MaxPool", "AveragePool"):
            kh, kw = attr(n, "kernel_shape")
            sy, sx = attr(n, "strides")
            w = windows(a[0], kh, kw, sy, sx)
            y = w.max(axis=(4, 5)) if op == "MaxPool" else w.mean(axis=(4, 5))
        elif op == "GlobalAveragePool":
            y = a[0].mean(axis=(2, 3), keepdims=True)
        elif op == "Pad":
            pads = a[1]
            r = len(pads) // 2
            y = np.pad(a[0], [(pads[i], pads[i + r]) for i in range(r)])
        elif op == "Flatten":
            y = a[0].reshape(a[0].shape[0], -1)
        elif op == "MatMul":
            y = a[0] @ a[1].astype(np.float64)
        else:
            raise NotImplementedError(op)
        env[n.output[0]] = y
    return env["embedding"]


def check(model_path, ref_path, runtime):
    ref = np.array(open(ref_path).read().split(), dtype=np.float64)
    assert ref.size == 128
    x = test_chip()
    if runtime == "onnxruntime":
        import onnxruntime as ort
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = 1
        sess = ort.InferenceSession(model_path, opts, providers=["CPUExecutionProvider"])
        got = sess.run(["embedding"], {"input": x})[0]
    else:
        got = run_numpy(onnx.load(model_path), x)
    got = np.asarray(got, np.float64).reshape(-1)
    diff = float(np.abs(got - ref).max())
    cos = float(got @ ref / (np.linalg.norm(got) * np.linalg.norm(ref)))
    dist = float(np.linalg.norm(got - ref))
    ok = diff <= MAX_ABS_TOL and cos >= COSINE_MIN
    print(f"{model_path} ({runtime}) vs dlib: max abs diff {diff:.3g}, cosine {cos:.9f}, "
          f"euclidean distance {dist:.3g}, |ref| {np.linalg.norm(ref):.4f}: {'OK' if ok else 'FAIL'}")
    return ok


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("xml", nargs="?")
    ap.add_argument("onnx", nargs="?")
    ap.add_argument("--fp32", action="store_true", help="store all weights as float32")
    ap.add_argument("--check", metavar="REF.txt", help="compare with dlib's reference embedding")
    ap.add_argument("--model", metavar="IN.onnx", help="check this model instead of converting")
    ap.add_argument("--runtime", choices=("numpy", "onnxruntime"), default="numpy")
    args = ap.parse_args()
    if args.model:
        if not args.check or args.xml:
            ap.error("--model needs --check and no positional arguments")
        sys.exit(0 if check(args.model, args.check, args.runtime) else 1)
    if not (args.xml and args.onnx):
        ap.error("need NET.xml OUT.onnx")
    model = convert(args.xml, fp16=not args.fp32)
    with open(args.onnx, "wb") as f:
        f.write(model.SerializeToString(deterministic=True))
    if args.check and not check(args.onnx, args.check, args.runtime):
        sys.exit(1)


if __name__ == "__main__":
    main()
