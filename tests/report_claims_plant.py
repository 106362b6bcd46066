#!/usr/bin/env python3
"""tests/test_report_claims.sh's planted run set and its check of the report's reproduction
table (the SUSHI and NeuLens claim rows). Standard library only.

  report_claims_plant.py plant TEMPLATE_RUN OUT   writes OUT/runs/<run>/ (run directories made
      from TEMPLATE_RUN with planted figures), OUT/arac/arac.json and OUT/expected.json
  report_claims_plant.py check OUT REPORT_DIR [--no-arac]   compares REPORT_DIR/report.md's
      and report.html's reproduction rows with OUT/expected.json (--no-arac: a report made
      without --arac, whose NeuLens rows say "not run"); exit 1 on a difference

The expected rows are computed here from the planted numbers, by the definitions in
reports/README.md ("The reproduction table"), not by the report's code: per platform and
trace, each policy's figure is the mean over its repetitions (as the answer table's); the
latency row is 1 - latency(sushi) / latency(nocache) on the mean (summary.json
latency_us.mean), the p50 (median of queries.csv's latencies) and the p99 (summary.json
latency_us.p99), best over the traces; the accuracy row served_accuracy(sushi) minus
nocache's, in points; the energy row 1 - E_far(sushi) / E_far(nocache). The numbers are
chosen so that no printed figure sits on a rounding tie, and so that taking one repetition
instead of the mean, another platform's runs, the p50 for the mean, or the wrong trace as
the best gives another figure.
"""
import csv
import html
import json
import os
import re
import shutil
import statistics
import sys

# (platform, trace, run name, policy, clock, energy source, mean us, p99 us, per-query
# latency us (every query), served accuracy, far energy uJ)
CPU_CLOCK = "virtual:modelled-service-times(profile p50 per SubNet and SubGraph)"
FPGA_CLOCK = "virtual:model(fpga cycles at 200 MHz)"
CPU_ENERGY = "model:horowitz45-fp32(mac=4.6pJ,far=160pJ/B,near=1.25pJ/B)"
FPGA_ENERGY = "model:zcu104-int8(mac=0.2pJ,far=100pJ/B,near=1pJ/B)"
MCU_CLOCK = "virtual:emulated(qemu -icount, h743 cycle model)"
MCU_ENERGY = "model:h743-int8(mac=1pJ,far=50pJ/B,near=2pJ/B)"
RUNS = [
    ("cpu", "a", "cpu-a-sushi@1", "sushi", CPU_CLOCK, CPU_ENERGY, 70.0, 95.0, 78.0, 0.8801, 200.0),
    ("cpu", "a", "cpu-a-sushi@2", "sushi", CPU_CLOCK, CPU_ENERGY, 80.0, 85.0, 82.0, 0.8803, 226.0),
    ("cpu", "a", "cpu-a-nocache", "nocache", CPU_CLOCK, CPU_ENERGY, 100.0, 120.0, 100.0, 0.8704, 1000.0),
    ("cpu", "a", "cpu-a-largest", "largest", CPU_CLOCK, CPU_ENERGY, 10.0, 10.0, 10.0, 0.99, 1.0),
    ("cpu", "b", "cpu-b-sushi", "sushi", CPU_CLOCK, CPU_ENERGY, 90.0, 100.0, 88.0, 0.8600, 600.0),
    ("cpu", "b", "cpu-b-nocache", "nocache", CPU_CLOCK, CPU_ENERGY, 100.0, 100.0, 110.0, 0.8700, 1000.0),
    ("fpga", "a", "fpga-a-sushi", "sushi", FPGA_CLOCK, FPGA_ENERGY, 50.0, 60.0, 50.0, 0.9000, 10.0),
    ("fpga", "a", "fpga-a-nocache", "nocache", FPGA_CLOCK, FPGA_ENERGY, 200.0, 240.0, 180.0, 0.8800, 100.0),
    ("mcu", "a", "mcu-a-sushi", "sushi", MCU_CLOCK, MCU_ENERGY, 900.0, 990.0, 950.0, 0.8500, 50.0),  # no nocache
]
# NeuLens: the ARAC benchmark's headline (bench/arac/report.py's "headline"); None = no point
ARAC_HEADLINE = {
    "untiled": {"max_latency_reduction": 0.4321, "signed_best_latency_reduction": 0.4321,
                "max_accuracy_gain_relative": 0.1249, "max_accuracy_gain_points": 9.87,
                "signed_best_accuracy_gain_points": 9.87},
    "downsampled": {"max_latency_reduction": None, "signed_best_latency_reduction": -0.0512,
                    "max_accuracy_gain_relative": None, "max_accuracy_gain_points": None,
                    "signed_best_accuracy_gain_points": None},
}
ARAC_LATENCY = "p50 (and p99) over the same inferences that give top-1; measured: planted"


