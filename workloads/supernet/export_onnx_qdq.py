#!/usr/bin/python3
"""Exports SubNets of a supernav deployment image (.snm) as int8 QDQ ONNX models
(QuantizeLinear / DequantizeLinear around float operators) that carry supernav's own
quantization, so that ONNX Runtime's int8 path can serve as an independent oracle of the
engine's int8 inference (tests/test_int8_ort.sh), and as the ONNX Runtime int8 column of
the peer benchmark (make bench-peers). Needs only Debian's python3-onnx and python3-numpy
(no PyTorch); run with /usr/bin/python3.

Everything comes from the image, read here with its own small reader (engine/include/
sn_image.h), not through the engine:
  * weights: the int8 twins q8.NAME (per output channel, symmetric) with q8.NAME.scale,
    sliced and cropped as the engine slices the shared tensors (leading channels, centred
    depthwise crop); checked against the image's fp32 weights (|q * scale - w| <= scale / 2);
  * batch norm: gamma, beta and the config's calibrated mean and var (calib.{id}.*), folded
    into the weight scale (w_scale * gamma / sqrt(var + eps)) and an int32 bias
    (round((beta - mean * bn_scale) / (s_in * w_scale * bn_scale))), as the engine folds them
    (a negative BN scale flips the channel's int8 weights instead: ONNX scales are positive);
  * activations: q8.act.{id}, the calibrated [min, max] of every layer's output and of its
    output after the residual add, quantized as TFLite's asymmetric int8 does it (the range
    widened to include 0, scale = (max - min) / 255, zero point = round(-128 - min / scale));
    the input is pixel / 255 at scale 1/255, zero point -128. In the file activations are
    uint8 with the zero point + 128 (the same values shifted), weights int8.
The arithmetic between them (integer accumulation, requantization, rounding, the residual
add, the average pool, the classifier) is ONNX Runtime's.

Graph per SubNet (NCHW; input `canvas` float [1, 1, 64, 64] = pixel / 255, output `logits`):
  Resize (bilinear, half-pixel, to the SubNet's resolution; none at 64) -> Q(input);
  per convolution DQ(x), DQ(w, per channel), DQ(bias, int32) -> Conv [-> Clip(0, 6)] -> Q(out);
  a residual block: DQ(out) + DQ(block input) -> Q(post);
  DQ(head) -> GlobalAveragePool -> Q(head) -> Flatten -> DQ -> Gemm(DQ(fc weight), DQ(fc bias))
  -> logits (float, as the engine's classifier dequantizes its accumulators).

Writes OUT/{subnetNN}.onnx (NN = the config's row among accuracy.csv's kind=subnet rows) and
OUT/manifest.json (via temporary files renamed into place).
"""
import argparse
import csv
import hashlib
import json
import math
import os
import re
import struct
import sys

import numpy as np

OPSET = 13
INPUT_SCALE = np.float32(1.0) / np.float32(255.0)   # the engine's 1.0f / 255.0f
INPUT_ZERO_POINT = -128
ACT_COLUMNS = 4


class ExportError(Exception):
    pass


# ---- the deployment image (engine/include/sn_image.h, format version 1) ---------------------
SECTION_ARCH, SECTION_TENSORS, SECTION_DATA, SECTION_CONFIGS = 1, 2, 3, 4
DTYPES = {1: "<f4", 2: "i1", 3: "<i4", 4: "u1"}
DTYPE_F32_ELIDED = 5
ARCH_FIELDS = (("canvas", 1), ("num_classes", 1), ("stem_c", 1), ("head_c", 1), ("k_max", 1),
               ("num_stages", 1), ("stage_out_c", 8), ("stage_max_depth", 8), ("stage_min_depth", 8),
               ("stage_stride", 8), ("num_resolutions", 1), ("resolutions", 8), ("num_expands", 1),
               ("expands", 8), ("num_kernels", 1), ("kernels", 8), ("arac_prefix_stages", 1),
               ("num_grids", 1), ("grids", 8), ("num_levels", 1), ("levels_pct", 8), ("gate_c", 1),
               ("gate_pool", 1), ("bn_eps_bits", 1))


