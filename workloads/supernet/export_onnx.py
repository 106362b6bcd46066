#!/usr/bin/python3
"""Exports every Pareto SubNet of accuracy.csv (kind=subnet) as a static fp32 ONNX model, for
the peer benchmark (bench/peers/). Run with /usr/bin/python3 (Debian's torch 1.13).

Each SubNet becomes a plain PyTorch module (StaticSubNet) with its own weights: the leading
channel slices and centred kernel crops of the shared tensors, and the SubNet's calibrated
batch norm (calib.{id}.{layer}.{mean,var}, id = the config's entry in the spec's
calibrations) folded into each convolution exactly as the C engine folds it
(scale = gamma / sqrt(var + eps), bias = beta - mean * scale, float32). Input: the 64x64
canvas as float [1, 1, 64, 64] in [0, 1] (pixel/255); the module starts with the bilinear
resize to the SubNet's resolution (half-pixel centres, align_corners=False, no antialias,
as sn_resize_canvas_f32) and ends with the 10 logits.

Checks, each fatal:
  * the static module's logits equal the elastic SuperNet's (supernet.py with the config's
    statistics loaded) within 1e-4 relative, on a few test canvases;
  * its top-1 count on the first --verify-n test canvases equals `supernav eval --subnet
    CFG --limit N --json`'s "correct" (the C engine);
  * the ONNX file passes onnx.checker.
ONNX Runtime's logits are checked against the reference logits written here by
bench/peers/ort_bench.js (ONNX Runtime ships for Node.js only on this machine).

Writes OUT/{id}.onnx and OUT/manifest.json (configs, MACs, files, reference logits, the
sha256 of the inputs; a rerun with the same inputs does nothing).
"""
import argparse
import csv
import hashlib
import json
import os
import struct
import subprocess
import sys
import warnings

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import supernet as sn  # noqa: E402

OPSET = 13
REL_TOL = 1e-4
CHECK_CANVASES = 4          # canvases whose reference logits go into the manifest


class ExportError(Exception):
    pass


