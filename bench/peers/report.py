#!/usr/bin/python3
"""The report of `make bench-peers` (called by bench/peers/run.sh): joins the raw measurements
in --work (peak.json, supernav-rR.jsonl and ort-rR.json for each of --rounds rounds, torch.json;
a SubNet's supernav and ORT figures are the median over the rounds), checks that the three
runtimes agree on every SubNet's top-1 over the timed canvases in every round, and writes to
--out:

  peers.csv    one row per SubNet: config, macs, the three p50 latencies, supernav/ORT,
               supernav's GFLOP/s (2 x MACs / p50) and its % of the measured FMA peak
               (then, with int8, the int8 p50s of supernav and ORT and the int8 ratios)
  peers.json   the same plus means, p99s, the machine, versions, platform, K, every goal
  table.md     the table and the verdict on each goal
  peers.svg    latency vs MACs for the runtimes (gnuplot)

With --int8-manifest (export_onnx_qdq.py's QDQ models): supernav-int8-rR.jsonl and the
models_int8 of ort-rR.json are the int8 columns, and int8-agreement.json (tests/
int8_ort_compare.py's verdict, run by run.sh before the rounds), int8-ort-logits.json and
int8-engine/subnetNN.csv (the logits it compared) tie the timed runs to that check: in every
round supernav's int8 top-1 count over the K timed canvases equals the one in its compared
logits, and ONNX Runtime's int8 top-1 equals its compared logits' canvas by canvas.

Ratios, each per SubNet on the medians over the rounds, summarised by their geometric mean
over the SubNets, and per round (the geometric mean of that round's own ratios):
  supernav fp32 / ORT fp32       goal <= 0.7x, and never above 1 on any SubNet
  supernav fp32 / supernav int8  supernav's int8 speedup, goal >= 1.8x
  supernav int8 / ORT int8       goal < 1x (faster than ONNX Runtime's int8)
  ORT fp32 / ORT int8            ONNX Runtime's int8 speedup, against the anchor 1.64-1.73x
                                 (MobileNetV2 224x224, batch 1, on AVX-512 VNNI Xeons)

Each file is written to a temporary name and renamed into place. Prints the table and the
verdict on stdout; exits 1 when a check fails.
"""
import argparse
import csv
import io
import json
import statistics
import math
import os
import platform as pyplatform
import subprocess
import sys

# issue 21's goals
TARGET_GEOMEAN = 0.7      # supernav fp32 <= 0.7 x ONNX Runtime fp32 on the geometric mean
TARGET_MAX = 1.0          # and never slower on any SubNet
INT8_SPEEDUP_MIN = 1.8    # supernav int8 >= 1.8 x faster than supernav fp32 (geometric mean)
INT8_VS_ORT_MAX = 1.0     # supernav int8 faster than ONNX Runtime int8 (geometric mean < 1)
# ONNX Runtime's int8 (QDQ/QLinear) over its fp32, MobileNetV2 224x224 at batch 1 on AVX-512
# VNNI Xeons (Intel Neural Compressor's validated list): not a goal, the anchor ORT's own
# int8 speedup here is compared with
ORT_INT8_ANCHOR = (1.64, 1.73)


class ReportError(Exception):
    pass


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def load_json(path):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        raise ReportError(f"{path}: {e}")


