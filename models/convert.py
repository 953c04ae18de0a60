#!/usr/bin/env python3
"""Convert the MediaPipe selfie-segmentation and BlazeFace TFLite models to ONNX.

Written for this project (no code from other converters).  Reads the .tflite
flatbuffer with the `tflite` schema package and writes an opset-13 ONNX graph
whose layout is NCHW throughout:

  * the input is named ``input``, shape [1, 3, H, W] float32 (same value range
    the TFLite model expects, see models/README.md);
  * NHWC weights are transposed at conversion time; fp16 weights behind
    DEQUANTIZE are folded into float32 initializers;
  * fused activations are emitted as separate ops, HARD_SWISH as
    x * Clip(x + 3, 0, 6) * (1/6);
  * RESIZE_BILINEAR that is an exact 2x upsample with half-pixel centres is
    emitted as Pad(edge) + two depthwise ConvTranspose (see upsample2x_half_pixel;
    tract's Resize is slow); any other RESIZE_BILINEAR becomes ONNX Resize;
  * a Transpose to NHWC order is only inserted in front of a 4-D -> 3-D
    RESHAPE when the element order would otherwise differ (so the BlazeFace
    outputs keep the TFLite anchor order exactly).

Output names: segmentation models -> ``mask`` [1, 1, H, W];
face detection models -> ``regressors`` [1, N, 16] and ``scores`` [1, N, 1].

The output is deterministic: fixed opset / IR version / producer strings and
no timestamps, and every name is derived from the TFLite file.

Usage: convert.py IN.tflite OUT.onnx
"""

import argparse
import sys

import numpy as np
import onnx
import tflite
from onnx import TensorProto, helper, numpy_helper
from tflite.BuiltinOperator import BuiltinOperator
from tflite.TensorType import TensorType

OPSET = 13
IR_VERSION = 7  # the IR version that goes with opset 13
PRODUCER = "gst-plugins models/convert.py"
PRODUCER_VERSION = "1"

BUILTIN_NAMES = {v: k for k, v in vars(BuiltinOperator).items() if not k.startswith("_")}
NP_TYPES = {
    TensorType.FLOAT32: np.float32,
    TensorType.FLOAT16: np.float16,
    TensorType.INT32: np.int32,
    TensorType.INT64: np.int64,
    TensorType.UINT8: np.uint8,
    TensorType.INT8: np.int8,
}
# NHWC axis -> NCHW axis
NHWC_TO_NCHW_AXIS = {0: 0, 1: 2, 2: 3, 3: 1}


def options(op, cls):
    """Decode the builtin options table of `op` as class `cls` (e.g. tflite.Conv2DOptions)."""
    table = op.BuiltinOptions()
    if table is None:
        return None
    o = cls()
    o.Init(table.Bytes, table.Pos)
    return o


