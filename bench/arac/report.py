#!/usr/bin/python3
"""The report of `make bench-arac` (called by bench/arac/run.sh): reads the measurements in
--work (points.jsonl: one `supernav eval --json` object per point with its family; skipped:
ARAC bases without untiled BN statistics; covered: base|res|SubNet, downsampled points left
out because the untiled family holds that SubNet; loadavg-start, loadavg-end), computes
NeuLens's two figures for every ARAC point against the two baselines, and writes to --out:

  arac.csv     one row per point: family, config, input_res, macs, top1, n, p50_us, p99_us
  arac.json    the rows, the per-ARAC comparisons, the headline figures, the claims, the
               machine and the method
  summary.md   the tables, the headline figures beside NeuLens's claims, machine and method
  arac.svg     top-1 vs measured p50 latency, three series (gnuplot)

Each file is written to a temporary name and renamed into place. Prints summary.md on stdout;
exits 1 when the measurements are incomplete or inconsistent. Any model (--model, --canvas):
ARAC configs of CF-64's form (arac-g{G}-t{T}-l{H}.{L}:{SubNet}) and of the split-point form
(arac-p{P}-g{G}-{h|z}-t{T}-l{L1}...{0}:{SubNet}, CF-128S's), engine/include/sn_config.h.
"""
import argparse
import csv
import io
import json
import os
import platform as pyplatform
import re
import subprocess
import sys

# NeuLens (Hou, Guan, Han, MobiCom 2022), abstract: on their models, data and devices.
CLAIM_LATENCY_REDUCTION = 0.58      # "up to 58 % lower latency" at the same accuracy
CLAIM_ACCURACY_GAIN = 0.679         # "up to 67.9 % higher accuracy" at the same latency/memory

FAMILIES = ("arac", "untiled", "downsampled")
BASELINES = ("untiled", "downsampled")
LABEL = {"arac": "ARAC (gate)", "untiled": "untiled SubNets", "downsampled": "downsampled inputs"}

METHOD_EQUAL_ACCURACY = (
    "Latency reduction at equal accuracy: for each ARAC point (top-1 a, p50 latency t), the baseline "
    "is the fastest point of the family (lowest measured p50) whose top-1 is at least a; "
    "reduction = 1 - t / t_baseline. 'none' when no point of the family reaches a, or when ARAC is "
    "not faster (the signed value is given beside it).")
METHOD_EQUAL_LATENCY = (
    "Accuracy gain at equal latency: for each ARAC point, the baseline is the most accurate point of "
    "the family whose measured p50 is at most t; gain = a - top-1_baseline in points, and relative to "
    "the baseline's top-1. 'none' when no point of the family is that fast, or when ARAC is not more "
    "accurate (the signed value is given beside it).")


# the models `make bench-arac MODEL=...` serves, as the report names them
MODEL_LABEL = {"cf64": "CF-64", "cf128s": "CF-128S"}


class ReportError(Exception):
    pass


ARAC_SPLIT_FORM = re.compile(r"arac-p(\d+)-g(\d+)-([hz])-t(\d+)-l(\d+(?:\.\d+)*):(r(\d+)-\S+)$")
ARAC_CF64_FORM = re.compile(r"arac-g(\d+)-t(\d+)-l(\d+)\.(\d+):(r(\d+)-\S+)$")


def parse_arac(config):
    """An ARAC config's fields: split (None in CF-64's form: the model's one split), grid, mode,
    threshold_pct, levels_pct (high to low; 0 = SKIP), base and base_res."""
    m = ARAC_SPLIT_FORM.match(config)
    if m:
        return {"split": int(m[1]), "grid": int(m[2]), "mode": m[3], "threshold_pct": int(m[4]),
                "levels_pct": [int(x) for x in m[5].split(".")], "base": m[6], "base_res": int(m[7])}
    m = ARAC_CF64_FORM.match(config)
    if m:
        return {"split": None, "grid": int(m[1]), "mode": "h", "threshold_pct": int(m[2]),
                "levels_pct": [int(m[3]), int(m[4])], "base": m[5], "base_res": int(m[6])}
    raise ReportError(f"'{config}' is not an ARAC config (engine/include/sn_config.h)")


