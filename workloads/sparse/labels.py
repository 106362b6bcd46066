#!/usr/bin/python3
"""Gate phase 2, step 1: correctness labels for the CF-128S multi-level gate (README.md,
"Gate phase 2").

For each label canvas (train canvases of LABEL_SEED: never training (100), validation
(9001), calibration (9002, 9003) or test (6)), each grid G and each tile t: the **lowest
trained level** at which the base's prediction stays right with t at that level and every
other tile at 100, tried from SKIP upward (SKIP, 25, 50, 75; a tile right at none of them
gets 100). Canvases the all-100 config gets wrong get label -1 on every tile (ignored).

The semantics are the deployed model's: the BN statistics are those export.py calibrates
for the config arac-p{P}-g{G}-{M}-t{T}-l100.75.50.25.0:{base} (its AracRunner on the export's
512 calibration canvases: prefix statistics per level, tail statistics under the phase-1
gate at threshold T). Mode h only: the prefix runs once per level on the whole canvas (equal
to halo'd micro-flows) and only the tail is re-run per trial; the trials of a chunk of
canvases at one level run as one batch of tails.

Output: WORK/labels-{family}-{chunk}.pt per chunk of CHUNK canvases ({"levels": {G: N x G x
G int8 label indices into ARAC_LEVELS, -1 = ignored}, "first", "count", "tails": tail passes
run, "cpu_s", "wall_s"}); chunks already written are skipped (resumable).
"""
import argparse
import os
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "supernet"))
import data  # noqa: E402
import sparse as sp  # noqa: E402
import importlib.util  # noqa: E402
_spec = importlib.util.spec_from_file_location("sparse_export", os.path.join(HERE, "export.py"))
ex = importlib.util.module_from_spec(_spec)   # this folder's export.py (not workloads/supernet's)
_spec.loader.exec_module(ex)

LABEL_SEED = 9004
CALIB_SEED = ex.CALIB_SEED
SKIP_I = sp.ARAC_LEVELS.index(sp.SKIP)
# trial order: SKIP first, upward (indices into ARAC_LEVELS: 100, 75, 50, 25, 0)
TRIALS = [SKIP_I, 3, 2, 1]


def level_features(model, runners, x, split):
    """The prefix's output at every computed trained level (mode h: the whole canvas, each
    level's calibrated statistics), padded to the split's channels; with the channel count,
    the SKIP vector and the map's side. Call under torch.no_grad()."""
    first = next(iter(runners.values()))
    c = sp.STAGES[split - 1][0]
    prefix = first._patched_prefix()
    feats = {}
    for li, level in enumerate(sp.ARAC_LEVELS):
        if level == sp.SKIP:
            continue
        f = prefix(x, first.acfg.subnet, split, level)
        if f.shape[1] < c:
            f = torch.nn.functional.pad(f, (0, 0, 0, 0, 0, c - f.shape[1]))
        feats[li] = f
    return c, feats, model.skip[str(split)].view(c, 1, 1), feats[0].shape[-1]


def label_chunk(model, runners, x, y, split, grids, tail_batch):
    """x: N x 1 x 128 x 128, y: N. Returns ({G: N x G x G int8}, tail passes)."""
    tails, out = 0, {}
    with torch.no_grad():
        c, feats, skipv, side = level_features(model, runners, x, split)
        for g in grids:
            r = runners[g]
            ex.load_stats(model, r.tail_stats)
            base_logits = model.tail(feats[0], r.acfg.subnet, split)
            tails += len(x)
            right = base_logits.argmax(1) == y
            lab = torch.full((len(x), g, g), -1, dtype=torch.int8)
            ts = side // g
            pending = [(n, i, j) for n in range(len(x)) if right[n] for i in range(g) for j in range(g)]
            for li in TRIALS:
                if not pending:
                    break
                still = []
                for b0 in range(0, len(pending), tail_batch):
                    part = pending[b0:b0 + tail_batch]
                    idx = torch.tensor([p[0] for p in part])
                    z = feats[0].index_select(0, idx).clone()
                    for k, (n, i, j) in enumerate(part):
                        reg = (slice(i * ts, (i + 1) * ts), slice(j * ts, (j + 1) * ts))
                        if li == SKIP_I:
                            z[k, :, reg[0], reg[1]] = skipv
                        else:
                            z[k, :, reg[0], reg[1]] = feats[li][n, :, reg[0], reg[1]]
                    pred = model.tail(z, r.acfg.subnet, split).argmax(1)
                    tails += len(part)
                    for k, (n, i, j) in enumerate(part):
                        if pred[k] == y[n]:
                            lab[n, i, j] = li
                        else:
                            still.append((n, i, j))
                pending = still
            for n, i, j in pending:
                lab[n, i, j] = 0
            out[g] = lab
    return out, tails


def box_order(boxes, g, canvas=sp.CANVAS):
    """Per canvas, the G*G tiles in the greedy order: tiles that miss the object's box first,
    farthest from its centre first, then the box's tiles by overlap area, smallest first."""
    t = canvas // g
    orders = []
    for bx, by, bw, bh in boxes.astype(np.int64):
        cx, cy = bx + bw / 2, by + bh / 2
        keys = []
        for i in range(g):
            for j in range(g):
                ov = max(0, min(by + bh, (i + 1) * t) - max(by, i * t)) * max(0, min(bx + bw, (j + 1) * t) - max(bx, j * t))
                d = ((i + 0.5) * t - cy) ** 2 + ((j + 0.5) * t - cx) ** 2
                keys.append((ov, -d, i, j))
        orders.append([(k[2], k[3]) for k in sorted(keys)])
    return orders