def write_json(path, obj):
    with open(path + ".tmp", "w") as f:
        json.dump(obj, f, indent=1)
    os.replace(path + ".tmp", path)


def plant(template, out):
    if os.path.exists(out):
        shutil.rmtree(out)
    for plat, trace, name, policy, clock, esrc, mean, p99, lat, acc, far in RUNS:
        d = os.path.join(out, "runs", name)
        shutil.copytree(template, d)
        with open(os.path.join(d, "context.json")) as f:
            ctx = json.load(f)
        ctx["platform"]["name"] = plat
        ctx["clock"] = clock
        ctx["run"]["policy"] = policy
        ctx["run"]["trace"] = f"/nonexistent/planted/{trace}.csv"
        write_json(os.path.join(d, "context.json"), ctx)
        with open(os.path.join(d, "policy.json")) as f:
            pol = json.load(f)
        pol["policy"] = policy
        write_json(os.path.join(d, "policy.json"), pol)
        with open(os.path.join(d, "summary.json")) as f:
            s = json.load(f)
        s["served_accuracy"] = acc
        s["latency_us"]["mean"] = mean
        s["latency_us"]["p99"] = p99
        s["energy"]["source"] = esrc
        s["energy"]["domains_uj"]["far"] = far
        write_json(os.path.join(d, "summary.json"), s)
        with open(os.path.join(d, "queries.csv")) as f:
            rows = list(csv.DictReader(f))
        fields = list(rows[0].keys())
        for r in rows:
            r["latency_ns"] = str(int(lat * 1000))
            r["end_ns"] = str(int(r["start_ns"]) + int(lat * 1000))
        with open(os.path.join(d, "queries.csv.tmp"), "w", newline="") as f:
            w = csv.DictWriter(f, fields, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)
        os.replace(os.path.join(d, "queries.csv.tmp"), os.path.join(d, "queries.csv"))
    os.makedirs(os.path.join(out, "arac"))
    write_json(os.path.join(out, "arac", "arac.json"), {"latency": ARAC_LATENCY, "headline": ARAC_HEADLINE})
    write_json(os.path.join(out, "expected.json"), expected())


def mean_of(plat, trace, policy, k):
    v = [r[k] for r in RUNS if r[0] == plat and r[1] == trace and r[3] == policy]
    return statistics.mean(v) if v else None