def command_output(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unavailable"


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return pyplatform.processor() or "unknown"


def load_at_start(work):
    """The 1, 5 and 15 min load averages run.sh saved before the measurements, or None."""
    try:
        with open(os.path.join(work, "loadavg-start")) as f:
            return [float(x) for x in f.read().split()[:3]]
    except (OSError, ValueError):
        return None


def by_config(models, source, configs, k):
    out = {m["config"]: m for m in models}
    missing = [c for c in configs if c not in out]
    if missing:
        raise ReportError(f"{source}: no result for {', '.join(missing)}")
    short = [c for c in configs if out[c]["n"] != k]
    if short:
        raise ReportError(f"{source}: not {k} timed runs for {', '.join(short)}")
    return out


def geomean(values):
    values = list(values)
    return math.exp(sum(math.log(x) for x in values) / len(values))


def read_jsonl_rounds(work, stem, rounds, configs, k, label):
    """[{config: eval line}] per round from WORK/STEM-rR.jsonl."""
    out = []
    for r in range(1, rounds + 1):
        path = os.path.join(work, f"{stem}-r{r}.jsonl")
        try:
            with open(path) as f:
                models = [json.loads(line) for line in f if line.strip()]
        except (OSError, ValueError) as e:
            raise ReportError(f"{path}: {e}")
        out.append(by_config(models, f"{label} (round {r})", configs, k))
    return out


def argmax(values):
    best = 0
    for i in range(1, len(values)):
        if values[i] > values[best]:
            best = i
    return best


def int8_check(work, configs, k, sn8_rounds, ot8_rounds, manifest8):
    """The int8 agreement check's figures (int8-agreement.json); raises ReportError unless it
    passed on these SubNets and every timed int8 run is the model it checked."""
    agreement = load_json(os.path.join(work, "int8-agreement.json"))
    if agreement.get("verdict") != "PASS":
        raise ReportError(f"int8 agreement with supernav's int8: {agreement.get('verdict')} "
                          f"({'; '.join(agreement.get('failed', []))})")
    checked = [p["config"] for p in agreement["per_subnet"]]
    if checked != configs:
        raise ReportError("int8-agreement.json: not the SubNets of the manifest")
    short = [p["config"] for p in agreement["per_subnet"] if p["n"] < k]
    if short:
        raise ReportError(f"int8-agreement.json: fewer than the {k} timed canvases compared for {', '.join(short)}")
    if "operators" not in agreement:
        raise ReportError("int8-agreement.json: no operator count of ONNX Runtime's optimized graphs")
    ort_logits = load_json(os.path.join(work, "int8-ort-logits.json"))
    ort_top1 = {m["config"]: [argmax(v) for v in m["logits"][:k]] for m in ort_logits["models"]}
    bad = []
    for c, m in zip(configs, manifest8["models"]):
        path = os.path.join(work, "int8-engine", m["onnx"].replace(".onnx", ".csv"))
        try:
            with open(path) as f:
                rows = list(csv.reader(f))[1:k + 1]
        except OSError as e:
            raise ReportError(f"{path}: {e}")
        engine_correct = sum(argmax([float(v) for v in row[2:]]) == int(row[1]) for row in rows)
        for r, (s8, o8) in enumerate(zip(sn8_rounds, ot8_rounds), 1):
            if s8[c].get("precision") != "int8":
                bad.append(f"{c}: round {r}'s supernav run is not int8 (precision {s8[c].get('precision')})")
            if int(s8[c]["correct"]) != engine_correct:
                bad.append(f"{c}: round {r}'s supernav int8 top-1 {s8[c]['correct']}/{k}, its checked logits "
                           f"{engine_correct}/{k}")
            if o8[c].get("top1") != ort_top1.get(c):
                bad.append(f"{c}: round {r}'s ONNX Runtime int8 top-1 is not its checked logits' canvas by canvas")
    if bad:
        raise ReportError("the timed int8 runs are not the checked models: " + "; ".join(bad))
    return agreement


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--manifest", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--platform", required=True)
    ap.add_argument("--requested-platform", required=True)
    ap.add_argument("--platform-note", default="")
    ap.add_argument("--k", type=int, required=True)
    ap.add_argument("--warmup", type=int, required=True)
    ap.add_argument("--ort-timing", choices=("binding", "profiler"), default="binding")
    ap.add_argument("--supernav", default="build/supernav")
    ap.add_argument("--rounds", type=int, default=1,
                    help="rounds of supernav then ONNX Runtime (supernav-rR.jsonl, ort-rR.json)")
    ap.add_argument("--int8-manifest", help="export_onnx_qdq.py's manifest: the int8 columns")
    args = ap.parse_args()

    manifest = load_json(args.manifest)
    peak = load_json(os.path.join(args.work, "peak.json"))
    # eval --layer-times per SubNet (run.sh, cpu only): where each SubNet's time goes
    layer_rows = []
    lpath = os.path.join(args.work, "layers.jsonl")
    if os.path.exists(lpath):
        with open(lpath) as f:
            layer_rows = [json.loads(line) for line in f if line.strip()]
    torch = load_json(os.path.join(args.work, "torch.json"))
    configs = [m["config"] for m in manifest["models"]]
    macs = {m["config"]: m["macs"] for m in manifest["models"]}
    if args.rounds < 1:
        raise ReportError("--rounds must be at least 1")
    if args.k < 1:
        raise ReportError("--k must be at least 1")
    int8 = bool(args.int8_manifest)
    sn_rounds = read_jsonl_rounds(args.work, "supernav", args.rounds, configs, args.k, "supernav")
    sn8_rounds = (read_jsonl_rounds(args.work, "supernav-int8", args.rounds, configs, args.k, "supernav int8")
                  if int8 else [])
    ot_rounds, ot8_rounds, ort_docs = [], [], []
    for r in range(1, args.rounds + 1):
        ort_docs.append(load_json(os.path.join(args.work, f"ort-r{r}.json")))
        ot_rounds.append(by_config(ort_docs[-1]["models"], f"ONNX Runtime (round {r})", configs, args.k))
        if int8:
            if "models_int8" not in ort_docs[-1]:
                raise ReportError(f"ort-r{r}.json: no int8 models (ort_bench.js --int8-manifest)")
            ot8_rounds.append(by_config(ort_docs[-1]["models_int8"], f"ONNX Runtime int8 (round {r})", configs, args.k))
    ort = ort_docs[0]
    agreement = None
    if int8:
        manifest8 = load_json(args.int8_manifest)
        if [m["config"] for m in manifest8["models"]] != configs:
            raise ReportError(f"{args.int8_manifest}: not the SubNets of {args.manifest}")
        agreement = int8_check(args.work, configs, args.k, sn8_rounds, ot8_rounds, manifest8)
    # each SubNet's figures: the median over the rounds (a round is one pass over every SubNet)
    def median_supernav(rounds):
        out = {}
        for c in configs:
            out[c] = dict(rounds[0][c])
            for key in ("p50_us", "p99_us"):
                out[c][key] = statistics.median(float(x[c][key]) for x in rounds)
        return out

    def median_ort(rounds):
        out = {}
        for c in configs:
            out[c] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in rounds[0][c].items()}
            for fig in ("wall_minus_binding", "profiler", "wall"):
                for key in ("p50_us", "mean_us"):
                    out[c][fig][key] = statistics.median(float(x[c][fig][key]) for x in rounds)
        return out

    sn, ot = median_supernav(sn_rounds), median_ort(ot_rounds)
    sn8, ot8 = (median_supernav(sn8_rounds), median_ort(ot8_rounds)) if int8 else ({}, {})
    pt = by_config(torch["models"], "PyTorch", configs, args.k)

    # Same model: MACs as the engine counts them, and the same top-1 over the timed canvases.
    bad = [c for c in configs if int(sn[c]["macs"]) != macs[c]]
    if bad:
        raise ReportError("the engine's MAC count differs from supernet.py's for " + ", ".join(bad))
    bad = [f"{c} (round {r + 1}: supernav {s[c]['correct']}, ONNX Runtime {o[c]['correct']}, "
           f"PyTorch {pt[c]['correct']})"
           for r, (s, o) in enumerate(zip(sn_rounds, ot_rounds)) for c in configs
           if not s[c]["correct"] == o[c]["correct"] == pt[c]["correct"]]
    if bad:
        raise ReportError(f"top-1 over the {args.k} timed canvases differs: " + "; ".join(bad))

    ort_key = "wall_minus_binding" if args.ort_timing == "binding" else "profiler"
    peak_gflops = float(peak["peak_gflops"])
    rows = []
    for i, c in enumerate(configs):
        s_us, o_us, t_us = float(sn[c]["p50_us"]), float(ot[c][ort_key]["p50_us"]), float(pt[c]["wall"]["p50_us"])
        if min(s_us, o_us, t_us) <= 0:
            raise ReportError(f"{c}: non-positive latency (supernav {s_us}, ONNX Runtime {o_us}, PyTorch {t_us})")
        gflops = 2.0 * macs[c] / (s_us * 1e3)
        rows.append({
            "index": i, "config": c, "macs": macs[c],
            "supernav_p50_us": s_us, "ort_p50_us": o_us, "torch_p50_us": t_us,
            "ratio_supernav_ort": s_us / o_us,
            "supernav_gflops": gflops, "supernav_pct_fma_peak": 100.0 * gflops / peak_gflops,
            "supernav_p99_us": float(sn[c]["p99_us"]),
            "ort_mean_us": float(ot[c][ort_key]["mean_us"]),
            "ort_profiler_p50_us": float(ot[c]["profiler"]["p50_us"]),
            "ort_wall_p50_us": float(ot[c]["wall"]["p50_us"]),
            "torch_mean_us": float(pt[c]["wall"]["mean_us"]),
            "ort_gflops": 2.0 * macs[c] / (o_us * 1e3), "torch_gflops": 2.0 * macs[c] / (t_us * 1e3),
            "top1_correct": sn[c]["correct"],
        })
        if int8:
            s8_us, o8_us = float(sn8[c]["p50_us"]), float(ot8[c][ort_key]["p50_us"])
            if min(s8_us, o8_us) <= 0:
                raise ReportError(f"{c}: non-positive int8 latency (supernav {s8_us}, ONNX Runtime {o8_us})")
            rows[-1].update({
                "supernav_int8_p50_us": s8_us, "ort_int8_p50_us": o8_us,
                "ratio_supernav_int8_ort_int8": s8_us / o8_us,
                "speedup_supernav_int8": s_us / s8_us, "speedup_ort_int8": o_us / o8_us,
                "supernav_int8_p99_us": float(sn8[c]["p99_us"]),
                "ort_int8_mean_us": float(ot8[c][ort_key]["mean_us"]),
                "ort_int8_profiler_p50_us": float(ot8[c]["profiler"]["p50_us"]),
                "ort_int8_wall_p50_us": float(ot8[c]["wall"]["p50_us"]),
                "supernav_int8_top1_correct": sn8[c]["correct"], "ort_int8_top1_correct": ot8[c]["correct"],
            })

    # ---- the ratios: geometric means over the SubNets, overall and per round -----------------
    def p50(x, c):     # a supernav eval line or an ORT result: the p50 the ratios use
        return float(x[c]["p50_us"]) if "p50_us" in x[c] else float(x[c][ort_key]["p50_us"])

    def ratio_of(num_rounds, den_rounds, key):
        return {"geomean": geomean(r[key] for r in rows),
                "round_geomeans": [geomean(p50(a, c) / p50(b, c) for c in configs)
                                   for a, b in zip(num_rounds, den_rounds)],
                "min": min(r[key] for r in rows), "max": max(r[key] for r in rows)}

    fp32 = ratio_of(sn_rounds, ot_rounds, "ratio_supernav_ort")
    geomean_fp32, round_geomeans = fp32["geomean"], fp32["round_geomeans"]
    slower = [r for r in rows if r["ratio_supernav_ort"] > TARGET_MAX]
    met = geomean_fp32 <= TARGET_GEOMEAN and not slower
    goals = [dict(fp32, name="supernav fp32 / ONNX Runtime fp32", key="ratio_supernav_ort",
                  goal=f"<= {TARGET_GEOMEAN}x on the geometric mean, never above {TARGET_MAX:g}x on any SubNet",
                  met=met, subnets_above_1=len(slower))]
    if int8:
        sp = ratio_of(sn_rounds, sn8_rounds, "speedup_supernav_int8")
        goals.append(dict(sp, name="supernav int8 speedup (supernav fp32 / supernav int8)", key="speedup_supernav_int8",
                          goal=f">= {INT8_SPEEDUP_MIN}x on the geometric mean", met=sp["geomean"] >= INT8_SPEEDUP_MIN))
        vs = ratio_of(sn8_rounds, ot8_rounds, "ratio_supernav_int8_ort_int8")
        goals.append(dict(vs, name="supernav int8 / ONNX Runtime int8", key="ratio_supernav_int8_ort_int8",
                          goal=f"< {INT8_VS_ORT_MAX:g}x on the geometric mean (faster than ONNX Runtime int8)",
                          met=vs["geomean"] < INT8_VS_ORT_MAX,
                          subnets_above_1=sum(r["ratio_supernav_int8_ort_int8"] > 1 for r in rows)))
        an = ratio_of(ot_rounds, ot8_rounds, "speedup_ort_int8")
        lo, hi = ORT_INT8_ANCHOR
        goals.append(dict(an, name="ONNX Runtime int8 speedup (ORT fp32 / ORT int8)", key="speedup_ort_int8",
                          goal=f"anchor {lo}-{hi}x (MobileNetV2 224x224, batch 1, AVX-512 VNNI Xeons; not a goal)",
                          met=None, anchor=("below" if an["geomean"] < lo else "above" if an["geomean"] > hi
                                            else "within")))

    ort_method = ("wall time around await session.run() minus the binding overhead (a null model's wall time, "
                  "p50 per round: " + ", ".join(f"{d['binding_overhead_us']:.1f}" for d in ort_docs) + " us)" if ort_key == "wall_minus_binding"
                  else "ORT's own profiler, model_run event (includes the profiler's per-node event recording)")
    machine = {"cpu": cpu_model(), "logical_cpus": os.cpu_count(), "kernel": pyplatform.release(),
               "machine": pyplatform.machine(), "load_average_at_start": load_at_start(args.work),
               "load_average_at_report": [round(x, 2) for x in os.getloadavg()]}
    versions = {"supernav": command_output([args.supernav, "version"]).splitlines(),
                "onnxruntime": ort["version"], "onnxruntime_package": "onnxruntime-node",
                "node": command_output(["node", "--version"]), "torch": torch["version"],
                "torch_debian_package": command_output(["dpkg-query", "-W", "-f=${Version}", "python3-torch"]),
                "onnx": manifest.get("onnx"), "onnx_opset": manifest.get("opset")}
    platform_label = args.platform + ("" if args.platform == args.requested_platform
                                      else f" (requested {args.requested_platform}: not available)")
    doc = {
        "schema": 1, "benchmark": "peers", "machine": machine, "versions": versions,
        "platform": args.platform, "requested_platform": args.requested_platform,
        "platform_note": args.platform_note, "k": args.k, "warmup": args.warmup, "batch": 1, "threads": 1,
        "precision": "fp32 and int8" if int8 else "fp32", "latency_statistic": "p50 of K runs on test canvases 0..K-1; median over the rounds",
        "rounds": args.rounds, "round_geomeans_supernav_ort": round_geomeans,
        "timing": {"supernav": sn[configs[0]]["latency_source"] + "; per invoke, input pixel/255 and resize included",
                   "onnxruntime": ort_method, "onnxruntime_figure": ort_key,
                   "onnxruntime_session_options": ort["session_options"], "pytorch": torch["timing"],
                   "pytorch_threads": torch["threads"]},
        "gflops": "2 x MACs / p50 latency (MACs: convolutions and classifier, supernet.py's count)",
        "fma_peak": peak,
        "target": {"geomean_max": TARGET_GEOMEAN, "per_subnet_max": TARGET_MAX, "met": met},
        "geomean_ratio_supernav_ort": geomean_fp32, "slower_than_ort": len(slower), "subnets": len(rows),
        "goals": goals,
        "rows": rows,
        "layer_kinds": [{"config": lr["config"], "layer_kinds": lr["layer_kinds"]} for lr in layer_rows],
        "onnxruntime_null_model": ort["null_model"],
    }
    if int8:
        doc["int8"] = {
            "supernav": "supernav eval --int8 (TFLite semantics, the platform's int8 kernels)",
            "onnxruntime": "export_onnx_qdq.py's QDQ models (supernav's own int8 weights, scales and calibrated "
                           "activation ranges), same session options as fp32",
            "manifest": args.int8_manifest,
            "weights": manifest8.get("weights", "int8"),
            "agreement": {k: v for k, v in agreement.items() if k != "per_subnet"},
            "agreement_per_subnet": agreement["per_subnet"],
        }

    # ---- files ---------------------------------------------------------------------------
    os.makedirs(args.out, exist_ok=True)
    cols = ["config", "macs", "supernav_p50_us", "ort_p50_us", "torch_p50_us", "ratio_supernav_ort",
            "supernav_gflops", "supernav_pct_fma_peak", "ort_mean_us", "torch_mean_us", "ort_profiler_p50_us",
            "ort_wall_p50_us"]
    if int8:
        cols += ["supernav_int8_p50_us", "ort_int8_p50_us", "ratio_supernav_int8_ort_int8", "speedup_supernav_int8",
                 "speedup_ort_int8", "ort_int8_profiler_p50_us", "ort_int8_wall_p50_us"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([r[c] if isinstance(r[c], (str, int)) else f"{r[c]:.4f}" if c.startswith(("ratio", "speedup"))
                    else f"{r[c]:.2f}" for c in cols])
    csv_path = os.path.join(args.out, "peers.csv")
    write_atomic(csv_path, buf.getvalue())
    write_atomic(os.path.join(args.out, "peers.json"), json.dumps(doc, indent=1) + "\n")

    verdicts = []
    for g in goals:
        line = (f"* {g['name']}: geometric mean **{g['geomean']:.3f}x** ({g['min']:.2f}-{g['max']:.2f}x per SubNet; "
                "per round " + ", ".join(f"{x:.3f}x" for x in g["round_geomeans"]) + f"); {g['goal']}: ")
        if g["met"] is None:
            line += f"**{g['anchor']}** the anchor"
        else:
            line += "**MET**" if g["met"] else "**MISSED**"
        if "subnets_above_1" in g:
            line += f" (above 1x on {g['subnets_above_1']} of {len(rows)} SubNets)"
        verdicts.append(line)
    lines = [
        "# Peer benchmark: batch-1, single-thread " + ("fp32 and int8" if int8 else "fp32") +
        " latency of the Pareto SubNets",
        "",
        f"* machine: {machine['cpu']}, {machine['logical_cpus']} logical CPUs, Linux {machine['kernel']}; "
        f"1-min load average {(machine['load_average_at_start'] or ['?'])[0]} before the measurements, "
        f"{machine['load_average_at_report'][0]} after",
        f"* supernav platform: **{platform_label}**" + (f" — {args.platform_note}" if args.platform_note else ""),
        f"* latency: p50 of K = {args.k} timed runs per SubNet and runtime (test canvases 0..{args.k - 1}), "
        f"after {args.warmup} warm-up runs; one thread everywhere; {args.rounds} round(s) of supernav then "
        "ONNX Runtime over every SubNet, each SubNet's median over the rounds (PyTorch: one pass); "
        "geometric mean supernav/ORT per round: " + ", ".join(f"{g:.3f}x" for g in round_geomeans),
        f"* ONNX Runtime {ort['version']} (onnxruntime-node, graph optimization all): {ort_method}",
        f"* PyTorch {torch['version']} (Debian python3-torch {versions['torch_debian_package']}): "
        f"{torch['timing']}; {torch['threads']['intra_op']} intra-op, {torch['threads']['inter_op']} inter-op thread",
        f"* FMA peak: {peak_gflops:.1f} GFLOP/s fp32, one core ({peak['isa']}, measured by bench/peak_fma); "
        "GFLOP/s = 2 x MACs / p50",
    ]
    if int8:
        a = agreement
        ops = ", ".join(f"{op} {n}" for op, n in sorted(a["operators"]["total"].items()))
        lines += [
            f"* int8: supernav `eval --int8` ({sn8[configs[0]].get('isa', '?')} kernels) and ONNX Runtime on "
            "export_onnx_qdq.py's QDQ models (supernav's own int8 weights and scales; ONNX weights "
            + manifest8.get("weights", "int8") + "), each right after its fp32 "
            "model in every round; ONNX Runtime's optimized graphs hold " + ops,
            f"* int8 agreement (tests/int8_ort_compare.py, before the rounds, {a['canvases'] // a['subnets']} canvases "
            f"per SubNet): top-1 equal on {a['agree']}/{a['canvases']} ({100 * a['agree_frac']:.2f} %, least per "
            f"SubNet {100 * a['agree_frac_min_subnet']:.1f} %), relative logit difference median "
            f"{a['rel_median']:.4f}, p99 {a['rel_p99']:.4f}, max {a['rel_max']:.4f}: {a['verdict']}",
        ]
    lines.append("")
    if int8:
        lines += [
            "| # | SubNet | M MACs | supernav fp32 µs | ORT fp32 µs | PyTorch µs | supernav/ORT fp32 | supernav int8 µs | "
            "ORT int8 µs | supernav/ORT int8 | supernav int8 speedup | ORT int8 speedup | supernav fp32 GFLOP/s | "
            "% of peak |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rows:
            lines.append(f"| {r['index']} | `{r['config']}` | {r['macs'] / 1e6:.2f} | {r['supernav_p50_us']:.1f} | "
                         f"{r['ort_p50_us']:.1f} | {r['torch_p50_us']:.1f} | {r['ratio_supernav_ort']:.2f} | "
                         f"{r['supernav_int8_p50_us']:.1f} | {r['ort_int8_p50_us']:.1f} | "
                         f"{r['ratio_supernav_int8_ort_int8']:.2f} | {r['speedup_supernav_int8']:.2f} | "
                         f"{r['speedup_ort_int8']:.2f} | {r['supernav_gflops']:.2f} | {r['supernav_pct_fma_peak']:.1f} |")
    else:
        lines += [
            "| # | SubNet | M MACs | supernav µs | ORT µs | PyTorch µs | supernav/ORT | supernav GFLOP/s | % of peak |",
            "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
        ]
        for r in rows:
            lines.append(f"| {r['index']} | `{r['config']}` | {r['macs'] / 1e6:.2f} | {r['supernav_p50_us']:.1f} | "
                         f"{r['ort_p50_us']:.1f} | {r['torch_p50_us']:.1f} | {r['ratio_supernav_ort']:.2f} | "
                         f"{r['supernav_gflops']:.2f} | {r['supernav_pct_fma_peak']:.1f} |")
    lines += ["", "Verdicts (ratios of latencies; each SubNet's ratio on its medians over the rounds):", ""]
    lines += verdicts + [""]
    if layer_rows:
        kinds = ("stem", "pointwise", "depthwise")
        lines += ["Where the time goes, per layer kind (fp32; a separate pass with every kernel call timed, "
                  "`supernav eval --layer-times`: per kind the median time per inference over the K runs, "
                  "its share of the timed kernels, and its GFLOP/s as a share of the measured FMA peak; "
                  "\"other\" = adds, pools, the resize):", "",
                  "| # | SubNet | " + " | ".join(f"{k} µs (share, % of peak)" for k in kinds) + " | other µs |",
                  "|---:|---|" + "---:|" * (len(kinds) + 1)]
        for i, lr in enumerate(layer_rows, 1):
            k = lr["layer_kinds"]
            cells = []
            for x in kinds:
                v = k.get(x)
                cells.append("-" if not v else f"{v['us_per_inference']:.1f} ({100 * v['share_of_timed']:.0f} %, "
                             f"{100 * v.get('share_of_fma_peak', float('nan')):.1f} %)")
            other = k.get("other")
            tail = f" | {other['us_per_inference']:.1f} |" if other else " | - |"
            lines.append(f"| {i} | `{lr['config']}` | " + " | ".join(cells) + tail)
        lines += [""]
    table = "\n".join(lines)
    write_atomic(os.path.join(args.out, "table.md"), table)

    svg = os.path.join(args.out, "peers.svg")
    title = (f"batch-1 single-thread {'fp32 and int8' if int8 else 'fp32'} latency, p50 of {args.k} runs "
             f"({machine['cpu']})")
    script = "\n".join([
        "set terminal svg size 960,600 dynamic background '#ffffff' font 'sans,12'",
        f"set output '{svg}.tmp'",
        "set datafile separator ','",
        f"set title \"{title}\" noenhanced",
        "set xlabel 'MACs per inference (millions)'",
        "set ylabel 'latency p50 (µs, log scale)'",
        "set logscale y",
        "set grid xtics ytics mytics",
        "set key top left",
        f"plot '{csv_path}' every ::1 using ($2/1e6):3 with linespoints pt 7 title 'supernav ({args.platform})', \\",
        f"     '' every ::1 using ($2/1e6):4 with linespoints pt 5 title 'ONNX Runtime {ort['version']}', \\",
        f"     '' every ::1 using ($2/1e6):5 with linespoints pt 9 title 'PyTorch {torch['version']}'" +
        (", \\" if int8 else ""),
    ] + ([
        f"     '' every ::1 using ($2/1e6):13 with linespoints pt 6 dt 2 title 'supernav int8 ({args.platform})', \\",
        f"     '' every ::1 using ($2/1e6):14 with linespoints pt 4 dt 2 title 'ONNX Runtime {ort['version']} int8'",
    ] if int8 else []) + [
        "unset output",
    ])
    r = subprocess.run(["gnuplot"], input=script, capture_output=True, text=True)
    if r.returncode != 0:
        raise ReportError(f"gnuplot failed: {r.stderr.strip()}")
    os.replace(svg + ".tmp", svg)

    print(table)
    print(f"bench-peers: wrote {args.out}/ (peers.csv, peers.json, table.md, peers.svg)", file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except ReportError as e:
        print(f"report: error: {e}", file=sys.stderr)
        sys.exit(1)
