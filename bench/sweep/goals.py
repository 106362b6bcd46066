#!/usr/bin/python3
"""Issue 19's goals, cell by cell, over a finished serving sweep (bench/sweep/fpga-serve.sweep).

usage: python3 bench/sweep/goals.py SWEEP_DIR [-o FILE.md]

A cell is one (trace, load, buf); its runs are one per policy. Reads each job's run
directory (summary.json, policy.json) through the sweep's manifest (sweep.json) and writes a
markdown report: per cell, every policy's SLO attainment; then each goal, MET or MISSED, with
the cells where it is missed and the figures that miss it:

  G1  sushi meets at least as many SLOs as every online peer (static-subgraph, lru,
      slackfit) in at least 90 % of the cells;
  G2  ... and strictly more than each of them in every cell whose constraints drift or whose
      arrivals burst (trace kinds sushi, sushi-ceiling, bursty);
  G3  against nocache (FPGA model): mean latency at least 25 % lower and off-chip energy at
      least 70 % lower (SUSHI: 25-32 %, 78.7 %), in the best cell and in how many cells.

The accuracy-mode goal (served top-1 +0.5 points over static-subgraph at equal or better SLO
attainment) needs replays with --choice accuracy: not part of this sweep, reported as not
evaluated. Figures are MODELLED (the FPGA cycle model, virtual time)."""
import json
import os
import sys

ONLINE_PEERS = ["static-subgraph", "lru", "slackfit"]
DRIFT_OR_BURST = {"sushi", "sushi-ceiling", "bursty"}


def load(path):
    with open(path) as f:
        return json.load(f)


def main(argv):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(__doc__)
        return 2 if len(argv) < 2 else 0
    sweep = argv[1]
    out = argv[argv.index("-o") + 1] if "-o" in argv else None
    manifest = load(os.path.join(sweep, "sweep.json"))
    cells, missing = {}, []
    for job in manifest["jobs"]:
        v = job["values"]
        run = os.path.join(sweep, "runs", job["id"])
        try:
            s = load(os.path.join(run, "summary.json"))
            p = load(os.path.join(run, "policy.json"))
        except (OSError, ValueError):
            missing.append(job["id"])
            continue
        key = (v["trace"], float(v["load"]), int(v["buf"]))
        cells.setdefault(key, {})[v["policy"]] = {
            "slo": s["slo_attainment"],
            "mean": s["latency_us"]["mean"],
            "served": s["served_accuracy"],
            "offchip": (p.get("fpga") or {}).get("energy_offchip_uj", p.get("energy_offchip_uj")),
            "switches": p.get("subgraph_switches", 0),
        }
    if missing:
        print("goals: %d of %d jobs have no run yet (%s...): run 'supernav sweep run %s' first"
              % (len(missing), len(manifest["jobs"]), missing[0], sweep), file=sys.stderr)
        return 1
    policies = ["sushi"] + ONLINE_PEERS + ["nocache", "static-hindsight"]
    lines = ["# Issue 19's goals on %s (MODELLED: FPGA cycle model, virtual time)" % manifest["name"], "",
             "Sweep `%s`, %d runs. SLO attainment in percent per cell; best online policy in bold." %
             (sweep, len(manifest["jobs"])), "",
             "| trace | load | buf KiB | " + " | ".join(policies) + " |",
             "|---|---:|---:|" + "---:|" * len(policies)]
    g1_ok, g2_cells, g2_bad, g1_bad, g3 = 0, 0, [], [], []
    for key in sorted(cells):
        c = cells[key]
        best_online = max(c[p]["slo"] for p in ["sushi"] + ONLINE_PEERS if p in c)
        row = []
        for p in policies:
            if p not in c:
                row.append("-")
                continue
            t = "%.1f" % (100 * c[p]["slo"])
            row.append("**%s**" % t if p != "nocache" and p != "static-hindsight" and c[p]["slo"] == best_online else t)
        lines.append("| %s | %.1f | %d | %s |" % (key[0], key[1], key[2], " | ".join(row)))
        peers_best = max(c[p]["slo"] for p in ONLINE_PEERS)
        if c["sushi"]["slo"] >= peers_best:
            g1_ok += 1
        else:
            g1_bad.append((key, c["sushi"]["slo"], max(ONLINE_PEERS, key=lambda p: c[p]["slo"]), peers_best))
        if key[0] in DRIFT_OR_BURST:
            g2_cells += 1
            if not c["sushi"]["slo"] > peers_best:
                g2_bad.append(key)
        nc = c["nocache"]
        if nc["mean"] and nc["offchip"]:
            g3.append((1 - c["sushi"]["mean"] / nc["mean"], 1 - c["sushi"]["offchip"] / nc["offchip"], key))
    n = len(cells)
    lines += ["", "## Goals", ""]
    frac = g1_ok / n if n else 0
    lines.append("* **G1** sushi >= every online peer (static-subgraph, lru, slackfit) in >= 90 %% of cells: "
                 "**%s** -- %d of %d cells (%.0f %%)." % ("MET" if frac >= 0.9 else "MISSED", g1_ok, n, 100 * frac))
    for key, s, who, b in g1_bad:
        lines.append("  * missed at %s load %.1f buf %d: sushi %.1f %% < %s %.1f %%" % (key[0], key[1], key[2], 100 * s, who, 100 * b))
    lines.append("* **G2** sushi > every online peer where constraints drift or arrivals burst: **%s** -- "
                 "strictly more in %d of %d such cells." % ("MET" if not g2_bad else "MISSED", g2_cells - len(g2_bad), g2_cells))
    if g3:
        lat_best = max(g3, key=lambda x: x[0])
        en_best = max(g3, key=lambda x: x[1])
        both = [x for x in g3 if x[0] >= 0.25 and x[1] >= 0.70]
        lines.append("* **G3** vs nocache, mean latency >= 25 %% lower and off-chip energy >= 70 %% lower: **%s** -- "
                     "in %d of %d cells; best latency reduction %.1f %% (%s load %.1f buf %d), best off-chip energy "
                     "saving %.1f %% (%s load %.1f buf %d)." %
                     ("MET" if both else "MISSED", len(both), len(g3), 100 * lat_best[0], lat_best[2][0], lat_best[2][1],
                      lat_best[2][2], 100 * en_best[1], en_best[2][0], en_best[2][1], en_best[2][2]))
    lines.append("* **Accuracy mode** (+0.5 points top-1 over static-subgraph at equal or better SLO attainment): "
                 "not evaluated by this sweep (needs `--choice accuracy` replays).")
    text = "\n".join(lines) + "\n"
    if out:
        tmp = out + ".tmp"
        with open(tmp, "w") as f:
            f.write(text)
        os.replace(tmp, out)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