class Image:
    """arch (dict), tensors {name: ndarray, or None where elided}, configs [(kind, text)]."""

    def __init__(self, path):
        with open(path, "rb") as f:
            raw = f.read()
        if raw[:8] != b"SNMODEL1":
            raise ExportError(f"{path}: not a supernav deployment image")
        version, _, file_bytes, count, table = struct.unpack_from("<IIQII", raw, 8)
        if version != 1 or file_bytes != len(raw):
            raise ExportError(f"{path}: format version {version} or size {file_bytes} not understood")
        sections = {}
        for i in range(count):
            kind, _, off, size, _ = struct.unpack_from("<IIQQQ", raw, table + 32 * i)
            sections[kind] = (off, size)
        for need in (SECTION_ARCH, SECTION_TENSORS, SECTION_DATA, SECTION_CONFIGS):
            if need not in sections:
                raise ExportError(f"{path}: section {need} missing")
        off, _ = sections[SECTION_ARCH]
        words = struct.unpack_from("<%dI" % sum(n for _, n in ARCH_FIELDS), raw, off)
        self.arch, k = {}, 0
        for name, n in ARCH_FIELDS:
            self.arch[name] = words[k] if n == 1 else list(words[k:k + n])
            k += n
        self.arch["bn_eps"] = np.frombuffer(struct.pack("<I", self.arch["bn_eps_bits"]), "<f4")[0]
        data_off, _ = sections[SECTION_DATA]
        off, size = sections[SECTION_TENSORS]
        self.tensors = {}
        for e in range(size // 96):
            name = raw[off + 96 * e:off + 96 * e + 56].split(b"\0", 1)[0].decode()
            dtype, ndim, d0, d1, d2, d3, t_off, t_bytes = struct.unpack_from("<IIIIIIQQ", raw, off + 96 * e + 56)
            dims = [d0, d1, d2, d3][:ndim]
            if dtype == DTYPE_F32_ELIDED:
                self.tensors[name] = None
                continue
            dt = np.dtype(DTYPES[dtype])
            self.tensors[name] = np.frombuffer(raw, dt, t_bytes // dt.itemsize, data_off + t_off).reshape(dims)
        off, size = sections[SECTION_CONFIGS]
        self.configs = []
        for e in range(size // 256):
            kind, _ = struct.unpack_from("<II", raw, off + 256 * e)
            self.configs.append((kind, raw[off + 256 * e + 8:off + 256 * (e + 1)].split(b"\0", 1)[0].decode()))

    def get(self, name):
        t = self.tensors.get(name)
        if t is None:
            raise ExportError(f"the image holds no tensor '{name}'" +
                              (" (elided: an int8-only image)" if name in self.tensors else ""))
        return t

    def calibration_id(self, text):
        for i, (kind, t) in enumerate(self.configs):
            if kind == 0 and t == text:
                return i
        raise ExportError(f"{text}: not a calibrated SubNet of the image")


def parse_subnet(text, arch):
    """(res, depths, expands, kernels) of r{res}-d{..}-e{..}-k{..} (workloads/supernet/README.md)."""
    m = re.fullmatch(r"r(\d+)-d([\d.]+)-e([\d.]+)-k([\d.]+)", text)
    if not m:
        raise ExportError(f"'{text}' is not a SubNet config")
    sp = lambda s: [int(x) for x in s.split(".")]
    res, depths, expands, kernels = int(m.group(1)), sp(m.group(2)), sp(m.group(3)), sp(m.group(4))
    if len(depths) != arch["num_stages"] or len(expands) != sum(depths) or len(kernels) != sum(depths):
        raise ExportError(f"'{text}' does not fit the image's architecture")
    return res, depths, expands, kernels


# ---- supernav's quantization, from its stored parameters -------------------------------------
def round_half_away(v):
    return math.floor(v + 0.5) if v >= 0 else -math.floor(-v + 0.5)


def qtensor_of(lo, hi):
    """TFLite's asymmetric int8 quantization of [lo, hi] widened to include 0: (float32 scale,
    zero point), the zero point from the unrounded scale (double), as the engine computes it."""
    lo, hi = min(float(lo), 0.0), max(float(hi), 0.0)
    if hi - lo < 1e-6:
        hi = lo + 1e-6
    scale = (hi - lo) / 255.0
    return np.float32(scale), int(min(max(round_half_away(-128.0 - lo / scale), -128), 127))


def check_weights(name, q, scale, w):
    """The stored int8 weights represent the fp32 ones: |q * scale - w| <= scale / 2 (plus float
    slack), |q| <= 127. Skipped where the image elides the fp32 weights."""
    if w is None:
        return
    err = np.abs(q.astype(np.float64) * scale.astype(np.float64) - w.astype(np.float64))
    bad = err > scale.astype(np.float64) * (0.5 + 1e-5) + 1e-12
    if bad.any() or np.abs(q.astype(np.int32)).max() > 127:
        raise ExportError(f"q8.{name}: {int(bad.sum())} int8 weights do not round their fp32 weights at "
                          f"the stored scale")


class Layer:
    """One convolution: int8 weights [O, I/groups, k, k], its weight scale per output channel,
    the folded BN (float32 scale and bias, as the engine's fold_bn), and its geometry."""

    def __init__(self, name, q, w_scale, bn_scale, bn_bias, stride, groups, relu6, residual=False):
        self.name, self.q, self.w_scale = name, q, w_scale
        self.bn_scale, self.bn_bias = bn_scale, bn_bias
        self.stride, self.groups, self.relu6, self.residual = stride, groups, relu6, residual


def fold_bn(img, cal, bn, channels):
    gamma = img.get(bn + ".weight")[:channels].astype(np.float32)
    beta = img.get(bn + ".bias")[:channels].astype(np.float32)
    mean = img.get(f"calib.{cal}.{bn}.mean").astype(np.float32)
    var = img.get(f"calib.{cal}.{bn}.var").astype(np.float32)
    if mean.size != channels or var.size != channels:
        raise ExportError(f"calib.{cal}.{bn}: {mean.size} statistics for {channels} channels")
    scale = (gamma / np.sqrt(var + np.float32(img.arch["bn_eps"]))).astype(np.float32)
    return scale, (beta - mean * scale).astype(np.float32)


def dense(img, name, out_c, in_c):
    """OHWI shared tensor -> leading out_c x in_c slice as OIHW int8, and its scales."""
    q = img.get("q8." + name)[:out_c, :, :, :in_c]
    s = img.get(f"q8.{name}.scale")[:out_c].astype(np.float32)
    w = img.tensors.get(name)
    check_weights(name, q, s[:, None, None, None], None if w is None else w[:out_c, :, :, :in_c])
    return np.ascontiguousarray(q.transpose(0, 3, 1, 2)), s


def depthwise(img, name, channels, k):
    """[k_max][k_max][C_max] shared tensor -> centred k x k crop of the leading channels as
    [C, 1, k, k] int8, and its scales."""
    o = (img.arch["k_max"] - k) // 2
    q = img.get("q8." + name)[o:o + k, o:o + k, :channels]
    s = img.get(f"q8.{name}.scale")[:channels].astype(np.float32)
    w = img.tensors.get(name)
    check_weights(name, q, s[None, None, :], None if w is None else w[o:o + k, o:o + k, :channels])
    return np.ascontiguousarray(q.transpose(2, 0, 1)[:, None]), s


def subnet_layers(img, text):
    """The SubNet's convolutions in the engine's order (stem, expand/dw/project per block,
    head) and its resolution."""
    a = img.arch
    res, depths, expands, kernels = parse_subnet(text, a)
    cal = img.calibration_id(text)
    layers = []
    q, s = dense(img, "stem", a["stem_c"], 1)
    layers.append(Layer("stem", q, s, *fold_bn(img, cal, "stem_bn", a["stem_c"]), 2, 1, True))
    in_c, gi = a["stem_c"], 0
    for st in range(a["num_stages"]):
        out_c = a["stage_out_c"][st]
        for b in range(depths[st]):
            p, stride = f"stages.{st}.{b}", a["stage_stride"][st] if b == 0 else 1
            hid, k = in_c * expands[gi], kernels[gi]
            q, s = dense(img, p + ".expand", hid, in_c)
            layers.append(Layer(p + ".expand", q, s, *fold_bn(img, cal, p + ".bn1", hid), 1, 1, True))
            q, s = depthwise(img, p + ".dw", hid, k)
            layers.append(Layer(p + ".dw", q, s, *fold_bn(img, cal, p + ".bn2", hid), stride, hid, True))
            q, s = dense(img, p + ".project", out_c, hid)
            layers.append(Layer(p + ".project", q, s, *fold_bn(img, cal, p + ".bn3", out_c), 1, 1, False,
                                residual=stride == 1 and in_c == out_c))
            in_c, gi = out_c, gi + 1
    q, s = dense(img, "head", a["head_c"], in_c)
    layers.append(Layer("head", q, s, *fold_bn(img, cal, "head_bn", a["head_c"]), 1, 1, True))
    act = img.get(f"q8.act.{cal}")
    if act.shape != (1 + len(layers), ACT_COLUMNS):
        raise ExportError(f"q8.act.{cal}: {act.shape[0]} calibration rows for {len(layers)} layers")
    return res, cal, layers, act


# ---- the ONNX graph -----------------------------------------------------------------------
class Graph:
    def __init__(self, onnx):
        self.onnx, self.h, self.nodes, self.inits, self.n = onnx, onnx.helper, [], [], 0

    def const(self, value, dtype, base):
        self.n += 1
        name = f"{base}_{self.n}"
        self.inits.append(self.onnx.numpy_helper.from_array(np.asarray(value, dtype=dtype), name))
        return name

    def node(self, op, inputs, base, **attrs):
        self.n += 1
        out = f"{base}_{self.n}"
        self.nodes.append(self.h.make_node(op, inputs, [out], name="node_" + out, **attrs))
        return out

    def quantize(self, x, q, base, planted=1.0):
        """QuantizeLinear of float X at Q = (scale, int8 zero point): the activation tensor (name,
        scale, zp) as uint8 with the zero point + 128, the same values shifted by 128 (ONNX
        Runtime on x86 fuses QDQ groups into QLinearConv only for uint8 activations; it
        rewrites int8 ones to uint8 itself, but not where a tensor has two consumers)."""
        s, z = self.const(q[0], np.float32, base + "_scale"), self.const(q[1] + 128, np.uint8, base + "_zp")
        qs = s if planted == 1.0 else self.const(np.float32(q[0] * planted), np.float32, base + "_planted_scale")
        return self.node("QuantizeLinear", [x, qs, z], base + "_q"), s, z

    def dequantize(self, t, base):
        """A DequantizeLinear of int8 tensor T of its own for each consumer: ONNX Runtime fuses a
        QDQ group into its integer operator only where each DQ has one consumer."""
        return self.node("DequantizeLinear", list(t), base + "_dq")


def weight_inputs(g, q, scale, base, weights):
    """A weight DequantizeLinear's inputs: the int8 weights Q with zero point 0, or (WEIGHTS
    'uint8') the same values shifted by 128 with zero point 128. ONNX Runtime runs int8 weights
    with its U8S8 kernels, which on x86 without VNNI multiply byte pairs into saturating 16-bit
    sums (its quantization docs: use U8U8 or reduce_range there), so their results are not the
    exact products there; uint8 weights take its U8U8 kernels, exact on every x86."""
    if weights == "uint8":
        return [g.const((q.astype(np.int16) + 128).astype(np.uint8), np.uint8, base), g.const(scale, np.float32, base + "s"),
                g.const(np.full(len(scale), 128), np.uint8, base + "zp")]
    return [g.const(q, np.int8, base), g.const(scale, np.float32, base + "s"),
            g.const(np.zeros(len(scale)), np.int8, base + "zp")]


def build_graph(onnx, img, text, perturb=None, weights="int8"):
    """The QDQ model of SubNet TEXT. PERTURB (tests only): (layer name, factor): that layer's
    QuantizeLinear uses its output scale times factor while its consumers dequantize at the
    right one, as an engine whose requantization multiplier is wrong: a planted error the
    comparison must catch."""
    a = img.arch
    res, cal, layers, act = subnet_layers(img, text)
    g = Graph(onnx)
    x = "canvas"
    if res != a["canvas"]:
        sizes = g.const([1, 1, res, res], np.int64, "sizes")
        x = g.node("Resize", [x, "", "", sizes], "resize", mode="linear",
                   coordinate_transformation_mode="half_pixel")
    x = g.quantize(x, (INPUT_SCALE, INPUT_ZERO_POINT), "input")   # int8 tensors from here
    cur = (INPUT_SCALE, INPUT_ZERO_POINT)
    block_in = x
    planted = False
    for i, l in enumerate(layers):
        row = act[1 + i]
        out_q = qtensor_of(row[0], row[1])
        post_q = qtensor_of(row[2], row[3]) if l.residual else out_q
        factor = 1.0
        if perturb and perturb[0] == l.name:
            factor, planted = perturb[1], True
        eff = l.w_scale.astype(np.float64) * l.bn_scale.astype(np.float64)
        sign = np.where(eff < 0, -1, 1).astype(np.int8)
        wq = (l.q * sign[:, None, None, None]).astype(np.int8)
        w_scale = np.abs(eff).astype(np.float32)
        # the engine's order: (s_in * w_scale) * bn_scale, in double
        denom = float(cur[0]) * l.w_scale.astype(np.float64) * l.bn_scale.astype(np.float64)
        bias = np.array([round_half_away(float(b) / d) if d != 0 else 0 for b, d in zip(l.bn_bias, denom)],
                        dtype=np.int64) * sign
        bias = np.clip(bias, -2 ** 30, 2 ** 30).astype(np.int32)
        b_scale = (float(cur[0]) * np.abs(eff)).astype(np.float32)
        wd = g.node("DequantizeLinear", weight_inputs(g, wq, w_scale, l.name + "_w", weights), l.name + "_wdq", axis=0)
        bd = g.node("DequantizeLinear", [g.const(bias, np.int32, l.name + "_b"), g.const(b_scale, np.float32, l.name + "_bs"),
                                         g.const(np.zeros(len(b_scale)), np.int32, l.name + "_bzp")], l.name + "_bdq", axis=0)
        k = wq.shape[-1]
        y = g.node("Conv", [g.dequantize(x, l.name + "_in"), wd, bd], l.name, kernel_shape=[k, k],
                   strides=[l.stride, l.stride], pads=[k // 2] * 4, group=l.groups)
        if l.relu6:
            y = g.node("Clip", [y, g.const(0.0, np.float32, "zero"), g.const(6.0, np.float32, "six")], l.name + "_relu6")
        y = g.quantize(y, out_q, l.name + "_out", factor)
        if l.residual:
            y = g.node("Add", [g.dequantize(y, l.name + "_a"), g.dequantize(block_in, l.name + "_b")], l.name + "_add")
            y = g.quantize(y, post_q, l.name + "_post")
        x, cur = y, post_q
        if l.name.endswith(".project") or l.name == "stem":
            block_in = x
    if perturb and not planted:
        raise ExportError(f"--perturb: no layer '{perturb[0]}' in {text}")
    pooled = g.quantize(g.node("GlobalAveragePool", [g.dequantize(x, "pool_in")], "pool"), cur, "pooled")
    flat = g.node("Flatten", [pooled[0]], "flatten", axis=1)
    pd = g.dequantize((flat, pooled[1], pooled[2]), "pooled")
    fq, fs = img.get("q8.fc.weight"), img.get("q8.fc.weight.scale").astype(np.float32)
    check_weights("fc.weight", fq, fs[:, None], img.tensors.get("fc.weight"))
    d = float(cur[0]) * fs.astype(np.float64)
    fb = np.array([round_half_away(float(b) / dd) if dd != 0 else 0 for b, dd in zip(img.get("fc.bias"), d)],
                  dtype=np.int64)
    fw = g.node("DequantizeLinear", weight_inputs(g, fq, fs, "fc_w", weights), "fc_wdq", axis=0)
    fbd = g.node("DequantizeLinear", [g.const(np.clip(fb, -2 ** 30, 2 ** 30), np.int32, "fc_b"),
                                      g.const(d.astype(np.float32), np.float32, "fc_bs"),
                                      g.const(np.zeros(len(d)), np.int32, "fc_bzp")], "fc_bdq", axis=0)
    logits = g.node("Gemm", [pd, fw, fbd], "fc", transB=1)
    g.nodes.append(onnx.helper.make_node("Identity", [logits], ["logits"], name="logits"))
    h = onnx.helper
    graph = h.make_graph(g.nodes, "supernav_qdq_" + re.sub(r"[^A-Za-z0-9]", "_", text),
                         [h.make_tensor_value_info("canvas", onnx.TensorProto.FLOAT, [1, 1, a["canvas"], a["canvas"]])],
                         [h.make_tensor_value_info("logits", onnx.TensorProto.FLOAT, [1, a["num_classes"]])],
                         g.inits)
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", OPSET)], producer_name="supernav export_onnx_qdq")
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model, cal


def sha256_of(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def write_atomic(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model-image", default="build/supernet.snm")
    ap.add_argument("--table", default=os.path.join(here, "accuracy.csv"))
    ap.add_argument("--configs", default="all",
                    help="'all' (every kind=subnet row) or comma-separated row indices among them")
    ap.add_argument("--out", default="build/peers/onnx-int8")
    ap.add_argument("--perturb", metavar="LAYER:FACTOR",
                    help="tests only: LAYER's QuantizeLinear uses its output scale times FACTOR while its "
                         "consumers dequantize at the right one (e.g. stages.1.0.dw:1.05), a planted error; the "
                         "manifest says so")
    ap.add_argument("--weights", choices=("int8", "uint8", "auto"), default="int8",
                    help="the weights' ONNX type: int8 (zero point 0; ONNX Runtime's U8S8 kernels, exact on x86 "
                         "with VNNI only), uint8 (the same values + 128, zero point 128; its U8U8 kernels, "
                         "exact on every x86), or auto: int8 where /proc/cpuinfo has avx512_vnni or avx_vnni, "
                         "else uint8")
    args = ap.parse_args()
    if args.weights == "auto":
        try:
            with open("/proc/cpuinfo") as f:
                flags = set(f.read().split())
        except OSError:
            flags = set()
        args.weights = "int8" if flags & {"avx512_vnni", "avx_vnni"} else "uint8"
    try:
        import onnx
        import onnx.checker
        import onnx.helper
        import onnx.numpy_helper
    except ImportError:
        raise ExportError("python3-onnx is not installed (Debian: apt-get install python3-onnx)")
    perturb = None
    if args.perturb:
        name, _, factor = args.perturb.rpartition(":")
        perturb = (name, float(factor))
    img = Image(args.model_image)
    with open(args.table) as f:
        rows = [r for r in csv.DictReader(f) if r["kind"] == "subnet"]
    if not rows:
        raise ExportError(f"{args.table}: no kind=subnet rows")
    try:
        pick = range(len(rows)) if args.configs == "all" else [int(x) for x in args.configs.split(",")]
    except ValueError:
        raise ExportError(f"--configs must be 'all' or row indices, not '{args.configs}'")
    for j in pick:
        if not 0 <= j < len(rows):
            raise ExportError(f"--configs: no kind=subnet row {j} (there are {len(rows)})")
    os.makedirs(args.out, exist_ok=True)
    models = []
    for j in pick:
        text = rows[j]["config"]
        model, cal = build_graph(onnx, img, text, perturb, args.weights)
        name = f"subnet{j:02d}.onnx"
        write_atomic(os.path.join(args.out, name), model.SerializeToString())
        models.append({"index": j, "config": text, "macs": int(rows[j]["macs"]), "calibration_id": cal,
                       "onnx": name})
    manifest = {"schema": 1, "kind": "int8-qdq", "model_image": os.path.abspath(args.model_image),
                "model_image_sha256": sha256_of(args.model_image), "opset": OPSET, "onnx": onnx.__version__,
                "input": {"name": "canvas", "shape": [1, 1, img.arch["canvas"], img.arch["canvas"]],
                          "scale": "pixel/255"},
                "activations": "uint8, TFLite's int8 zero point + 128", "weights": args.weights, "perturb": args.perturb, "models": models}
    write_atomic(os.path.join(args.out, "manifest.json"), (json.dumps(manifest, indent=1) + "\n").encode())
    print(f"export_onnx_qdq: wrote {len(models)} QDQ models{' (PERTURBED: ' + args.perturb + ')' if perturb else ''} "
          f"and manifest.json to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except (ExportError, OSError, struct.error) as e:
        print(f"export_onnx_qdq: error: {e}", file=sys.stderr)
        sys.exit(1)
