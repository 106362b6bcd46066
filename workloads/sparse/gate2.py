#!/usr/bin/python3
"""Gate phase 2, step 2: trains the multi-level gate (sparse.Gate, the architecture the C
engine runs, unchanged) on the correctness labels of labels.py, the SuperNet frozen,
initialised from phase 1's gate (the checkpoint's), and measures it.

Per label family (labels.py's WORK/labels-{family}-*.pt): the label canvases are split by
index, the last --heldout share held out. The gate is trained full-batch (Adam) with
cross-entropy over the 5 levels (ignore -1) at grids 4 and 8; for comparison the same gate,
same canvases, same schedule, on the box proxy only (phase 1's target: tiles meeting the
object's box -> 100, the others -> SKIP). Reported on the held-out canvases: label accuracy
(argmax == label), and per threshold the rule's choice against the label (tiles run at or
above their label = "safe"; tiles at SKIP). Then config top-1, on the validation canvases
(export.py's: seed 9001) through the engine (a staging image per gate: the model's weights
with that gate, BN statistics of labels.py's calibration), of every gate at a few thresholds
and level sets, and on the held-out label canvases in PyTorch, the oracles: tiles meeting
the box at 100 and the rest SKIP ("oracle box"), and every tile at its own label at once
("oracle labels").

Writes WORK/gate-{family}.pt (the gate's state_dict; atomic) and WORK/gate2-{family}.json
(every figure; atomic). The training takes seconds (the gate reads a 16x16 pooled canvas):
no checkpointing is needed.
"""
import argparse
import glob
import json
import os
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "supernet"))
import data  # noqa: E402
import sparse as sp  # noqa: E402
import importlib.util  # noqa: E402
_spec = importlib.util.spec_from_file_location("sparse_export", os.path.join(HERE, "export.py"))
ex = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(ex)
_spec = importlib.util.spec_from_file_location("sparse_labels", os.path.join(HERE, "labels.py"))
lb = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(lb)

SKIP_I = sp.ARAC_LEVELS.index(sp.SKIP)
GRIDS = (4, 8)


def tile_box(boxes, g):
    """N x G x G bool: the tile meets the object's box (train.py's tile_object)."""
    t = sp.CANVAS // g
    b = torch.as_tensor(boxes.astype(np.int64))
    x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    lo = torch.arange(g) * t
    hi = lo + t
    rows = (y0[:, None] < hi[None]) & (y1[:, None] > lo[None])
    cols = (x0[:, None] < hi[None]) & (x1[:, None] > lo[None])
    return rows[:, :, None] & cols[:, None, :]


def load_labels(work, family):
    files = sorted(glob.glob(os.path.join(work, f"labels-{family}-*.pt")))
    if not files:
        sys.exit(f"gate2: no labels-{family}-*.pt in {work}")
    recs = [torch.load(f) for f in files]
    recs.sort(key=lambda r: r["first"])
    first = 0
    for r in recs:
        if r["first"] != first:
            sys.exit(f"gate2: labels of {family} not contiguous at canvas {first}")
        first += r["count"]
    levels = {g: torch.cat([r["levels"][g] for r in recs]).long() for g in GRIDS}
    cost = {"canvases": first, "tails": sum(r["tails"] for r in recs), "wall_s": sum(r["wall_s"] for r in recs),
            "cpu_s": sum(r["cpu_s"] for r in recs)}
    return levels, cost, recs[0]


def pooled_gate(gate, xp, grid):
    """sparse.Gate.forward after its first operation (the 8x8 average pool), on pooled canvases XP:
    the same computation, without re-pooling the 128x128 canvases at every iteration."""
    x = F.relu(gate.c1(xp))
    x = F.relu(gate.c2(x))
    return gate.out(F.adaptive_avg_pool2d(x, grid))


def train_gate(gate, x, targets, iters, lr):
    opt = torch.optim.Adam(gate.parameters(), lr=lr)
    xp = F.avg_pool2d(x, sp.GATE_POOL)
    for _ in range(iters):
        opt.zero_grad()
        loss = sum(F.cross_entropy(pooled_gate(gate, xp, g), targets[g], ignore_index=-1) for g in GRIDS) / len(GRIDS)
        loss.backward()
        opt.step()
    return float(loss)


def rule(p, levels_pct, t):
    """SparseSuperNet.gate_levels on probabilities P (N x L x G x G)."""
    trained = [sp.pct(l) for l in sp.ARAC_LEVELS]
    choice = torch.full(p.shape[:1] + p.shape[2:], trained.index(levels_pct[0]), dtype=torch.long)
    for lp in levels_pct[1:]:
        li = trained.index(lp)
        choice = torch.where(p[:, li:].sum(1) >= t / 100.0, torch.full_like(choice, li), choice)
    return choice