def expected():
    """The claim rows as reports/README.md defines them, from RUNS and ARAC_HEADLINE."""
    MEAN, P99, LAT, ACC, FAR = 6, 7, 8, 9, 10
    rows = []
    for plat in dict.fromkeys(r[0] for r in RUNS):
        traces = [t for t in dict.fromkeys(r[1] for r in RUNS if r[0] == plat)
                  if mean_of(plat, t, "sushi", MEAN) is not None and mean_of(plat, t, "nocache", MEAN) is not None]
        clock = next(r[4] for r in RUNS if r[0] == plat)
        kind = "measured" if clock.startswith(("wall:", "virtual:measured")) else \
            "emulated" if "emulat" in clock or "icount" in clock else "model"
        esrc = next(r[5] for r in RUNS if r[0] == plat and r[3] == "sushi")
        if not traces:
            rows.append(f"not run (needs a sushi and a nocache run of one trace) || {kind} ({clock})")
            rows.append("not run || measured: accuracy table (CF-64 test split)")
            rows.append(f"not run (or the energy source is not split) || {esrc}")
            continue

        def per(k, ratio):
            out = []
            for t in traces:
                s, c = mean_of(plat, t, "sushi", k), mean_of(plat, t, "nocache", k)
                out.append((t, 1.0 - s / c if ratio else s - c))
            return out

        lat, p50, p99 = per(MEAN, True), per(LAT, True), per(P99, True)
        acc, far = per(ACC, False), per(FAR, True)
        best = lambda v: max(v, key=lambda x: x[1])   # first of equals, in trace order
        lt, lv = best(lat)
        rows.append(f"up to {100 * lv:.1f} % on mean latency (trace {lt}); best p50 {100 * best(p50)[1]:.1f} %, "
                    f"best p99 {100 * best(p99)[1]:.1f} %; mean per trace: "
                    + "; ".join(f"{t} {100 * v:+.1f} %" for t, v in lat)
                    + f" || {kind} ({clock})")
        at, av = best(acc)
        rows.append(f"up to {100 * av:+.2f} points (trace {at}); per trace: "
                    + "; ".join(f"{t} {100 * v:+.2f} pt" for t, v in acc)
                    + " || measured: accuracy table (CF-64 test split)")
        ft, fv = best(far)
        rows.append(f"up to {100 * fv:.1f} % (trace {ft}); per trace: "
                    + "; ".join(f"{t} {100 * v:+.1f} %" for t, v in far) + f" || {esrc}")
    u, d = ARAC_HEADLINE["untiled"], ARAC_HEADLINE["downsampled"]

    def red(h):
        if h["max_latency_reduction"] is not None:
            return f"up to {100 * h['max_latency_reduction']:.1f} %"
        if h["signed_best_latency_reduction"] is None:
            return "none (no point reaches a baseline's top-1)"
        return f"none (best signed {100 * h['signed_best_latency_reduction']:+.1f} %)"

    def gain(h, points):
        if h["max_accuracy_gain_relative"] is not None:
            return f"up to {100 * h['max_accuracy_gain_relative']:.1f} % relative" + \
                (f" ({h['signed_best_accuracy_gain_points']:+.2f} points)" if points else "")
        if h["signed_best_accuracy_gain_points"] is None:
            return "none (no point is as fast as a baseline)"
        return f"none (best signed {h['signed_best_accuracy_gain_points']:+.2f} points)"

    rows.append(f"vs untiled SubNets: {red(u)}; vs downsampled inputs: {red(d)} || measured: {ARAC_LATENCY}")
    rows.append(f"vs untiled SubNets: {gain(u, False)}; vs downsampled inputs: {gain(d, True)} || "
                f"measured: top-1 on the CF-64 test split; {ARAC_LATENCY}")
    return rows


def rendered(report_dir):
    """(markdown rows, html rows): 'figure || source' of each reproduction row."""
    with open(os.path.join(report_dir, "report.md")) as f:
        md = f.read()
    sec = md.split("## Reproduction", 1)[1].split("\n## ", 1)[0]
    md_rows = []
    for line in sec.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        if len(cells) == 5 and cells[0] in ("SUSHI", "NeuLens"):
            md_rows.append(f"{cells[3]} || {cells[4]}")
    with open(os.path.join(report_dir, "report.html")) as f:
        page = f.read()
    m = re.search(r'<table id="reproduction">.*?<tbody>(.*?)</tbody>', page, re.S)
    html_rows = []
    for tr in re.findall(r"<tr>(.*?)</tr>", m.group(1) if m else "", re.S):
        tds = re.findall(r"<td>(.*?)</td>", tr, re.S)
        src = re.sub(r'^<span class="src [a-z-]+">[a-z-]+</span> ', "", tds[4]) if len(tds) == 5 else ""
        if len(tds) == 5:
            html_rows.append(f"{html.unescape(tds[3])} || {html.unescape(src)}")
    return md_rows, html_rows


def check(out, report_dir, no_arac=False):
    with open(os.path.join(out, "expected.json")) as f:
        want = json.load(f)
    if no_arac:
        want[-2:] = ["not run (supernav report --arac results/arac/<run>) || -", "not run || -"]
    md_rows, html_rows = rendered(report_dir)
    bad = 0
    for where, got in (("report.md", md_rows), ("report.html", html_rows)):
        if len(got) != len(want):
            print(f"{where}: {len(got)} claim rows, expected {len(want)}")
            bad += 1
        for i, (g, w) in enumerate(zip(got, want)):
            if g != w:
                print(f"{where} row {i + 1}:\n  got      {g}\n  expected {w}")
                bad += 1
    print(f"{len(want)} claim rows as expected in report.md and report.html" if not bad else
          f"{bad} differences from the {len(want)} expected claim rows")
    return 1 if bad else 0


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "plant":
        plant(sys.argv[2], sys.argv[3])
    elif len(sys.argv) in (4, 5) and sys.argv[1] == "check" and sys.argv[4:] in ([], ["--no-arac"]):
        sys.exit(check(sys.argv[2], sys.argv[3], len(sys.argv) == 5))
    else:
        print(__doc__.split("\n\n")[1], file=sys.stderr)
        sys.exit(2)
