#!/usr/bin/python3
"""tests/test_int8_ort.sh's comparison: supernav's int8 logits (`supernav eval --int8 --logits`,
one CSV per SubNet: ENGINE_DIR/subnetNN.csv) against ONNX Runtime's on the same QDQ-exported
SubNets (bench/peers/ort_logits.js's JSON), canvas by canvas.

Per canvas: top-1 equal or not; rel = max over classes |supernav - ORT| / max over classes
|supernav| (the logits' difference relative to their scale). Verdict: PASS when every bound
holds, else FAIL naming the ones that do not. Prints one line per SubNet, a summary line
(`figures: ...`) and the verdict; writes the figures as JSON with --json. Exit 0 PASS, 1 FAIL,
2 on a usage or input error. numpy only (onnx too with --optimized-dir).

The bounds default to those measured for the committed image (about 1.5x the figures of 31
SubNets x 200 canvases: top-1 equal on 6178 of 6200, relative difference median 0.0102, p99
0.042, max 0.125; bench/peers/README.md): tests/test_int8_ort.sh and make bench-peers's int8
columns (bench/peers/run.sh) both use them.

--optimized-dir DIR (ort_logits.js --optimized-dir's graphs): counts the operators ONNX
Runtime ran in each optimized graph (into the JSON: `operators`); a float Conv, Gemm or
MatMul left beside them is a FAIL (the model did not run on ONNX Runtime's integer path).
"""
import argparse
import csv
import json
import os
import sys

import numpy as np


FLOAT_OPS = ("Conv", "Gemm", "MatMul", "FusedConv", "FusedGemm", "FusedMatMul")


def count_operators(directory, models):
    """{"total": {op: n}, "per_subnet": {config: {op: n}}}; op is domain.op_type outside the
    default domain (ONNX Runtime's integer operators are com.microsoft's)."""
    import onnx
    total, per = {}, {}
    for m in models:
        counts = {}
        for n in onnx.load(os.path.join(directory, m["onnx"])).graph.node:
            op = f"{n.domain}.{n.op_type}" if n.domain and n.domain != "ai.onnx" else n.op_type
            counts[op] = counts.get(op, 0) + 1
            total[op] = total.get(op, 0) + 1
        per[m["config"]] = counts
    return {"total": total, "per_subnet": per}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--ort", required=True, help="bench/peers/ort_logits.js output")
    ap.add_argument("--engine-dir", required=True, help="subnetNN.csv files from supernav eval --logits")
    ap.add_argument("--min-agree", type=float, default=0.99, help="least fraction of equal top-1, all SubNets")
    ap.add_argument("--min-agree-subnet", type=float, default=0.975, help="the same, each SubNet")
    ap.add_argument("--max-rel-median", type=float, default=0.015)
    ap.add_argument("--max-rel-p99", type=float, default=0.065)
    ap.add_argument("--max-rel", type=float, default=0.20)
    ap.add_argument("--optimized-dir", help="ONNX Runtime's optimized graphs (ort_logits.js --optimized-dir)")
    ap.add_argument("--json", help="write the figures here (via a temporary file renamed into place)")
    args = ap.parse_args()
    try:
        with open(args.ort) as f:
            ort = json.load(f)
        per, rels, agree_all, n_all = [], [], 0, 0
        for m in ort["models"]:
            path = os.path.join(args.engine_dir, m["onnx"].replace(".onnx", ".csv"))
            with open(path) as f:
                rows = list(csv.reader(f))[1:]
            eng = np.array([[float(v) for v in r[2:]] for r in rows])
            labels = np.array([int(r[1]) for r in rows])
            o = np.array(m["logits"], dtype=np.float64)
            if eng.shape != o.shape:
                raise ValueError(f"{m['config']}: supernav gave {eng.shape} logits, ONNX Runtime {o.shape}")
            rel = np.abs(eng - o).max(1) / np.maximum(np.abs(eng).max(1), 1e-12)
            agree = int((eng.argmax(1) == o.argmax(1)).sum())
            n = len(rows)
            per.append({"config": m["config"], "n": n, "agree": agree, "rel_max": float(rel.max()),
                        "abs_max": float(np.abs(eng - o).max()),
                        "engine_correct": int((eng.argmax(1) == labels).sum()),
                        "ort_correct": int((o.argmax(1) == labels).sum())})
            print(f"  {m['config']}: top-1 equal on {agree}/{n}, |dlogit| max {per[-1]['abs_max']:.3f} "
                  f"(rel {per[-1]['rel_max']:.3f}), correct supernav {per[-1]['engine_correct']} ORT "
                  f"{per[-1]['ort_correct']}")
            rels.append(rel)
            agree_all += agree
            n_all += n
        operators = count_operators(args.optimized_dir, ort["models"]) if args.optimized_dir else None
    except (OSError, ValueError, KeyError, IndexError, ImportError) as e:
        print(f"int8_ort_compare: error: {e}", file=sys.stderr)
        return 2
    if not per:
        print("int8_ort_compare: error: no models", file=sys.stderr)
        return 2
    rels = np.concatenate(rels)
    fig = {"subnets": len(per), "canvases": n_all, "agree": agree_all, "agree_frac": agree_all / n_all,
           "agree_frac_min_subnet": min(p["agree"] / p["n"] for p in per),
           "rel_median": float(np.median(rels)), "rel_p99": float(np.quantile(rels, 0.99)),
           "rel_max": float(rels.max()), "abs_max": max(p["abs_max"] for p in per), "per_subnet": per}
    print(f"figures: {len(per)} SubNets x {n_all // len(per)} canvases: top-1 equal {agree_all}/{n_all} "
          f"({100 * fig['agree_frac']:.2f} %, least per SubNet {100 * fig['agree_frac_min_subnet']:.1f} %); "
          f"relative logit difference median {fig['rel_median']:.4f}, p99 {fig['rel_p99']:.4f}, "
          f"max {fig['rel_max']:.4f}; absolute max {fig['abs_max']:.3f}")
    bad = []
    if operators is not None:
        fig["operators"] = operators
        floats = {op: n for op, n in operators["total"].items() if op.split(".")[-1] in FLOAT_OPS}
        print("operators ONNX Runtime ran (optimized graphs, all SubNets): " +
              ", ".join(f"{op} {n}" for op, n in sorted(operators["total"].items())))
        if floats:
            bad.append("float operators left in ONNX Runtime's optimized graphs: " +
                       ", ".join(f"{op} {n}" for op, n in sorted(floats.items())))
    if fig["agree_frac"] < args.min_agree:
        bad.append(f"top-1 equal {fig['agree_frac']:.4f} < {args.min_agree}")
    if fig["agree_frac_min_subnet"] < args.min_agree_subnet:
        bad.append(f"a SubNet's top-1 equal {fig['agree_frac_min_subnet']:.4f} < {args.min_agree_subnet}")
    for key, bound in (("rel_median", args.max_rel_median), ("rel_p99", args.max_rel_p99),
                       ("rel_max", args.max_rel)):
        if fig[key] > bound:
            bad.append(f"{key} {fig[key]:.4f} > {bound}")
    fig["verdict"] = "FAIL" if bad else "PASS"
    fig["failed"] = bad
    if args.json:
        with open(args.json + ".tmp", "w") as f:
            json.dump(fig, f, indent=1)
            f.write("\n")
        os.replace(args.json + ".tmp", args.json)
    print(f"verdict: {fig['verdict']}" + (": " + "; ".join(bad) if bad else ""))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