def greedy_chunk(model, runners, x, y, boxes, split, grids, tail_batch):
    """Joint labels: per canvas, tiles in box_order; each tile gets the lowest level (SKIP
    first, upward) at which the prediction stays right with the tiles before it at their
    labels and the tiles after it at 100. The final assignment itself keeps the prediction
    right (by construction). One trial per canvas runs per batch (the trials of a canvas are
    sequential)."""
    tails, out = 0, {}
    with torch.no_grad():
        c, feats, skipv, side = level_features(model, runners, x, split)
        for g in grids:
            r = runners[g]
            ex.load_stats(model, r.tail_stats)
            right = model.tail(feats[0], r.acfg.subnet, split).argmax(1) == y
            tails += len(x)
            lab = torch.full((len(x), g, g), -1, dtype=torch.int8)
            ts = side // g
            cur = feats[0].clone()
            orders = box_order(boxes, g)
            live = [n for n in range(len(x)) if right[n]]
            for n in live:
                lab[n] = 0
            for k in range(g * g):
                pending = live
                for li in TRIALS:
                    if not pending:
                        break
                    still = []
                    for b0 in range(0, len(pending), tail_batch):
                        part = pending[b0:b0 + tail_batch]
                        z = cur.index_select(0, torch.tensor(part)).clone()
                        for q, n in enumerate(part):
                            i, j = orders[n][k]
                            rs, cs = slice(i * ts, (i + 1) * ts), slice(j * ts, (j + 1) * ts)
                            z[q, :, rs, cs] = skipv if li == SKIP_I else feats[li][n, :, rs, cs]
                        pred = model.tail(z, r.acfg.subnet, split).argmax(1)
                        tails += len(part)
                        for q, n in enumerate(part):
                            if pred[q] == y[n]:
                                i, j = orders[n][k]
                                lab[n, i, j] = li
                                cur[n] = z[q]
                            else:
                                still.append(n)
                    pending = still
            out[g] = lab
    return out, tails


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--supernav", default="build/supernav")
    ap.add_argument("--weights", default="/work/ckpt/sparse/final.pt")
    ap.add_argument("--work", default="/work/ckpt/sparse-gate2")
    ap.add_argument("--base", default=ex.BIG)
    ap.add_argument("--split", type=int, default=1)
    ap.add_argument("--mode", default="h", choices=["h"])
    ap.add_argument("--kind", default="single", choices=["single", "greedy"],
                    help="single: the plan's labels (one tile lowered, the others at 100); greedy: joint labels "
                         "(tiles lowered in box order, each given the ones before it)")
    ap.add_argument("--grids", type=int, nargs="*", default=[4, 8])
    ap.add_argument("--threshold", type=int, default=90, help="T of the config whose tail statistics are used")
    ap.add_argument("--count", type=int, default=400, help="label canvases (the first COUNT of seed LABEL_SEED)")
    ap.add_argument("--chunk", type=int, default=16)
    ap.add_argument("--tail-batch", type=int, default=256)
    ap.add_argument("--calib-count", type=int, default=512)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--log", default=None)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    os.makedirs(args.work, exist_ok=True)
    model = sp.SparseSuperNet()
    steps = ex.load_weights(model, args.weights)
    model.eval()
    base = sp.SubNetConfig.parse(args.base)
    calib, _, _ = data.generate(args.supernav, sp.TASK, "train", CALIB_SEED, args.calib_count,
                                os.path.join(args.work, "calib"))
    images, labels, boxes = data.generate(args.supernav, sp.TASK, "train", LABEL_SEED, args.count,
                                      os.path.join(args.work, f"label{args.count}"))
    fam = f"p{args.split}{args.mode}-{args.kind}"
    t0 = time.time()
    runners, cache = {}, {}
    for g in args.grids:
        a = sp.AracConfig(args.split, g, args.threshold, (100, 75, 50, 25, 0), base, args.mode)
        runners[g] = ex.AracRunner(model, a)
        runners[g].calibrate(calib, cache)
    ex.log(args.log, f"labels {fam}: weights {steps} steps, base {base}, grids {args.grids}, BN of "
                     f"{', '.join(str(r.acfg) .split(':')[0] for r in runners.values())} calibrated on "
                     f"{len(calib)} canvases ({time.time() - t0:.0f} s); {len(images)} label canvases, seed {LABEL_SEED}")
    for first in range(0, len(images), args.chunk):
        path = os.path.join(args.work, f"labels-{fam}-{first:06d}.pt")
        if os.path.exists(path):
            continue
        w0, c0 = time.time(), time.process_time()
        n = min(args.chunk, len(images) - first)
        x = ex.to_x(images[first:first + n])
        y = torch.from_numpy(labels[first:first + n].astype(np.int64))
        if args.kind == "single":
            lab, tails = label_chunk(model, runners, x, y, args.split, args.grids, args.tail_batch)
        else:
            lab, tails = greedy_chunk(model, runners, x, y, boxes[first:first + n], args.split, args.grids,
                                      args.tail_batch)
        rec = {"levels": lab, "first": first, "count": n, "tails": tails, "wall_s": time.time() - w0,
               "cpu_s": time.process_time() - c0, "family": fam, "kind": args.kind, "base": str(base), "seed": LABEL_SEED,
               "steps": steps, "bn_configs": [str(r.acfg) for r in runners.values()]}
        torch.save(rec, path + ".tmp")
        os.replace(path + ".tmp", path)
        hist = {g: np.bincount((v[v >= 0].numpy().astype(np.int64)), minlength=5).tolist() for g, v in lab.items()}
        ex.log(args.log, f"labels {fam}: canvases {first}-{first + n - 1}: {tails} tail passes, "
                         f"{rec['wall_s']:.1f} s wall, {rec['cpu_s']:.1f} cpu-s; label counts (100,75,50,25,skip) {hist}")


if __name__ == "__main__":
    main()