def same_pads(in_size, k, stride, dilation=1):
    """TensorFlow SAME padding: returns (before, after); TF puts the extra pixel at the end."""
    out = -(-in_size // stride)
    eff_k = (k - 1) * dilation + 1
    total = max((out - 1) * stride + eff_k - in_size, 0)
    return total // 2, total - total // 2


class Converter:
    def __init__(self, path):
        with open(path, "rb") as f:
            self.buf = f.read()
        self.model = tflite.Model.GetRootAsModel(self.buf, 0)
        if self.model.SubgraphsLength() != 1:
            raise ValueError("expected exactly one subgraph")
        self.g = self.model.Subgraphs(0)
        self.nodes = []
        self.initializers = []
        self.const = {}  # tflite tensor index -> numpy array (TFLite layout)
        self.names = {}  # tflite tensor index -> ONNX value name
        self.used_names = set()
        self.counter = 0
        self.op_stats = []  # (tflite op name) in order, for reporting

    # ---------------------------------------------------------------- helpers
    def tensor(self, i):
        return self.g.Tensors(i)

    def shape(self, i):
        t = self.tensor(i)
        return [int(d) for d in t.ShapeAsNumpy()] if t.ShapeLength() else []

    def buffer_data(self, i):
        t = self.tensor(i)
        b = self.model.Buffers(t.Buffer())
        if b is None or b.DataLength() == 0:
            return None
        dtype = NP_TYPES[t.Type()]
        raw = b.DataAsNumpy().tobytes()
        return np.frombuffer(raw, dtype=np.dtype(dtype).newbyteorder("<")).reshape(self.shape(i)).copy()

    def uniq(self, base):
        name = base
        n = 1
        while name in self.used_names:
            n += 1
            name = f"{base}__{n}"
        self.used_names.add(name)
        return name

    def value_name(self, i):
        if i not in self.names:
            self.names[i] = self.uniq(self.tensor(i).Name().decode())
        return self.names[i]

    def add_init(self, base, arr):
        name = self.uniq(base)
        self.initializers.append(numpy_helper.from_array(np.ascontiguousarray(arr), name))
        return name

    def scalar(self, base, v):
        return self.add_init(base, np.array(v, dtype=np.float32))

    def tmp(self, base):
        self.counter += 1
        return self.uniq(f"{base}__tmp{self.counter}")

    def node(self, op_type, inputs, outputs, base, **attrs):
        self.nodes.append(helper.make_node(op_type, inputs, outputs, name=self.uniq(base + "/" + op_type), **attrs))

    def activation(self, x, fused, out, base):
        """Emit fused activation `fused` (ActivationFunctionType) from value x into `out`."""
        if fused == 0:  # NONE
            return x
        if fused == 1:  # RELU
            self.node("Relu", [x], [out], base)
        elif fused == 3:  # RELU6
            self.node("Clip", [x, self.scalar(base + "/zero", 0.0), self.scalar(base + "/six", 6.0)], [out], base)
        elif fused == 2:  # RELU_N1_TO_1
            self.node("Clip", [x, self.scalar(base + "/m1", -1.0), self.scalar(base + "/p1", 1.0)], [out], base)
        else:
            raise NotImplementedError(f"fused activation {fused}")
        return out

    def const_for_4d(self, i, base):
        """A constant operand of a broadcasting op whose other operand is a 4-D NCHW tensor."""
        a = self.const[i].astype(np.float32)
        while a.ndim < 4:
            a = a[np.newaxis]
        return self.add_init(base, a.transpose(0, 3, 1, 2))

    def operand(self, i, other_rank, base):
        if i in self.const:
            if other_rank == 4:
                return self.const_for_4d(i, base)
            return self.add_init(base, self.const[i].astype(np.float32))
        return self.value_name(i)

    # ----------------------------------------------------------------- ops
    def conv(self, op, inputs, outputs, depthwise, base):
        x, w_i, b_i = inputs[0], inputs[1], inputs[2] if len(inputs) > 2 else -1
        o = options(op, tflite.DepthwiseConv2DOptions if depthwise else tflite.Conv2DOptions)
        w = self.const[w_i].astype(np.float32)  # conv: [O, KH, KW, I]; depthwise: [1, KH, KW, C*M]
        in_shape = self.shape(x)  # NHWC
        _, kh, kw, _ = w.shape
        if depthwise:
            cin = in_shape[3]
            w_onnx = w.transpose(3, 0, 1, 2)  # [C*M, 1, KH, KW]
            group = cin
            if w_onnx.shape[0] % cin:
                raise ValueError("bad depthwise weight shape")
        else:
            w_onnx = w.transpose(0, 3, 1, 2)  # [O, I, KH, KW]
            group = 1
        dh, dw = o.DilationHFactor(), o.DilationWFactor()
        sh, sw = o.StrideH(), o.StrideW()
        if o.Padding() == 0:  # SAME
            pt, pb = same_pads(in_shape[1], kh, sh, dh)
            pl, pr = same_pads(in_shape[2], kw, sw, dw)
        else:  # VALID
            pt = pb = pl = pr = 0
        ins = [self.value_name(x), self.add_init(self.tensor(w_i).Name().decode(), w_onnx)]
        if b_i >= 0:
            ins.append(self.add_init(self.tensor(b_i).Name().decode(), self.const[b_i].astype(np.float32)))
        fused = o.FusedActivationFunction()
        out = self.value_name(outputs[0])
        conv_out = out if fused == 0 else self.tmp(base + "/preact")
        self.node("Conv", ins, [conv_out], base, kernel_shape=[kh, kw], strides=[sh, sw],
                  dilations=[dh, dw], pads=[pt, pl, pb, pr], group=group)
        self.activation(conv_out, fused, out, base)

    def transpose_conv_bias(self, op, inputs, outputs, base):
        """MediaPipe custom op Convolution2DTransposeBias: inputs (x, kernel[O,KH,KW,I], bias[O]).

        custom_options is a raw C struct {int32 padding (TfLitePadding 1=SAME, 2=VALID),
        int32 stride_width, int32 stride_height}.
        """
        opts = np.frombuffer(op.CustomOptionsAsNumpy().tobytes(), dtype="<i4")
        padding, stride_w, stride_h = (int(v) for v in opts[:3])
        x, w_i, b_i = inputs
        w = self.const[w_i].astype(np.float32)  # [O, KH, KW, I]
        o_ch, kh, kw, i_ch = w.shape
        in_shape, out_shape = self.shape(x), self.shape(outputs[0])
        if padding == 1:  # SAME: output = input * stride; crop like TF conv2d_transpose
            pt, pb = same_pads(out_shape[1], kh, stride_h)
            pl, pr = same_pads(out_shape[2], kw, stride_w)
        elif padding == 2:  # VALID
            pt = pb = pl = pr = 0
        else:
            raise ValueError(f"unknown TfLitePadding {padding}")
        exp_h = (in_shape[1] - 1) * stride_h + kh - pt - pb
        exp_w = (in_shape[2] - 1) * stride_w + kw - pl - pr
        if [exp_h, exp_w] != out_shape[1:3] or i_ch != in_shape[3] or o_ch != out_shape[3]:
            raise ValueError(f"Convolution2DTransposeBias options {opts} do not match shapes "
                             f"{in_shape} -> {out_shape} with kernel {w.shape}")
        ins = [self.value_name(x),
               self.add_init(self.tensor(w_i).Name().decode(), w.transpose(3, 0, 1, 2)),  # [I, O, KH, KW]
               self.add_init(self.tensor(b_i).Name().decode(), self.const[b_i].astype(np.float32))]
        self.node("ConvTranspose", ins, [self.value_name(outputs[0])], base, kernel_shape=[kh, kw],
                  strides=[stride_h, stride_w], pads=[pt, pl, pb, pr])

    def pool(self, op, inputs, outputs, kind, base):
        o = options(op, tflite.Pool2DOptions)
        in_shape = self.shape(inputs[0])
        fh, fw, sh, sw = o.FilterHeight(), o.FilterWidth(), o.StrideH(), o.StrideW()
        out = self.value_name(outputs[0])
        fused = o.FusedActivationFunction()
        pool_out = out if fused == 0 else self.tmp(base + "/preact")
        if o.Padding() == 0:
            pt, pb = same_pads(in_shape[1], fh, sh)
            pl, pr = same_pads(in_shape[2], fw, sw)
        else:
            pt = pb = pl = pr = 0
        x = self.value_name(inputs[0])
        if kind == "AveragePool" and (fh, fw) == tuple(in_shape[1:3]) and pt + pb + pl + pr == 0:
            self.node("GlobalAveragePool", [x], [pool_out], base)
        elif kind == "AveragePool":
            # TFLite averages over the valid (unpadded) pixels only
            self.node("AveragePool", [x], [pool_out], base, kernel_shape=[fh, fw], strides=[sh, sw],
                      pads=[pt, pl, pb, pr], count_include_pad=0)
        else:
            self.node("MaxPool", [x], [pool_out], base, kernel_shape=[fh, fw], strides=[sh, sw],
                      pads=[pt, pl, pb, pr])
        self.activation(pool_out, fused, out, base)

    def mean(self, op, inputs, outputs, base):
        o = options(op, tflite.ReducerOptions)
        axes = sorted(int(a) % 4 for a in self.const[inputs[1]].reshape(-1))
        if len(self.shape(inputs[0])) != 4:
            raise NotImplementedError("MEAN on non 4-D tensor")
        x = self.value_name(inputs[0])
        out = self.value_name(outputs[0])
        if axes == [1, 2] and o.KeepDims():
            self.node("GlobalAveragePool", [x], [out], base)
        else:
            onnx_axes = sorted(NHWC_TO_NCHW_AXIS[a] for a in axes)
            if not o.KeepDims():
                raise NotImplementedError("MEAN without keep_dims")
            self.node("ReduceMean", [x], [out], base, axes=onnx_axes, keepdims=1)

    def binary(self, op, inputs, outputs, onnx_op, opt_cls, base):
        o = options(op, opt_cls)
        fused = o.FusedActivationFunction() if o is not None else 0
        ranks = [len(self.shape(i)) for i in inputs]
        rank = max(ranks)
        if rank == 4 and any(r not in (0, 4) and i not in self.const for i, r in zip(inputs, ranks)):
            raise NotImplementedError("broadcast of a non-4-D activation against a 4-D one")
        a = self.operand(inputs[0], rank, base + "/a")
        b = self.operand(inputs[1], rank, base + "/b")
        out = self.value_name(outputs[0])
        bin_out = out if fused == 0 else self.tmp(base + "/preact")
        self.node(onnx_op, [a, b], [bin_out], base)
        self.activation(bin_out, fused, out, base)

    def hard_swish(self, inputs, outputs, base):
        x = self.value_name(inputs[0])
        t1, t2, t3 = self.tmp(base + "/xp3"), self.tmp(base + "/relu6"), self.tmp(base + "/xr")
        self.node("Add", [x, self.scalar(base + "/three", 3.0)], [t1], base + "/add")
        self.node("Clip", [t1, self.scalar(base + "/zero", 0.0), self.scalar(base + "/six", 6.0)], [t2], base + "/clip")
        self.node("Mul", [x, t2], [t3], base + "/mul")
        self.node("Mul", [t3, self.scalar(base + "/sixth", 1.0 / 6.0)], [self.value_name(outputs[0])], base + "/scale")

    def pad(self, op, inputs, outputs, base):
        p = self.const[inputs[1]].astype(np.int64)  # [rank, 2] (before, after)
        if p.shape != (4, 2):
            raise NotImplementedError("PAD on non 4-D tensor")
        perm = [0, 3, 1, 2]  # NCHW axis k is NHWC axis perm[k]
        before = [int(p[perm[k], 0]) for k in range(4)]
        after = [int(p[perm[k], 1]) for k in range(4)]
        if len(inputs) > 2 and inputs[2] >= 0:
            raise NotImplementedError("PADV2 constant value")
        pads = self.add_init(base + "/pads", np.array(before + after, dtype=np.int64))
        self.node("Pad", [self.value_name(inputs[0]), pads], [self.value_name(outputs[0])], base, mode="constant")

    def upsample2x_half_pixel(self, x, out, channels, base):
        """Bilinear 2x upsampling with half-pixel centres (= ONNX Resize linear half_pixel,
        edge clamped), built from ops tract runs fast (its Resize is slow):

          Pad(edge, 1 pixel on H and W)
          -> depthwise ConvTranspose over H (group = C, kernel 4x1, stride (2, 1), pads H 3/3)
          -> depthwise ConvTranspose over W (group = C, kernel 1x4, stride (1, 2), pads W 3/3),
          both with weights k = [1/4, 3/4, 3/4, 1/4] per channel and no bias.

        Per axis, output o samples input coordinate o/2 - 1/4, so
          out[2i] = 1/4 in[i-1] + 3/4 in[i],  out[2i+1] = 3/4 in[i] + 1/4 in[i+1]
        with in[-1] = in[0] and in[n] = in[n-1] (the edge clamp = the edge Pad).  On the
        padded P (P[j] = in[j-1], n + 2 samples) the stride-2 transposed conv with k gives
        full[2s] = 1/4 P[s] + 3/4 P[s-1] and full[2s+1] = 3/4 P[s] + 1/4 P[s-1], i.e.
        out[o] = full[o + 3]; full has 2n + 6 samples, so pads 3 / 3 crop it to 2n.
        (The first pass keeps the W padding, which the second pass consumes.)
        """
        padded, rows = self.tmp(base + "/edge_pad"), self.tmp(base + "/up2x_h")
        pads = self.add_init(base + "/edge_pads", np.array([0, 0, 1, 1, 0, 0, 1, 1], dtype=np.int64))
        self.node("Pad", [x, pads], [padded], base + "/edge", mode="edge")
        k = np.array([0.25, 0.75, 0.75, 0.25], dtype=np.float32)
        w_h = np.broadcast_to(k.reshape(4, 1), (channels, 1, 4, 1)).astype(np.float32)  # [C, 1, KH, KW]
        w_w = np.broadcast_to(k.reshape(1, 4), (channels, 1, 1, 4)).astype(np.float32)
        self.node("ConvTranspose", [padded, self.add_init(base + "/bilinear2x_h", w_h)], [rows], base + "/up2x_h",
                  kernel_shape=[4, 1], strides=[2, 1], pads=[3, 0, 3, 0], group=channels)
        self.node("ConvTranspose", [rows, self.add_init(base + "/bilinear2x_w", w_w)], [out], base + "/up2x_w",
                  kernel_shape=[1, 4], strides=[1, 2], pads=[0, 3, 0, 3], group=channels)

    def resize_bilinear(self, op, inputs, outputs, base):
        o = options(op, tflite.ResizeBilinearOptions)
        in_shape, out_shape = self.shape(inputs[0]), self.shape(outputs[0])
        size = [int(v) for v in self.const[inputs[1]].reshape(-1)]
        if size != out_shape[1:3]:
            raise ValueError("resize size mismatch")
        if (o.HalfPixelCenters() and not o.AlignCorners() and len(in_shape) == 4
                and out_shape[1:3] == [2 * in_shape[1], 2 * in_shape[2]] and out_shape[3] == in_shape[3]):
            self.upsample2x_half_pixel(self.value_name(inputs[0]), self.value_name(outputs[0]), in_shape[3], base)
            return
        if o.AlignCorners():
            mode = "align_corners"
        elif o.HalfPixelCenters():
            mode = "half_pixel"
        else:
            mode = "asymmetric"
        scales = np.array([1.0, 1.0, out_shape[1] / in_shape[1], out_shape[2] / in_shape[2]], dtype=np.float32)
        self.node("Resize", [self.value_name(inputs[0]), "", self.add_init(base + "/scales", scales)],
                  [self.value_name(outputs[0])], base, mode="linear", coordinate_transformation_mode=mode)

    def reshape(self, op, inputs, outputs, base):
        in_shape, out_shape = self.shape(inputs[0]), self.shape(outputs[0])
        x = self.value_name(inputs[0])
        if len(in_shape) == 4:
            n, h, w, c = in_shape
            if len(out_shape) == 4:
                raise NotImplementedError("4-D -> 4-D RESHAPE")
            if c != 1 and h * w != 1:
                # NCHW element order differs from NHWC: go back to NHWC first
                t = self.tmp(base + "/nhwc")
                self.node("Transpose", [x], [t], base + "/to_nhwc", perm=[0, 2, 3, 1])
                x = t
        elif len(out_shape) == 4:
            raise NotImplementedError("RESHAPE to 4-D")
        shape = self.add_init(base + "/shape", np.array(out_shape, dtype=np.int64))
        self.node("Reshape", [x, shape], [self.value_name(outputs[0])], base)

    def concat(self, op, inputs, outputs, base):
        o = options(op, tflite.ConcatenationOptions)
        rank = len(self.shape(outputs[0]))
        axis = o.Axis() % rank
        if rank == 4:
            axis = NHWC_TO_NCHW_AXIS[axis]
        out = self.value_name(outputs[0])
        fused = o.FusedActivationFunction()
        cat_out = out if fused == 0 else self.tmp(base + "/preact")
        self.node("Concat", [self.operand(i, rank, base + "/c") for i in inputs], [cat_out], base, axis=axis)
        self.activation(cat_out, fused, out, base)

    # -------------------------------------------------------------- driver
    def convert(self, output_names):
        g = self.g
        for i in range(g.TensorsLength()):
            d = self.buffer_data(i)
            if d is not None:
                self.const[i] = d
        in_idx = [g.Inputs(k) for k in range(g.InputsLength())]
        out_idx = [g.Outputs(k) for k in range(g.OutputsLength())]
        if len(in_idx) != 1 or len(output_names) != len(out_idx):
            raise ValueError(f"model has {len(in_idx)} inputs / {len(out_idx)} outputs")
        self.names[in_idx[0]] = self.uniq("input")
        for k, i in enumerate(out_idx):
            self.names[i] = self.uniq(output_names[k])

        for k in range(g.OperatorsLength()):
            op = g.Operators(k)
            oc = self.model.OperatorCodes(op.OpcodeIndex())
            code = max(oc.BuiltinCode(), oc.DeprecatedBuiltinCode())
            name = BUILTIN_NAMES[code]
            if name == "CUSTOM":
                name = "CUSTOM:" + oc.CustomCode().decode()
            inputs = [op.Inputs(j) for j in range(op.InputsLength())]
            outputs = [op.Outputs(j) for j in range(op.OutputsLength())]
            base = self.tensor(outputs[0]).Name().decode()
            self.op_stats.append(name)
            if name == "DEQUANTIZE":
                src = inputs[0]
                if src not in self.const or self.tensor(src).Type() != TensorType.FLOAT16:
                    raise NotImplementedError("DEQUANTIZE of something other than a fp16 constant")
                self.const[outputs[0]] = self.const[src].astype(np.float32)
            elif name == "CONV_2D":
                self.conv(op, inputs, outputs, False, base)
            elif name == "DEPTHWISE_CONV_2D":
                self.conv(op, inputs, outputs, True, base)
            elif name == "CUSTOM:Convolution2DTransposeBias":
                self.transpose_conv_bias(op, inputs, outputs, base)
            elif name == "RELU":
                self.node("Relu", [self.value_name(inputs[0])], [self.value_name(outputs[0])], base)
            elif name == "RELU6":
                self.activation(self.value_name(inputs[0]), 3, self.value_name(outputs[0]), base)
            elif name == "LOGISTIC":
                self.node("Sigmoid", [self.value_name(inputs[0])], [self.value_name(outputs[0])], base)
            elif name == "HARD_SWISH":
                self.hard_swish(inputs, outputs, base)
            elif name == "ADD":
                self.binary(op, inputs, outputs, "Add", tflite.AddOptions, base)
            elif name == "MUL":
                self.binary(op, inputs, outputs, "Mul", tflite.MulOptions, base)
            elif name == "AVERAGE_POOL_2D":
                self.pool(op, inputs, outputs, "AveragePool", base)
            elif name == "MAX_POOL_2D":
                self.pool(op, inputs, outputs, "MaxPool", base)
            elif name == "MEAN":
                self.mean(op, inputs, outputs, base)
            elif name == "PAD":
                self.pad(op, inputs, outputs, base)
            elif name == "RESIZE_BILINEAR":
                self.resize_bilinear(op, inputs, outputs, base)
            elif name == "RESHAPE":
                self.reshape(op, inputs, outputs, base)
            elif name == "CONCATENATION":
                self.concat(op, inputs, outputs, base)
            else:
                raise NotImplementedError(f"TFLite op {name}")

        def vi(i, name):
            s = self.shape(i)
            if len(s) == 4:
                s = [s[0], s[3], s[1], s[2]]
            return helper.make_tensor_value_info(name, TensorProto.FLOAT, s)

        graph = helper.make_graph(
            self.nodes, "main",
            [vi(in_idx[0], "input")],
            [vi(i, output_names[k]) for k, i in enumerate(out_idx)],
            initializer=self.initializers)
        model = helper.make_model(graph, producer_name=PRODUCER, producer_version=PRODUCER_VERSION,
                                  opset_imports=[helper.make_opsetid("", OPSET)])
        model.ir_version = IR_VERSION
        onnx.checker.check_model(model, full_check=True)
        return model


def default_output_names(conv):
    g = conv.g
    shapes = [conv.shape(g.Outputs(k)) for k in range(g.OutputsLength())]
    if len(shapes) == 1 and len(shapes[0]) == 4 and shapes[0][3] == 1:
        return ["mask"]
    if len(shapes) == 2 and shapes[0][-1] == 16 and shapes[1][-1] == 1:
        return ["regressors", "scores"]
    raise ValueError(f"cannot name outputs of shapes {shapes}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("tflite")
    ap.add_argument("onnx")
    ap.add_argument("-v", "--verbose", action="store_true", help="print TFLite op counts")
    args = ap.parse_args()
    conv = Converter(args.tflite)
    model = conv.convert(default_output_names(conv))
    with open(args.onnx, "wb") as f:
        f.write(model.SerializeToString(deterministic=True))
    if args.verbose:
        from collections import Counter
        print(args.tflite, "TFLite ops:", dict(sorted(Counter(conv.op_stats).items())), file=sys.stderr)
        print(args.onnx, "ONNX ops:", dict(sorted(Counter(n.op_type for n in model.graph.node).items())),
              file=sys.stderr)


if __name__ == "__main__":
    main()
