#!/usr/bin/python3
"""The report of `make bench-peers` (called by bench/peers/run.sh): joins the raw measurements
in --work (peak.json, supernav-rR.jsonl and ort-rR.json for each of --rounds rounds, torch.json;
a SubNet's supernav and ORT figures are the median over the rounds), checks that the three
runtimes agree on every SubNet's top-1 over the timed canvases in every round, and writes to
--out:

  peers.csv    one row per SubNet: config, macs, the three p50 latencies, supernav/ORT,
               supernav's GFLOP/s (2 x MACs / p50) and its % of the measured FMA peak
  peers.json   the same plus means, p99s, the machine, versions, platform, K
  table.md     the table and the verdict on the target
  peers.svg    latency vs MACs for the three runtimes (gnuplot)

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

TARGET_GEOMEAN = 0.8      # supernav <= 0.8 x ONNX Runtime on the geometric mean
TARGET_MAX = 1.0          # and never slower on any SubNet


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
    args = ap.parse_args()

    manifest = load_json(args.manifest)
    peak = load_json(os.path.join(args.work, "peak.json"))
    torch = load_json(os.path.join(args.work, "torch.json"))
    configs = [m["config"] for m in manifest["models"]]
    macs = {m["config"]: m["macs"] for m in manifest["models"]}
    if args.rounds < 1:
        raise ReportError("--rounds must be at least 1")
    sn_rounds, ot_rounds, ort_docs = [], [], []
    for r in range(1, args.rounds + 1):
        sn_path = os.path.join(args.work, f"supernav-r{r}.jsonl")
        try:
            with open(sn_path) as f:
                sn_models = [json.loads(line) for line in f if line.strip()]
        except (OSError, ValueError) as e:
            raise ReportError(f"{sn_path}: {e}")
        ort_docs.append(load_json(os.path.join(args.work, f"ort-r{r}.json")))
        sn_rounds.append(by_config(sn_models, f"supernav (round {r})", configs, args.k))
        ot_rounds.append(by_config(ort_docs[-1]["models"], f"ONNX Runtime (round {r})", configs, args.k))
    ort = ort_docs[0]
    # each SubNet's figures: the median over the rounds (a round is one pass over every SubNet)
    sn, ot = {}, {}
    for c in configs:
        sn[c] = dict(sn_rounds[0][c])
        for key in ("p50_us", "p99_us"):
            sn[c][key] = statistics.median(float(x[c][key]) for x in sn_rounds)
        ot[c] = {k: (dict(v) if isinstance(v, dict) else v) for k, v in ot_rounds[0][c].items()}
        for fig in ("wall_minus_binding", "profiler", "wall"):
            for key in ("p50_us", "mean_us"):
                ot[c][fig][key] = statistics.median(float(x[c][fig][key]) for x in ot_rounds)
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
    ratios = [r["ratio_supernav_ort"] for r in rows]
    geomean = math.exp(sum(math.log(x) for x in ratios) / len(ratios))
    round_geomeans = [math.exp(sum(math.log(float(s[c]["p50_us"]) / float(o[c][ort_key]["p50_us"])) for c in configs)
                               / len(configs)) for s, o in zip(sn_rounds, ot_rounds)]
    slower = [r for r in rows if r["ratio_supernav_ort"] > TARGET_MAX]
    met = geomean <= TARGET_GEOMEAN and not slower

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
        "precision": "fp32", "latency_statistic": "p50 of K runs on test canvases 0..K-1; median over the rounds",
        "rounds": args.rounds, "round_geomeans_supernav_ort": round_geomeans,
        "timing": {"supernav": sn[configs[0]]["latency_source"] + "; per invoke, input pixel/255 and resize included",
                   "onnxruntime": ort_method, "onnxruntime_figure": ort_key,
                   "onnxruntime_session_options": ort["session_options"], "pytorch": torch["timing"],
                   "pytorch_threads": torch["threads"]},
        "gflops": "2 x MACs / p50 latency (MACs: convolutions and classifier, supernet.py's count)",
        "fma_peak": peak,
        "target": {"geomean_max": TARGET_GEOMEAN, "per_subnet_max": TARGET_MAX, "met": met},
        "geomean_ratio_supernav_ort": geomean, "slower_than_ort": len(slower), "subnets": len(rows),
        "rows": rows,
        "onnxruntime_null_model": ort["null_model"],
    }

    # ---- files ---------------------------------------------------------------------------
    os.makedirs(args.out, exist_ok=True)
    cols = ["config", "macs", "supernav_p50_us", "ort_p50_us", "torch_p50_us", "ratio_supernav_ort",
            "supernav_gflops", "supernav_pct_fma_peak", "ort_mean_us", "torch_mean_us", "ort_profiler_p50_us",
            "ort_wall_p50_us"]
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows:
        w.writerow([r[c] if isinstance(r[c], (str, int)) else f"{r[c]:.4f}" if c.startswith("ratio")
                    else f"{r[c]:.2f}" for c in cols])
    csv_path = os.path.join(args.out, "peers.csv")
    write_atomic(csv_path, buf.getvalue())
    write_atomic(os.path.join(args.out, "peers.json"), json.dumps(doc, indent=1) + "\n")

    verdict = (f"geometric mean supernav/ORT = {geomean:.3f}x; target (<= {TARGET_GEOMEAN}x on the geometric mean, "
               f"never slower on any SubNet): {'MET' if met else 'NOT MET'}"
               f" (supernav slower than ONNX Runtime on {len(slower)} of {len(rows)} SubNets)")
    lines = [
        "# Peer benchmark: batch-1, single-thread fp32 latency of the Pareto SubNets",
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
        "",
        "| # | SubNet | M MACs | supernav µs | ORT µs | PyTorch µs | supernav/ORT | supernav GFLOP/s | % of peak |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        lines.append(f"| {r['index']} | `{r['config']}` | {r['macs'] / 1e6:.2f} | {r['supernav_p50_us']:.1f} | "
                     f"{r['ort_p50_us']:.1f} | {r['torch_p50_us']:.1f} | {r['ratio_supernav_ort']:.2f} | "
                     f"{r['supernav_gflops']:.2f} | {r['supernav_pct_fma_peak']:.1f} |")
    lines += ["", verdict, ""]
    table = "\n".join(lines)
    write_atomic(os.path.join(args.out, "table.md"), table)

    svg = os.path.join(args.out, "peers.svg")
    title = f"batch-1 single-thread fp32 latency, p50 of {args.k} runs ({machine['cpu']})"
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
        f"     '' every ::1 using ($2/1e6):5 with linespoints pt 9 title 'PyTorch {torch['version']}'",
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
