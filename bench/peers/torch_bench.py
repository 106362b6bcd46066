#!/usr/bin/python3
"""PyTorch side of the peer benchmark: batch-1, single-thread latency of every SubNet of the
export manifest, run as the same static modules that were exported to ONNX
(workloads/supernet/export_onnx.py rebuilds them from the safetensors file).

torch.set_num_threads(1), torch.set_num_interop_threads(1), eager mode under
torch.inference_mode(); W warm-up runs, then K runs on test canvases 0..K-1, each timed
with time.perf_counter_ns() around module(x) (Python dispatch included: that is how eager
PyTorch runs). Writes one JSON object to --out (temporary file renamed into place);
progress on stderr.
"""
import argparse
import json
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "..", "workloads", "supernet"))
import data  # noqa: E402
import export_onnx  # noqa: E402


def summary(us):
    s = sorted(us)
    rank = lambda q: s[min(len(s), max(1, int(np.ceil(q * len(s))))) - 1]
    return {"p50_us": rank(0.5), "p99_us": rank(0.99), "mean_us": float(np.mean(us))}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--k", type=int, default=200)
    ap.add_argument("--warmup", type=int, default=20)
    ap.add_argument("--test", default="data/canvas/cf64-test")
    ap.add_argument("--out", required=True)
    args = ap.parse_args()
    if args.k < 1 or args.warmup < 0:
        sys.exit("torch_bench: error: --k must be positive and --warmup non-negative")
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    manifest, models = export_onnx.load_static_models(args.manifest)
    images, labels, _ = data.load_canvases(args.test)
    if len(images) < args.k:
        sys.exit(f"torch_bench: error: {args.test}: {len(images)} canvases, fewer than --k {args.k}")
    xs = [torch.from_numpy(images[i:i + 1].astype(np.float32) / 255.0)[:, None] for i in range(args.k)]
    results = []
    with torch.inference_mode():
        for j, (entry, module) in enumerate(models):
            for i in range(args.warmup):
                module(xs[i % len(xs)])
            us, top1 = [], []
            for x in xs:
                t0 = time.perf_counter_ns()
                y = module(x)
                us.append((time.perf_counter_ns() - t0) / 1000.0)
                top1.append(int(y.argmax(1)))
            correct = int((np.array(top1) == labels[:args.k]).sum())
            s = summary(us)
            results.append({"config": entry["config"], "macs": entry["macs"], "n": args.k, "correct": correct,
                            "wall": s})
            print(f"torch_bench: [{j + 1}/{len(models)}] {entry['config']}: p50 {s['p50_us']:.1f} us, "
                  f"top-1 {correct}/{args.k}", file=sys.stderr)
    doc = {"runtime": "pytorch", "version": torch.__version__, "k": args.k, "warmup": args.warmup,
           "threads": {"intra_op": torch.get_num_threads(), "inter_op": torch.get_num_interop_threads()},
           "timing": "time.perf_counter_ns around module(x), eager, torch.inference_mode",
           "models": results}
    with open(args.out + ".tmp", "w") as f:
        f.write(json.dumps(doc, indent=1) + "\n")
    os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