def write_atomic(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


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


def loadavg(work, name):
    """The 1, 5 and 15 min load averages run.sh saved, or None."""
    try:
        with open(os.path.join(work, name)) as f:
            return [float(x) for x in f.read().split()[:3]]
    except (OSError, ValueError):
        return None


def read_lines(path):
    try:
        with open(path) as f:
            return [line.strip() for line in f if line.strip()]
    except OSError as e:
        raise ReportError(f"{path}: {e}")


def arena_kb(row):
    """The plan's arena in KB, or "-" when the run did not record it."""
    return "-" if row.get("arena_bytes") is None else f"{row['arena_bytes'] / 1024:.0f}"


def base_of(config):
    return parse_arac(config)["base"]


def load_rows(work, expected_n):
    rows = []
    path = os.path.join(work, "points.jsonl")
    for k, line in enumerate(read_lines(path)):
        try:
            point = json.loads(line)
            e = point["eval"]
            row = {"family": point["family"], "config": e["config"], "input_res": int(e["input_res"]),
                   "macs": float(e["macs"]), "top1": float(e["top1"]), "n": int(e["n"]),
                   "correct": int(e["correct"]), "p50_us": float(e["p50_us"]), "p99_us": float(e["p99_us"]),
                   "platform": e["platform"], "isa": e["isa"], "precision": e["precision"],
                   "latency_source": e["latency_source"], "measured": "this run",
                   # the plan's arena (eval's arena_bytes; absent from runs before it was recorded)
                   "arena_bytes": int(e["arena_bytes"]) if "arena_bytes" in e else None}
        except (ValueError, KeyError, TypeError) as err:
            raise ReportError(f"{path}:{k + 1}: not a supernav eval result ({err})")
        if row["family"] not in FAMILIES:
            raise ReportError(f"{path}:{k + 1}: unknown family '{row['family']}'")
        if row["p50_us"] <= 0:
            raise ReportError(f"{row['config']}: non-positive p50 latency")
        rows.append(row)
    ns = sorted({r["n"] for r in rows})
    if not rows:
        raise ReportError(f"{path}: no measurements")
    if len(ns) != 1 or (expected_n and ns[0] != expected_n):
        raise ReportError(f"the points were not all measured on the same canvases (n = {ns})")
    return rows


def add_untiled_bases(rows):
    """The downsampled family at the canvas's resolution is the untiled base itself: the untiled
    point's measurement."""
    untiled = {r["config"]: r for r in rows if r["family"] == "untiled"}
    bases = {r["config"] for r in rows if r["family"] == "downsampled"}
    for b in sorted(bases):
        if b in untiled:
            rows.append(dict(untiled[b], family="downsampled", measured="the untiled point's run"))
    return rows


def front(points):
    """Points not dominated in (lower p50, higher top-1), sorted by p50."""
    out = []
    for r in sorted(points, key=lambda r: (r["p50_us"], -r["top1"])):
        if not out or r["top1"] > out[-1]["top1"]:
            out.append(r)
    return out


def compare(a, family_rows):
    """NeuLens's two figures for ARAC point A against one baseline family."""
    reach = [r for r in family_rows if r["top1"] >= a["top1"]]
    eq_acc = min(reach, key=lambda r: (r["p50_us"], -r["top1"])) if reach else None
    fast = [r for r in family_rows if r["p50_us"] <= a["p50_us"]]
    eq_lat = max(fast, key=lambda r: (r["top1"], -r["p50_us"])) if fast else None
    out = {"equal_accuracy": None, "equal_latency": None}
    if eq_acc:
        out["equal_accuracy"] = {"baseline": eq_acc["config"], "baseline_family": eq_acc["family"],
                                 "baseline_input_res": eq_acc["input_res"],
                                 "baseline_top1": eq_acc["top1"], "baseline_p50_us": eq_acc["p50_us"],
                                 "latency_reduction": 1.0 - a["p50_us"] / eq_acc["p50_us"]}
    if eq_lat:
        gain = a["top1"] - eq_lat["top1"]
        out["equal_latency"] = {"baseline": eq_lat["config"], "baseline_family": eq_lat["family"],
                                "baseline_input_res": eq_lat["input_res"],
                                "baseline_top1": eq_lat["top1"], "baseline_p50_us": eq_lat["p50_us"],
                                "accuracy_gain_points": gain,
                                "accuracy_gain_relative": gain / eq_lat["top1"] if eq_lat["top1"] > 0 else None}
    return out


def headline(arac, fam):
    """The best of each figure over the ARAC points against one family, or None (= 'none')."""
    red = [(a["vs"][fam]["equal_accuracy"]["latency_reduction"], a) for a in arac
           if a["vs"][fam]["equal_accuracy"]]
    gain = [(a["vs"][fam]["equal_latency"]["accuracy_gain_points"],
             a["vs"][fam]["equal_latency"]["accuracy_gain_relative"], a) for a in arac
            if a["vs"][fam]["equal_latency"]]
    best_red = max(red, key=lambda x: x[0]) if red else None
    best_gain = max(gain, key=lambda x: x[0]) if gain else None
    return {
        "comparable_equal_accuracy": len(red), "comparable_equal_latency": len(gain),
        "max_latency_reduction": best_red[0] if best_red and best_red[0] > 0 else None,
        "max_latency_reduction_config": best_red[1]["config"] if best_red and best_red[0] > 0 else None,
        "signed_best_latency_reduction": best_red[0] if best_red else None,
        "max_accuracy_gain_points": best_gain[0] if best_gain and best_gain[0] > 0 else None,
        "max_accuracy_gain_relative": best_gain[1] if best_gain and best_gain[0] > 0 else None,
        "max_accuracy_gain_config": best_gain[2]["config"] if best_gain and best_gain[0] > 0 else None,
        "signed_best_accuracy_gain_points": best_gain[0] if best_gain else None,
        "faster_at_equal_accuracy": sum(1 for x in red if x[0] > 0),
        "more_accurate_at_equal_latency": sum(1 for x in gain if x[0] > 0),
    }


def pct(x, digits=1):
    return f"{100.0 * x:+.{digits}f} %"


def fmt_reduction(c):
    if c is None:
        return "none (no point reaches its top-1)"
    r = c["latency_reduction"]
    return f"**{pct(r)}**" if r > 0 else f"none ({pct(r)}: ARAC not faster)"


def fmt_gain(c):
    if c is None:
        return "none (no point is as fast)"
    g, rel = c["accuracy_gain_points"], c["accuracy_gain_relative"]
    return (f"**{g:+.2f} pt ({pct(rel, 2)})**" if g > 0
            else f"none ({g:+.2f} pt: ARAC not more accurate)")


def base_cell(c):
    """A baseline point in a table cell: its config (@R when it runs on downsampled inputs)."""
    if c is None:
        return "—"
    at = f" @{c['baseline_input_res']}" if c["baseline_family"] == "downsampled" else ""
    return f"`{c['baseline']}`{at} ({c['baseline_top1']:.2f} %, {c['baseline_p50_us']:.1f} µs)"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", required=True)
    ap.add_argument("--table", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--platform", required=True)
    ap.add_argument("--limit", type=int, default=0, help="canvases per point; 0 = the whole test split")
    ap.add_argument("--warmup", type=int, required=True)
    ap.add_argument("--down-res", required=True)
    ap.add_argument("--canvas", type=int, default=64, help="the model's canvas side (its ARAC bases' resolution)")
    ap.add_argument("--model", default="cf64", help="the model's name (make's MODEL)")
    ap.add_argument("--model-image", default="build/supernet.snm")
    ap.add_argument("--test", default="data/canvas/cf64-test", help="the test split's canvas set")
    ap.add_argument("--supernav", default="build/supernav")
    args = ap.parse_args()
    label = MODEL_LABEL.get(args.model, args.model)
    canvas = args.canvas

    rows = add_untiled_bases(load_rows(args.work, args.limit))
    skipped = read_lines(os.path.join(args.work, "skipped")) if os.path.exists(
        os.path.join(args.work, "skipped")) else []
    covered = [line.split("|") for line in read_lines(os.path.join(args.work, "covered"))] if os.path.exists(
        os.path.join(args.work, "covered")) else []
    fam = {f: [r for r in rows if r["family"] == f] for f in FAMILIES}
    for f in ("arac", "untiled"):
        if not fam[f]:
            raise ReportError(f"no {LABEL[f]} points")
    parsed = {r["config"]: parse_arac(r["config"]) for r in fam["arac"]}
    split_form = any(p["split"] is not None for p in parsed.values())
    n = rows[0]["n"]
    full = args.limit == 0

    # On the whole split, top-1 should reproduce accuracy.csv (PyTorch's figures): report the
    # largest difference (the cpu platform's SIMD kernels round differently from PyTorch).
    table = {}
    with open(args.table) as f:
        for t in csv.DictReader(f):
            table[t["config"]] = float(t["top1"])
    deltas = [abs(r["top1"] - table[r["config"]]) for r in rows
              if r["family"] in ("arac", "untiled") and r["config"] in table]
    max_delta = max(deltas) if full and deltas else None

    untiled_front = front(fam["untiled"])
    front_keys = {r["config"] for r in untiled_front}
    arac = []
    for a in sorted(fam["arac"], key=lambda r: r["p50_us"]):
        a = dict(a)
        a["vs"] = {b: compare(a, fam[b]) if fam[b] else {"equal_accuracy": None, "equal_latency": None}
                   for b in BASELINES}
        arac.append(a)
    heads = {b: headline(arac, b) for b in BASELINES}

    machine = {"cpu": cpu_model(), "logical_cpus": os.cpu_count(), "kernel": pyplatform.release(),
               "machine": pyplatform.machine(), "load_average_at_start": loadavg(args.work, "loadavg-start"),
               "load_average_at_end": loadavg(args.work, "loadavg-end"), "shared": True}
    versions = {"supernav": command_output([args.supernav, "version"]).splitlines(),
                "gnuplot": command_output(["gnuplot", "--version"])}
    isa = fam["arac"][0]["isa"]
    notes = []
    if skipped:
        notes.append("No downsampled points for the ARAC bases " + ", ".join(f"`{s}`" for s in skipped) +
                     ": the deployment image holds no calibrated BN statistics for them as untiled SubNets "
                     "(they are not Pareto SubNets; only ARAC configs built on them were calibrated), and "
                     "running them with another config's statistics would not be the same SubNet. The "
                     "downsampled family is the remaining base(s) only.")
    if covered:
        notes.append("No downsampled point where the ARAC base at that resolution is itself an untiled "
                     "SubNet (with BN statistics of its own there), which the untiled family holds: " +
                     ", ".join(f"`{b}` at {r} (= `{sn}`)" for b, r, sn in covered) + ".")
    if not fam["downsampled"]:
        notes.append("The downsampled family is empty: no ARAC base has untiled BN statistics in the image"
                     + (", or every downsampled resolution is an untiled SubNet." if covered else "."))

    # ---- the verdict in words --------------------------------------------------------------
    verdict = []
    for b in BASELINES:
        h = heads[b]
        if not fam[b]:
            continue
        if h["max_latency_reduction"] is not None:
            verdict.append(f"Against the {LABEL[b]}, ARAC is faster at equal accuracy for "
                           f"{h['faster_at_equal_accuracy']} of {len(arac)} ARAC points; best reduction "
                           f"{100 * h['max_latency_reduction']:.1f} % (`{h['max_latency_reduction_config']}`).")
        else:
            verdict.append(f"Against the {LABEL[b]}, ARAC reduces latency at equal accuracy for none of the "
                           f"{len(arac)} ARAC points ({h['comparable_equal_accuracy']} comparable; best signed "
                           "figure " + (pct(h['signed_best_latency_reduction'])
                                        if h['signed_best_latency_reduction'] is not None else "n/a") + ").")
        if h["max_accuracy_gain_points"] is not None:
            verdict.append(f"Against the {LABEL[b]}, ARAC is more accurate at equal latency for "
                           f"{h['more_accurate_at_equal_latency']} of {len(arac)} ARAC points; best gain "
                           f"{h['max_accuracy_gain_points']:+.2f} points "
                           f"({pct(h['max_accuracy_gain_relative'], 2)} relative, "
                           f"`{h['max_accuracy_gain_config']}`).")
        else:
            verdict.append(f"Against the {LABEL[b]}, ARAC gains no accuracy at equal latency for any of the "
                           f"{len(arac)} ARAC points ({h['comparable_equal_latency']} comparable; best signed "
                           "figure " + (f"{h['signed_best_accuracy_gain_points']:+.2f} points"
                                        if h['signed_best_accuracy_gain_points'] is not None else "n/a") + ").")

    # The downsampled family may hold fewer bases than ARAC uses: say which wins compare the same base.
    down_bases = {r["config"] for r in fam["downsampled"]}
    if down_bases and any(base_of(a["config"]) not in down_bases for a in arac):
        same = [a for a in arac if base_of(a["config"]) in down_bases]
        wins = [a for a in same if (a["vs"]["downsampled"]["equal_accuracy"] or {}).get("latency_reduction", 0) > 0
                or (a["vs"]["downsampled"]["equal_latency"] or {}).get("accuracy_gain_points", 0) > 0]
        verdict.append(f"The downsampled family holds only {', '.join(f'`{b}`' for b in sorted(down_bases))}; "
                       f"{len(wins)} of the {len(same)} ARAC points on that base beat it on either figure. The "
                       "other ARAC points run on smaller bases, so a win of theirs against the downsampled "
                       "family is a smaller network against a larger one on a smaller input, not tiles against "
                       "downsampling of the same network.")

    # Why: the measured cost of a MAC in each family (ARAC adds halos, per-tile launches, the gate
    # and the stitching, which its MAC count only partly shows).
    def median(xs):
        xs = sorted(xs)
        return (xs[(len(xs) - 1) // 2] + xs[len(xs) // 2]) / 2 if xs else None
    us_per_mmac = {f: median([r["p50_us"] / (r["macs"] / 1e6) for r in fam[f]]) for f in FAMILIES}
    full_res_untiled = [r for r in fam["untiled"] if r["input_res"] == canvas]
    us_per_mmac[f"untiled_r{canvas}"] = median([r["p50_us"] / (r["macs"] / 1e6) for r in full_res_untiled])
    verdict.append("Measured cost per MAC (median p50 µs per million MACs): ARAC "
                   f"{us_per_mmac['arac']:.1f}, untiled {us_per_mmac['untiled']:.1f} (r{canvas} only: "
                   + (f"{us_per_mmac[f'untiled_r{canvas}']:.1f}" if us_per_mmac[f'untiled_r{canvas}'] else "n/a") +
                   "), downsampled " + (f"{us_per_mmac['downsampled']:.1f}" if us_per_mmac['downsampled'] else "n/a")
                   + ": ARAC's MAC savings turn into less latency saved when its cost per MAC is higher "
                   "(halos, one micro-flow per tile, the gate, the stitching).")

    split = (f"the whole {label} test split ({n} canvases)" if full
             else f"only the first {n} {label} test canvases (ARAC_LIMIT, a trial run)")
    doc = {
        "schema": 1, "benchmark": "arac", "machine": machine, "versions": versions,
        "model": {"name": args.model, "image": args.model_image, "table": args.table, "test": args.test,
                  "canvas": canvas},
        "platform": args.platform, "isa": isa, "precision": fam["arac"][0]["precision"],
        "canvases": n, "whole_test_split": full, "warmup": args.warmup,
        "latency": "p50 (and p99) over the same inferences that give top-1; " + fam["arac"][0]["latency_source"]
                   + "; per invoke, input pixel/255, resize, gate and stitching included",
        "downsampled_resolutions": [int(x) for x in args.down_res.split()] + [canvas],
        "downsampled_bases_skipped": skipped,
        "downsampled_points_covered_by_untiled": [{"base": b, "input_res": int(r), "untiled": sn}
                                                  for b, r, sn in covered],
        "max_abs_top1_delta_vs_accuracy_csv": max_delta,
        "method": {"equal_accuracy": METHOD_EQUAL_ACCURACY, "equal_latency": METHOD_EQUAL_LATENCY},
        "claims": {"source": "NeuLens (Hou, Guan, Han, MobiCom 2022), on their models, data and devices",
                   "latency_reduction_at_equal_accuracy": CLAIM_LATENCY_REDUCTION,
                   "accuracy_gain_at_equal_latency_relative": CLAIM_ACCURACY_GAIN},
        "headline": heads, "verdict": verdict, "notes": notes, "median_us_per_million_macs": us_per_mmac,
        "untiled_front_by_latency": [r["config"] for r in untiled_front],
        "rows": [{k: r[k] for k in ("family", "config", "input_res", "macs", "top1", "n", "correct", "p50_us",
                                    "p99_us", "measured", "arena_bytes")} for r in rows],
        "arac": [{"config": a["config"], "top1": a["top1"], "p50_us": a["p50_us"], "macs": a["macs"],
                  "parsed": parsed[a["config"]], "vs": a["vs"]} for a in arac],
    }

    # ---- files -----------------------------------------------------------------------------
    os.makedirs(args.out, exist_ok=True)
    cols = ["family", "config", "input_res", "macs", "top1", "n", "p50_us", "p99_us"]
    order = {f: i for i, f in enumerate(FAMILIES)}
    rows_sorted = sorted(rows, key=lambda r: (order[r["family"]], r["p50_us"]))
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(cols)
    for r in rows_sorted:
        w.writerow([r["family"], r["config"], r["input_res"], f"{r['macs']:.0f}", f"{r['top1']:.2f}", r["n"],
                    f"{r['p50_us']:.1f}", f"{r['p99_us']:.1f}"])
    csv_path = os.path.join(args.out, "arac.csv")
    write_atomic(csv_path, buf.getvalue())
    write_atomic(os.path.join(args.out, "arac.json"), json.dumps(doc, indent=1) + "\n")

    la0, la1 = machine["load_average_at_start"], machine["load_average_at_end"]
    lines = [
        "# NeuLens experiment: ARAC (gate) vs untiled SubNets vs downsampled inputs",
        "",
        f"* model: {label} (`{args.model_image}`, accuracy table `{args.table}`, test split `{args.test}`).",
        f"* machine: {machine['cpu']}, {machine['logical_cpus']} logical CPUs, Linux {machine['kernel']}. "
        "**Latency is measured on a shared machine** (other jobs may run beside it): 1-min load average "
        f"{la0[0] if la0 else '?'} before the measurements, {la1[0] if la1 else '?'} after.",
        f"* supernav `eval --platform {args.platform}` (isa {isa}, {doc['precision']}), one thread; every point "
        f"runs {split} after {args.warmup} warm-up inferences; top-1 and the p50/p99 latency "
        "come from the same inferences (`clock_gettime`, per invoke: pixel/255, resize, gate and stitching "
        "included).",
        f"* families: **ARAC (gate)** = the `kind=arac` rows of `{args.table}` ("
        + ("split point P, G×G tiles, region mode h (exact halo) or z (tile-local), gate threshold T, each "
           "tile at the lowest of the config's levels the multi-level gate allows, the last SKIP; MACs are the "
           "mean over the canvases: gate + computed regions + tail" if split_form else
           "G×G tiles, gate threshold 50 %, critical tiles at level H, the others at L; MACs are the mean "
           "over the canvases: gate + tiles with halos + tail")
        + "); **untiled SubNets** = the `kind=subnet` rows (the Pareto "
        "set over resolutions); **downsampled inputs** = each ARAC base SubNet, with its own weights and BN "
        f"statistics, on the canvas resized to {', '.join(args.down_res.split())} (`--input-res`), and at "
        f"{canvas} (the untiled base itself, the untiled point's measurement).",
        "* accuracy: top-1 on n canvases has a standard error of about "
        f"{100 * (0.88 * 0.12 / n) ** 0.5:.2f} points; every point sees the same canvases.",
    ]
    if max_delta is not None:
        lines.append(f"* top-1 reproduces `accuracy.csv` (PyTorch) within {max_delta:.2f} points on every "
                     "untiled and ARAC point.")
    lines += [f"* note: {x}" for x in notes]
    lines += ["", "## Points", "",
              "| family | config | input | M MACs | top-1 % | p50 µs | p99 µs | µs per M MACs | arena KB |",
              "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows_sorted:
        mark = " (front)" if r["family"] == "untiled" and r["config"] in front_keys else ""
        same = " (= untiled)" if r["measured"] != "this run" else ""
        lines.append(f"| {LABEL[r['family']]}{mark} | `{r['config']}` | {r['input_res']}{same} | "
                     f"{r['macs'] / 1e6:.2f} | {r['top1']:.2f} | {r['p50_us']:.1f} | {r['p99_us']:.1f} | "
                     f"{r['p50_us'] / (r['macs'] / 1e6):.1f} | "
                     f"{arena_kb(r)} |")
    lines += ["", "## NeuLens's two figures, per ARAC point", "",
              f"* {METHOD_EQUAL_ACCURACY}", f"* {METHOD_EQUAL_LATENCY}", "",
              "| ARAC config | top-1 % | p50 µs | vs untiled: equal accuracy | latency reduction | "
              "vs untiled: equal latency | accuracy gain | vs downsampled: equal accuracy | latency reduction | "
              "vs downsampled: equal latency | accuracy gain |",
              "|---|---:|---:|---|---:|---|---:|---|---:|---|---:|"]
    for a in arac:
        cells = [f"`{a['config']}`", f"{a['top1']:.2f}", f"{a['p50_us']:.1f}"]
        for b in BASELINES:
            v = a["vs"][b]
            cells += [base_cell(v["equal_accuracy"]), fmt_reduction(v["equal_accuracy"]),
                      base_cell(v["equal_latency"]), fmt_gain(v["equal_latency"])]
        lines.append("| " + " | ".join(cells) + " |")
    # NeuLens's memory claim: tile buffers sized by the largest region, not the whole activation
    by_config = {r["config"]: r for r in rows if r["family"] == "untiled"}
    lines += ["", "## Memory: each ARAC plan's arena beside the untiled SubNets'", "",
              "The plan's arena as `eval` reports it (weights stay in the image; the arena holds "
              "activations, tile buffers and folded vectors). *base*: the config's own SubNet untiled, when "
              "it is an untiled point here; *equal-accuracy baseline*: the fastest untiled SubNet of at "
              "least its top-1 (the figure above).", "",
              "| ARAC config | top-1 % | arena KB | base untiled arena KB | equal-accuracy baseline arena KB |",
              "|---|---:|---:|---:|---:|"]
    for a in arac:
        base = by_config.get(base_of(a["config"]))
        eq = a["vs"]["untiled"]["equal_accuracy"]
        eq_row = by_config.get(eq["baseline"]) if eq else None
        lines.append(f"| `{a['config']}` | {a['top1']:.2f} | {arena_kb(a)} | "
                     f"{arena_kb(base) if base else 'not measured'} | {arena_kb(eq_row) if eq_row else 'none'} |")

    def h_red(h):
        if h["max_latency_reduction"] is not None:
            return f"{100 * h['max_latency_reduction']:.1f} %"
        s = h["signed_best_latency_reduction"]
        return "none" + (f" (best signed {pct(s)})" if s is not None else "")

    def h_gain(h):
        if h["max_accuracy_gain_points"] is not None:
            return f"{h['max_accuracy_gain_points']:+.2f} pt ({pct(h['max_accuracy_gain_relative'], 2)})"
        s = h["signed_best_accuracy_gain_points"]
        return "none" + (f" (best signed {s:+.2f} pt)" if s is not None else "")

    lines += ["", "## Headline, beside NeuLens's claims", "",
              "NeuLens (Hou, Guan, Han, MobiCom 2022) reports up to 58 % lower latency at the same accuracy "
              "and up to 67.9 % higher accuracy at the same latency/memory, on their own models, data and "
              f"devices. This is the same kind of experiment on supernav's {label} SuperNet and this CPU, not a "
              "reproduction of their numbers.", "",
              "| figure | NeuLens's claim | vs untiled SubNets | vs downsampled inputs |",
              "|---|---:|---:|---:|",
              f"| latency reduction at equal accuracy (best over ARAC points) | up to "
              f"{100 * CLAIM_LATENCY_REDUCTION:.0f} % | {h_red(heads['untiled'])} | "
              f"{h_red(heads['downsampled']) if fam['downsampled'] else 'n/a'} |",
              f"| accuracy gain at equal latency (best over ARAC points; relative) | up to "
              f"{100 * CLAIM_ACCURACY_GAIN:.1f} % | {h_gain(heads['untiled'])} | "
              f"{h_gain(heads['downsampled']) if fam['downsampled'] else 'n/a'} |",
              ""]
    lines += [f"* {v}" for v in verdict]
    lines += ["", "Files: `arac.csv`, `arac.json`, `arac.svg` (top-1 vs measured p50 latency).", ""]
    summary = "\n".join(lines)
    write_atomic(os.path.join(args.out, "summary.md"), summary)

    # ---- the plot --------------------------------------------------------------------------
    def block(name, pts, cols_fn):
        """A gnuplot datablock; a None in PTS is a blank line (it breaks a line series)."""
        return ([f"${name} << EOD"] + ["" if p is None else " ".join(str(x) for x in cols_fn(p)) for p in pts]
                + ["EOD"])

    svg = os.path.join(args.out, "arac.svg")
    step = list(untiled_front)
    xmax = max(r["p50_us"] for r in rows) * 1.05
    if step:
        step.append(dict(step[-1], p50_us=xmax))    # the front holds its best accuracy to the right
    script = ["set terminal svg size 960,640 dynamic background '#ffffff' font 'sans,12'",
              f"set output '{svg}.tmp'"]
    script += block("arac", fam["arac"], lambda r: (r["p50_us"], r["top1"]))
    script += block("untiled", fam["untiled"], lambda r: (r["p50_us"], r["top1"]))
    script += block("front", step, lambda r: (r["p50_us"], r["top1"]))
    downs = []
    for b in sorted({r["config"] for r in fam["downsampled"]}):
        downs += sorted((r for r in fam["downsampled"] if r["config"] == b), key=lambda r: -r["input_res"])
        downs.append(None)
    script += block("down", downs, lambda r: (r["p50_us"], r["top1"], r["input_res"]))
    title = (f"{label} test top-1 vs measured p50 latency ({n} canvases; {args.platform} {isa}, one thread, "
             f"shared {machine['logical_cpus']}-CPU machine)")
    down_px = ", ".join(str(x) for x in sorted(doc["downsampled_resolutions"], reverse=True))
    plot = ["plot $untiled using 1:2 with points pt 7 ps 0.9 lc rgb '#1f77b4' title 'untiled SubNets', \\",
            "     $front using 1:2 with steps lw 2 lc rgb '#1f77b4' title 'untiled front (best top-1 at <= latency)', \\"]
    if downs:
        plot.append("     $down using 1:2 with linespoints pt 5 ps 0.9 lw 1.5 lc rgb '#2ca02c' "
                    f"title 'downsampled inputs (ARAC base at {down_px} px)', \\")
        plot.append("     $down using 1:2:(sprintf('%d', $3)) with labels offset 0,-0.9 font ',9' "
                    "tc rgb '#2ca02c' notitle, \\")
    plot.append("     $arac using 1:2 with points pt 9 ps 1.4 lc rgb '#d62728' title 'ARAC (gate)'")
    script += [f"set title \"{title}\" noenhanced",
               "set xlabel 'latency p50 (µs, measured)'",
               "set ylabel 'top-1 (%)'",
               f"set xrange [0:{xmax:.0f}]",
               "set termoption noenhanced",
               "set grid xtics ytics",
               "set key bottom right"] + plot + ["unset output"]
    r = subprocess.run(["gnuplot"], input="\n".join(script) + "\n", capture_output=True, text=True)
    if r.returncode != 0:
        raise ReportError(f"gnuplot failed: {r.stderr.strip()}")
    os.replace(svg + ".tmp", svg)

    print(summary)
    print(f"bench-arac: wrote {args.out}/ (arac.csv, arac.json, summary.md, arac.svg)", file=sys.stderr)


if __name__ == "__main__":
    try:
        main()
    except ReportError as e:
        print(f"report: error: {e}", file=sys.stderr)
        sys.exit(1)