def label_metrics(gate, x, labels, thresholds):
    out = {}
    with torch.no_grad():
        for g in GRIDS:
            logits = gate(x, g)
            lab = labels[g]
            m = lab >= 0
            acc = float((logits.argmax(1)[m] == lab[m]).float().mean())
            per_t = {}
            for t in thresholds:
                ch = rule(F.softmax(logits, 1), (100, 75, 50, 25, 0), t)
                per_t[t] = {"safe": round(float((ch[m] <= lab[m]).float().mean()), 4),
                            "skip": round(float((ch[m] == SKIP_I).float().mean()), 4),
                            "high": round(float((ch[m] == 0).float().mean()), 4)}
            out[g] = {"label_acc": round(acc, 4), "tiles": int(m.sum()), "rule_l100.75.50.25.0": per_t}
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--supernav", default="build/supernav")
    ap.add_argument("--weights", default="/work/ckpt/sparse/final.pt")
    ap.add_argument("--work", default="/work/ckpt/sparse-gate2")
    ap.add_argument("--families", nargs="+", default=["p1h-greedy"])
    ap.add_argument("--heldout", type=float, default=0.2)
    ap.add_argument("--iters", type=int, default=600)
    ap.add_argument("--lr", type=float, default=3e-3)
    ap.add_argument("--val", default="/work/ckpt/sparse-export/val", help="validation canvases (export.py's)")
    ap.add_argument("--val-limit", type=int, default=1000)
    ap.add_argument("--thresholds", type=int, nargs="*", default=[50, 80, 90, 95, 98, 99])
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    model = sp.SparseSuperNet()
    steps = ex.load_weights(model, args.weights)
    model.eval()
    phase1 = {k: v.clone() for k, v in model.gate.state_dict().items()}
    base = sp.SubNetConfig.parse(ex.BIG)
    calib, _, _ = data.generate(args.supernav, sp.TASK, "train", lb.CALIB_SEED, 512, os.path.join(args.work, "calib"))
    cache, runners = {}, {}
    t0 = time.time()
    bn_path = os.path.join(args.work, f"bn-stats-{steps}.pt")     # this script's cache of the calibration
    saved = torch.load(bn_path) if os.path.exists(bn_path) else None
    for g in GRIDS:
        runners[g] = ex.AracRunner(model, sp.AracConfig(1, g, 90, (100, 75, 50, 25, 0), base, "h"))
        if saved:
            runners[g].level_stats, runners[g].tail_stats = saved[g]
        else:
            runners[g].calibrate(calib, cache)
    if not saved:
        torch.save({g: (r.level_stats, r.tail_stats) for g, r in runners.items()}, bn_path + ".tmp")
        os.replace(bn_path + ".tmp", bn_path)
    ex.log(args.log, f"gate2: BN statistics of the label configs calibrated ({time.time() - t0:.0f} s)")
    report = {"weights_steps": steps, "families": {}}
    gates = {"phase1": phase1}
    for fam in args.families:
        levels, cost, rec0 = load_labels(args.work, fam)
        n = cost["canvases"]
        # the label canvases: the first N of seed LABEL_SEED (canvas i depends on (seed, i) only, so
        # any generated count >= N holds them)
        have = sorted((int(os.path.basename(f)[5:].split("-")[0]), f[:-len("-images-idx3-ubyte")])
                      for f in glob.glob(os.path.join(args.work, "label*-images-idx3-ubyte")))
        have = [h for h in have if h[0] >= n]
        images, ylab, boxes = data.load_canvases(have[0][1]) if have else \
            data.generate(args.supernav, sp.TASK, "train", lb.LABEL_SEED, n, os.path.join(args.work, f"label{n}"))
        images, ylab, boxes = images[:n], ylab[:n], boxes[:n]
        x = ex.to_x(images[:n])
        n_tr = int(round(n * (1 - args.heldout)))
        tr, ho = slice(0, n_tr), slice(n_tr, n)
        hist = {g: np.bincount(levels[g][levels[g] >= 0].numpy(), minlength=5).tolist() for g in GRIDS}
        dropped = int((levels[4][:, 0, 0] < 0).sum())
        fr = {"cost": cost, "label_counts_100_75_50_25_skip": hist, "canvases_wrong_at_100": dropped,
              "train_canvases": n_tr, "heldout_canvases": n - n_tr, "kind": rec0.get("kind"),
              "bn_configs": rec0["bn_configs"], "seed": rec0["seed"]}
        ex.log(args.log, f"gate2 {fam}: {n} canvases ({dropped} wrong at 100, ignored), {cost['tails']} tail passes, "
                         f"{cost['wall_s']:.0f} s wall, {cost['cpu_s']:.0f} cpu-s; label counts {hist}")
        box_t = {g: torch.where(tile_box(boxes[:n], g), 0, SKIP_I) for g in GRIDS}
        res = {}
        for name, targets in (("labels", levels), ("box", box_t)):
            model.gate.load_state_dict(phase1)
            t1 = time.time()
            loss = train_gate(model.gate, x[tr], {g: targets[g][tr] for g in GRIDS}, args.iters, args.lr)
            res[name] = {"train_loss": round(loss, 4), "train_s": round(time.time() - t1, 1),
                         "heldout": label_metrics(model.gate, x[ho], {g: levels[g][ho] for g in GRIDS},
                                                  args.thresholds)}
            gates[f"{fam}:{name}"] = {k: v.clone() for k, v in model.gate.state_dict().items()}
            if name == "labels":
                path = os.path.join(args.work, f"gate-{fam}.pt")
                torch.save(gates[f"{fam}:{name}"], path + ".tmp")
                os.replace(path + ".tmp", path)
            ex.log(args.log, f"gate2 {fam}: gate trained on {name}: loss {loss:.4f}, held-out "
                             + json.dumps(res[name]["heldout"]))
        model.gate.load_state_dict(phase1)
        res["phase1"] = {"heldout": label_metrics(model.gate, x[ho], {g: levels[g][ho] for g in GRIDS},
                                                  args.thresholds)}
        ex.log(args.log, f"gate2 {fam}: phase-1 gate, held-out " + json.dumps(res["phase1"]["heldout"]))
        # oracles on the held-out label canvases (PyTorch, the label configs' BN statistics)
        xo = x[ho]
        yo = torch.from_numpy(ylab[:n][ho].astype(np.int64))
        orc = {}
        for g in GRIDS:
            r = runners[g]
            full = torch.zeros(len(xo), g, g, dtype=torch.long)
            boxl = box_t[g][ho]
            labl = levels[g][ho].clone()
            labl[labl < 0] = 0
            for oname, tl in (("all100", full), ("box", boxl), ("labels", labl)):
                with torch.no_grad():
                    pred = torch.cat([r(xo[i:i + 64], tile_levels=tl[i:i + 64])[0].argmax(1)
                                      for i in range(0, len(xo), 64)])
                orc[f"g{g}-{oname}"] = {"top1": round(100 * float((pred == yo).float().mean()), 2),
                                        "skip": round(float((tl == SKIP_I).float().mean()), 4),
                                        "high": round(float((tl == 0).float().mean()), 4)}
        res["oracles_heldout_pytorch"] = orc
        ex.log(args.log, f"gate2 {fam}: oracles on {len(xo)} held-out canvases: " + json.dumps(orc))
        fr["results"] = res
        report["families"][fam] = fr
    # config top-1 on the validation canvases through the engine, one staging image per gate
    val_cfgs = [sp.AracConfig(1, g, t, lv, base, "h") for g in GRIDS for lv in ((100, 50, 25, 0),)
                for t in (80, 90, 95, 98, 99)]
    eng = {}
    eargs = argparse.Namespace(work=args.work, supernav=args.supernav)
    for gname, st in gates.items():
        model.gate.load_state_dict(st)
        ents = []
        for a in val_cfgs:
            r = ex.AracRunner(model, a)
            r.level_stats = {lp: runners[a.grid].level_stats[lp] for lp in a.levels_pct if lp}
            r.tail_stats = runners[a.grid].tail_stats
            ents.append(("arac", str(a), r))
        t1 = time.time()
        meas = ex.engine_measure(eargs, model, steps, ents, args.val, args.val_limit, name="gate2-staging")
        eng[gname] = {str(a).split(":")[0]: {"macs_M": round(m / 1e6, 2), "top1": round(acc, 2)}
                      for a, (m, acc, _) in zip(val_cfgs, meas)}
        ex.log(args.log, f"gate2: engine, gate {gname}, {len(val_cfgs)} configs on {args.val_limit} validation "
                         f"canvases ({time.time() - t1:.0f} s): " + json.dumps(eng[gname]))
    model.gate.load_state_dict(phase1)
    report["engine_val"] = {"note": "top-1 and mean MACs on validation canvases (seed 9001) through the engine; "
                                    "BN statistics of the label configs (tail calibrated under the phase-1 gate at "
                                    "T 90), not each config's own: the export recalibrates", "results": eng}
    out = os.path.join(args.work, f"gate2-{'+'.join(args.families)}.json")
    with open(out + ".tmp", "w") as f:
        json.dump(report, f, indent=1)
    os.replace(out + ".tmp", out)
    ex.log(args.log, f"gate2: wrote {out}")


if __name__ == "__main__":
    main()