def read_safetensors(path):
    """{name: float32/int array}, metadata dict."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n])
    meta = header.pop("__metadata__", {})
    dtypes = {"F32": "<f4", "I64": "<i8", "I32": "<i4", "U8": "u1"}
    tensors = {}
    for name, h in header.items():
        a, b = h["data_offsets"]
        tensors[name] = np.frombuffer(raw, dtypes[h["dtype"]], (b - a) // np.dtype(dtypes[h["dtype"]]).itemsize,
                                      8 + n + a).reshape(h["shape"])
    return tensors, meta


def relu6(x):
    # torch.clamp exports as one Clip(0, 6), which ONNX Runtime fuses into the convolution;
    # F.relu6 exports as Relu followed by Clip.
    return torch.clamp(x, 0.0, 6.0)


class StaticBlock(nn.Module):
    def __init__(self, expand, dw, project, residual):
        super().__init__()
        self.expand, self.dw, self.project, self.residual = expand, dw, project, residual

    def forward(self, x):
        h = relu6(self.expand(x))
        h = relu6(self.dw(h))
        h = self.project(h)
        return h + x if self.residual else h


class StaticSubNet(nn.Module):
    """One SubNet with its own (folded) weights; canvas [N, 1, 64, 64] in [0, 1] -> logits."""

    def __init__(self, res, stem, blocks, head, fc):
        super().__init__()
        self.res, self.stem, self.blocks, self.head, self.fc = res, stem, nn.ModuleList(blocks), head, fc

    def forward(self, canvas):
        x = canvas
        if self.res != sn.CANVAS:
            x = F.interpolate(x, size=(self.res, self.res), mode="bilinear", align_corners=False)
        x = relu6(self.stem(x))
        for b in self.blocks:
            x = b(x)
        x = relu6(self.head(x))
        x = torch.flatten(F.adaptive_avg_pool2d(x, 1), 1)
        return self.fc(x)


class NullNet(nn.Module):
    """Same input and output as a SubNet, almost no work: times a runtime's fixed cost per
    call (bench/peers/ort_bench.js uses it to measure the Node.js binding's overhead)."""

    def forward(self, canvas):
        return torch.flatten(canvas, 1)[:, :sn.NUM_CLASSES]


def folded_conv(t, calib, weight_name, bn_name, out_c, in_c, k, stride, groups=1):
    """Conv2d with bias = the slice/crop of WEIGHT_NAME with BN_NAME folded in (float32)."""
    w = torch.from_numpy(t[weight_name].copy())
    o = (w.shape[-1] - k) // 2
    w = w[:out_c, :(1 if groups > 1 else in_c), o:o + k, o:o + k]
    gamma = torch.from_numpy(t[bn_name + ".weight"].copy())[:out_c]
    beta = torch.from_numpy(t[bn_name + ".bias"].copy())[:out_c]
    mean = torch.from_numpy(t[f"{calib}.{bn_name}.mean"].copy())
    var = torch.from_numpy(t[f"{calib}.{bn_name}.var"].copy())
    if mean.numel() != out_c or var.numel() != out_c:
        raise ExportError(f"{calib}.{bn_name}: {mean.numel()} statistics for {out_c} channels")
    scale = gamma / torch.sqrt(var + torch.tensor(sn.BN_EPS, dtype=torch.float32))
    conv = nn.Conv2d(in_c, out_c, k, stride, k // 2, groups=groups, bias=True)
    with torch.no_grad():
        conv.weight.copy_(w * scale[:, None, None, None])
        conv.bias.copy_(beta - mean * scale)
    return conv


def build_static(t, cal_id, cfg):
    """The static module of SubNet CFG from the safetensors TENSORS and calibration CAL_ID."""
    calib = f"calib.{cal_id}"
    stem = folded_conv(t, calib, "stem", "stem_bn", sn.STEM_C, 1, 3, 2)
    blocks, in_c = [], sn.STEM_C
    for s, b, i in cfg.blocks():
        out_c, _, _, stage_stride = sn.STAGES[s]
        stride = stage_stride if b == 0 else 1
        hid, k, p = in_c * cfg.expands[i], cfg.kernels[i], f"stages.{s}.{b}"
        blocks.append(StaticBlock(folded_conv(t, calib, p + ".expand", p + ".bn1", hid, in_c, 1, 1),
                                  folded_conv(t, calib, p + ".dw", p + ".bn2", hid, hid, k, stride, groups=hid),
                                  folded_conv(t, calib, p + ".project", p + ".bn3", out_c, hid, 1, 1),
                                  stride == 1 and in_c == out_c))
        in_c = out_c
    head = folded_conv(t, calib, "head", "head_bn", sn.HEAD_C, in_c, 1, 1)
    fc = nn.Linear(sn.HEAD_C, sn.NUM_CLASSES)
    with torch.no_grad():
        fc.weight.copy_(torch.from_numpy(t["fc.weight"].copy()))
        fc.bias.copy_(torch.from_numpy(t["fc.bias"].copy()))
    return StaticSubNet(cfg.res, stem, blocks, head, fc).eval()


def elastic_reference(t, cal_id, cfg):
    """The elastic SuperNet of supernet.py with the config's statistics: the definition."""
    model = sn.SuperNet()
    state = {k: torch.from_numpy(v.copy()) for k, v in t.items() if not k.startswith("calib.")}
    missing, unexpected = model.load_state_dict(state, strict=False)
    if unexpected or any(not k.endswith(("running_mean", "running_var")) for k in missing):
        raise ExportError(f"safetensors does not match supernet.py (missing {missing}, unexpected {unexpected})")
    prefix = f"calib.{cal_id}."
    for name, m in model.named_modules():
        if isinstance(m, sn.ElasticBN) and prefix + name + ".mean" in t:
            mean = torch.from_numpy(t[prefix + name + ".mean"].copy())
            m.running_mean[:len(mean)] = mean
            m.running_var[:len(mean)] = torch.from_numpy(t[prefix + name + ".var"].copy())
    return model.eval()


def rel_err(a, b):
    return float((a - b).abs().max() / max(float(b.abs().max()), 1e-12))


def load_static_models(manifest_path):
    """For the benchmark runners: [(entry, StaticSubNet)] rebuilt from the manifest's inputs."""
    with open(manifest_path) as f:
        manifest = json.load(f)
    t, _ = read_safetensors(manifest["safetensors"])
    return manifest, [(e, build_static(t, e["calibration_id"], sn.SubNetConfig.parse(e["config"])))
                      for e in manifest["models"]]


def inputs_sha256(paths):
    h = hashlib.sha256()
    for p in paths:
        with open(p, "rb") as f:
            h.update(hashlib.sha256(f.read()).digest())
    return h.hexdigest()


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def export(module, example, path, onnx):
    """ONNX export with static shapes, checked, renamed into place."""
    with warnings.catch_warnings():
        # torch 1.13 warns about prim::Constant shape inference on every export; harmless.
        warnings.filterwarnings("ignore", message="The shape inference of prim::Constant")
        torch.onnx.export(module, example, path + ".tmp", opset_version=OPSET, input_names=["canvas"],
                          output_names=["logits"], do_constant_folding=True)
    onnx.checker.check_model(onnx.load(path + ".tmp"))
    os.replace(path + ".tmp", path)


def engine_correct(supernav, model_image, cfg, n):
    r = subprocess.run([supernav, "eval", "--model", model_image, "--subnet", cfg, "--limit", str(n),
                        "--warmup", "0", "--json"], capture_output=True, text=True)
    if r.returncode != 0:
        raise ExportError(f"supernav eval --subnet {cfg} failed: {r.stderr.strip()}")
    return json.loads(r.stdout)["correct"]


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser()
    ap.add_argument("--safetensors", default=os.path.join(here, "supernet.safetensors"))
    ap.add_argument("--table", default=os.path.join(here, "accuracy.csv"))
    ap.add_argument("--test", default="data/canvas/cf64-test")
    ap.add_argument("--supernav", default="build/supernav")
    ap.add_argument("--model-image", default="build/supernet.snm")
    ap.add_argument("--verify-n", type=int, default=100, help="test canvases for the top-1 check against the engine")
    ap.add_argument("--out", default="build/peers/onnx")
    args = ap.parse_args()
    torch.set_num_threads(1)

    sources = [args.safetensors, args.table, os.path.abspath(__file__), os.path.join(here, "supernet.py")]
    digest = inputs_sha256(sources)
    manifest_path = os.path.join(args.out, "manifest.json")
    try:
        with open(manifest_path) as f:
            old = json.load(f)
        if old.get("inputs_sha256") == digest and old.get("verify_n") == args.verify_n and \
                all(os.path.exists(os.path.join(args.out, f)) for f in [old["null_onnx"]] + [e["onnx"] for e in old["models"]]):
            print(f"export_onnx: {len(old['models'])} models up to date in {args.out}", file=sys.stderr)
            return
    except (OSError, ValueError, KeyError):
        pass

    import onnx  # only needed when exporting
    t, meta = read_safetensors(args.safetensors)
    spec = json.loads(meta["supernav_spec"])
    cal_ids = {(c["kind"], c["config"]): c["id"] for c in spec["calibrations"]}
    with open(args.table) as f:
        rows = [r for r in csv.DictReader(f) if r["kind"] == "subnet"]
    if not rows:
        raise ExportError(f"{args.table}: no kind=subnet rows")
    images, labels, _ = data.load_canvases(args.test)
    n = min(args.verify_n, len(images))
    x_all = torch.from_numpy(images[:n].astype(np.float32) / 255.0)[:, None]
    os.makedirs(args.out, exist_ok=True)
    models = []
    for j, row in enumerate(rows):
        cfg = sn.SubNetConfig.parse(row["config"])
        key = ("subnet", str(cfg))
        if key not in cal_ids:
            raise ExportError(f"{cfg}: no calibrated BN statistics in {args.safetensors}")
        cal_id = cal_ids[key]
        static = build_static(t, cal_id, cfg)
        ref = elastic_reference(t, cal_id, cfg)
        with torch.inference_mode():
            y_static = static(x_all)
            y_ref = ref(x_all, cfg)
        err = rel_err(y_static, y_ref)
        if err > REL_TOL:
            raise ExportError(f"{cfg}: static module differs from the SuperNet by {err:.2e} relative")
        correct = int((y_static.argmax(1).numpy() == labels[:n]).sum())
        eng = engine_correct(args.supernav, args.model_image, str(cfg), n)
        if eng != correct:
            raise ExportError(f"{cfg}: top-1 on the first {n} canvases: PyTorch {correct}, engine {eng}")
        macs = sn.subnet_macs(cfg)
        if int(row["macs"]) != macs:
            raise ExportError(f"{cfg}: accuracy.csv says {row['macs']} MACs, supernet.py counts {macs}")
        name = f"subnet{j:02d}.onnx"
        path = os.path.join(args.out, name)
        export(static, x_all[:1], path, onnx)
        models.append({"index": j, "config": str(cfg), "macs": macs, "calibration_id": cal_id, "onnx": name,
                       "verify_correct": correct,
                       "check_logits": y_static[:CHECK_CANVASES].tolist()})
        print(f"export_onnx: [{j + 1}/{len(rows)}] {cfg}: {macs} MACs, vs SuperNet {err:.1e} rel, "
              f"top-1 {correct}/{n} = engine", file=sys.stderr)
    export(NullNet(), x_all[:1], os.path.join(args.out, "null.onnx"), onnx)
    manifest = {"schema": 1, "inputs_sha256": digest, "safetensors": os.path.abspath(args.safetensors),
                "test": args.test, "input": {"name": "canvas", "shape": [1, 1, sn.CANVAS, sn.CANVAS],
                                             "scale": "pixel/255"},
                "opset": OPSET, "torch": torch.__version__, "onnx": onnx.__version__, "rel_tol": REL_TOL,
                "verify_n": n, "check_canvases": CHECK_CANVASES, "null_onnx": "null.onnx", "models": models}
    write_atomic(manifest_path, json.dumps(manifest, indent=1) + "\n")
    print(f"export_onnx: wrote {len(models)} models and manifest.json to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except ExportError as e:
        print(f"export_onnx: error: {e}", file=sys.stderr)
        sys.exit(1)
