#!/usr/bin/python3
"""After training: choose the Pareto SubNets, recalibrate batch norm per SubNet and per ARAC
config, measure top-1 on the CF-64 test split, and write the committed files:

  supernet.safetensors  shared weights + per-config BN statistics + gate; the architecture
                        spec and the list of calibrated configs in its metadata
  accuracy.csv          one row per Pareto SubNet and per evaluated ARAC config
  golden.safetensors    inputs, logits and intermediate tensors for the engine's tests

Selection uses a validation set cut from *train* canvases (seed VAL_SEED); the test split
is only used for the reported figures.
"""
import argparse
import csv
import io
import json
import os
import random
import struct
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import search  # noqa: E402
import supernet as sn  # noqa: E402
from search import pareto  # noqa: E402
from train import log, tile_critical  # noqa: E402

VAL_SEED, CALIB_SEED = 9001, 9002
CALIB_COUNT, CALIB_BATCH = 1024, 256
SCREEN_CALIB, SCREEN_VAL = 256, 500


# ---- safetensors (8-byte little-endian header length, JSON header, raw tensors) --------
write_safetensors = data.write_safetensors


def read_safetensors(path):
    """The tensors and metadata of a safetensors file (F32/I32/I64/U8 only)."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        blob = f.read()
    meta = header.pop("__metadata__", {})
    dts = {"F32": np.float32, "I32": np.int32, "I64": np.int64, "U8": np.uint8}
    out = {}
    for name, h in header.items():
        a, b = h["data_offsets"]
        arr = np.frombuffer(blob[a:b], dtype=np.dtype(dts[h["dtype"]]).newbyteorder("<"))
        out[name] = torch.from_numpy(arr.astype(dts[h["dtype"]]).reshape(h["shape"]))
    return out, meta


def load_weights(model, path):
    """Trained weights from a checkpoint (final.pt) or from an interchange file written by an
    earlier export (its shared tensors; the per-config calib.* statistics are recomputed).
    Returns the training step count."""
    if path.endswith(".safetensors"):
        tensors, meta = read_safetensors(path)
        state = {k: v for k, v in tensors.items() if not k.startswith("calib.")}
        missing, unexpected = model.load_state_dict(state, strict=False)
        missing = [k for k in missing if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))]
        if missing or unexpected:
            sys.exit(f"export: {path}: missing {missing[:3]} unexpected {unexpected[:3]}")
        return json.loads(meta["supernav_spec"])["trained"]["steps"]
    ck = torch.load(path)
    model.load_state_dict(ck["model"])
    return ck.get("step")


# ---- geometry shared with the engine -------------------------------------------------
def prefix_layers(cfg, level):
    """(name, kernel, stride, in_c, out_c, depthwise) of the prefix at a level."""
    c = sn.level_channels(sn.STEM_C, level)
    layers = [("stem", 3, 2, 1, c, False)]
    for s, b, i in cfg.blocks():
        if s >= sn.ARAC_STAGES:
            break
        out_c, _, _, stride = sn.STAGES[s]
        blk_in = sn.STEM_C if (s == 0 and b == 0) else (sn.STAGES[s - 1][0] if b == 0 else out_c)
        hid = sn.level_channels(blk_in * cfg.expands[i], level)
        oc = sn.level_channels(out_c, level)
        p = f"stages.{s}.{b}"
        layers += [(p + ".expand", 1, 1, c, hid, False),
                   (p + ".dw", cfg.kernels[i], stride if b == 0 else 1, hid, hid, True),
                   (p + ".project", 1, 1, hid, oc, False)]
        c = oc
    return layers


def tile_prefix_macs(cfg, level, grid, ty, tx, size=sn.CANVAS):
    """MACs of one tile's micro-flow: each layer computes only the region its tile needs
    (the receptive-field halo), clipped to the feature map."""
    layers = prefix_layers(cfg, level)
    sizes = [size]
    for _, k, st, _, _, _ in layers:
        sizes.append((sizes[-1] + 2 * (k // 2) - k) // st + 1)
    out = sizes[-1]
    t = out // grid
    r0, r1, c0, c1 = ty * t, (ty + 1) * t, tx * t, (tx + 1) * t
    total = 0
    for li in range(len(layers) - 1, -1, -1):
        _, k, st, cin, cout, dw = layers[li]
        total += (r1 - r0) * (c1 - c0) * cout * k * k * (1 if dw else cin)
        p = k // 2
        r0, r1 = max(0, r0 * st - p), min(sizes[li], (r1 - 1) * st - p + k)
        c0, c1 = max(0, c0 * st - p), min(sizes[li], (c1 - 1) * st - p + k)
    return total


def gate_macs(grid):
    g = sn.CANVAS // 4
    return g * g * sn.GATE_C * 9 + g * g * sn.GATE_C * sn.GATE_C * 9 + grid * grid * sn.GATE_C


def arac_macs(acfg, tile_levels):
    """Mean MACs per sample for N x G x G level indices."""
    cfg, g = acfg.subnet, acfg.grid
    per = {}
    total = 0.0
    lv = tile_levels.numpy()
    for li, level in enumerate(sn.ARAC_LEVELS):
        for ty in range(g):
            for tx in range(g):
                key = (li, ty, tx)
                per[key] = tile_prefix_macs(cfg, level, g, ty, tx)
                total += per[key] * float((lv[:, ty, tx] == li).sum())
    _, h, w, c = sn.prefix_macs(sn.CANVAS, sn.CANVAS, cfg)
    return total / lv.shape[0] + sn.tail_macs(h, w, c, cfg) + gate_macs(g)


# ---- calibration and evaluation -------------------------------------------------------
def to_x(images):
    return torch.from_numpy(images.astype(np.float32) / 255.0)[:, None]


def bn_modules(model):
    return [(n, m) for n, m in model.named_modules() if isinstance(m, sn.ElasticBN)]


def calibrate(model, calib_images, run):
    """Recalibrates BN statistics with run(x) over the calibration canvases; returns
    {layer: (mean, var)} for the channels actually used."""
    mods = bn_modules(model)
    for _, m in mods:
        m.calibrating, m.calib_batches = True, 0
        m.running_mean.zero_()
        m.running_var.fill_(1.0)
        m.used = 0
    hooks = [m.register_forward_hook(lambda mod, inp, out: setattr(mod, "used", max(mod.used, out.shape[1])))
             for _, m in mods]
    with torch.no_grad():
        for i in range(0, len(calib_images), CALIB_BATCH):
            run(to_x(calib_images[i:i + CALIB_BATCH]))
    for h in hooks:
        h.remove()
    stats = {}
    for n, m in mods:
        m.calibrating = False
        if m.calib_batches:
            stats[n] = (m.running_mean[:m.used].clone(), m.running_var[:m.used].clone())
    return stats


def load_stats(model, stats):
    for n, m in bn_modules(model):
        if n in stats:
            mean, var = stats[n]
            m.running_mean[:len(mean)] = mean
            m.running_var[:len(var)] = var


def evaluate(model, images, labels, run, batch=500):
    correct = 0
    with torch.no_grad():
        for i in range(0, len(images), batch):
            out = run(to_x(images[i:i + batch]))
            correct += int((out.argmax(1).numpy() == labels[i:i + batch]).sum())
    return 100.0 * correct / len(images)


class AracRunner:
    """Runs an ARAC config with its per-level prefix statistics and its own tail statistics."""

    def __init__(self, model, acfg):
        self.model, self.acfg = model, acfg
        self.level_stats, self.tail_stats = {}, {}

    def calibrate(self, calib_images):
        m, a = self.model, self.acfg
        prefix_names = ["stem_bn"] + [n for n, _ in bn_modules(m) if n.startswith("stages.0.")]
        for level in sn.ARAC_LEVELS:
            st = calibrate(m, calib_images, lambda x: m.prefix(x, a.subnet, level))
            self.level_stats[level] = {k: v for k, v in st.items() if k in prefix_names}

        def run_tail(x):
            return self._forward(x, calibrate_tail=True)
        st = calibrate(m, calib_images, run_tail)
        self.tail_stats = {k: v for k, v in st.items() if k not in prefix_names and not k.startswith("gate")}

    def _forward(self, x, calibrate_tail=False, taps=None):
        """Gate, per-level prefixes (each in eval mode with its level's statistics), stitch,
        tail (with the config's tail statistics, or accumulating them when calibrating)."""
        m, a = self.model, self.acfg
        mods = dict(bn_modules(m))
        levels = m.gate_levels(x, a)
        feats = {}
        for li in sorted(set(int(v) for v in levels.unique())):
            level = sn.ARAC_LEVELS[li]
            for n, (mean, var) in self.level_stats[level].items():
                mods[n].running_mean[:len(mean)] = mean
                mods[n].running_var[:len(var)] = var
                mods[n].calibrating = False
            feats[level] = m.prefix(x, a.subnet, level)
        if 1.0 not in feats:
            ref = m.prefix(x[:1], a.subnet, 1.0)
            feats[1.0] = ref.new_zeros(x.shape[0], *ref.shape[1:])
        st = m.stitch(feats, levels, a.grid)
        if taps is not None:
            taps["stitched"] = st
        if not calibrate_tail:
            load_stats(m, self.tail_stats)
        return m.tail(st, a.subnet, taps), levels

    def __call__(self, x, taps=None):
        return self._forward(x, taps=taps)[0]


def refine(model, val, stats, count, calib_images, val_images, val_labels, rng, log_path):
    """search.refine over CF-64's space: each neighbour recalibrated and measured on the
    validation set like the finalists, its statistics kept in STATS."""
    def measure(child):
        st = calibrate(model, calib_images, lambda x: model(x, child))
        load_stats(model, st)
        stats[str(child)] = st
        return sn.subnet_macs(child), evaluate(model, val_images, val_labels, lambda x: model(x, child))
    search.refine(val, count, rng, sn, measure,
                  lambda done, front, s: log(log_path, f"refine: {done}/{count} neighbours, front of {front} ({s:.0f} s)"))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--supernav", default="build/supernav")
    ap.add_argument("--work", default="workloads/supernet/checkpoints")
    ap.add_argument("--weights", default=None,
                    help="trained weights: a checkpoint, or an interchange file (.safetensors) to re-run "
                         "the search and calibration on committed weights without retraining "
                         "(default: WORK/final.pt)")
    ap.add_argument("--out", default="workloads/supernet")
    ap.add_argument("--log", default="workloads/supernet/train.log")
    ap.add_argument("--test", default="data/canvas/cf64-test")
    ap.add_argument("--candidates", type=int, default=16, help="random candidates per MAC bucket")
    ap.add_argument("--buckets", type=int, default=64)
    ap.add_argument("--finalists", type=int, default=4, help="best screened SubNets per bucket measured on all validation canvases")
    ap.add_argument("--val-count", type=int, default=5000)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--search-cache", default=None,
                    help="the measured SubNets (finalists.json) of an earlier run of this search on the same "
                         "weights: skips screening (except the r64 candidates the ARAC bases are chosen from), "
                         "the finalists and the refinement")
    ap.add_argument("--refine", type=int, default=150,
                    help="neighbours of front members to measure after the finalists (local search; 0: none)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)

    model = sn.SuperNet()
    weights = args.weights or os.path.join(args.work, "final.pt")
    os.makedirs(args.work, exist_ok=True)
    steps = load_weights(model, weights)
    model.eval()
    log(args.log, f"export: weights from {weights} ({steps} training steps)")
    calib_images, _, _ = data.generate(args.supernav, "cf64", "train", CALIB_SEED, CALIB_COUNT,
                                       os.path.join(args.work, "calib"))
    val_images, val_labels, _ = data.generate(args.supernav, "cf64", "train", VAL_SEED, args.val_count,
                                              os.path.join(args.work, "val"))
    test_images, test_labels, test_boxes = data.load_canvases(args.test)
    log(args.log, f"export: calib {len(calib_images)}, val {len(val_images)}, test {len(test_images)} canvases")

    # 1. Candidates: random SubNets bucketed by MACs (log-spaced), plus the extremes.
    lo, hi, edges, cands = search.bucket_candidates(sn, sn.subnet_macs, args.buckets, args.candidates,
                                                    args.seed)
    log(args.log, f"search: {len(cands)} candidate SubNets in {args.buckets} MAC buckets [{lo/1e6:.2f}, {hi/1e6:.2f}] M")

    stats, val = {}, []
    if args.search_cache:
        # The ARAC bases are chosen from the screening of the r64 candidates within 60 % of the
        # largest's MACs: screen those (the same candidates, order and figures as a full run).
        t0 = time.time()
        screened = []
        for c in cands.values():
            if c.res != sn.CANVAS or sn.subnet_macs(c) > 0.60 * hi:
                continue
            st = calibrate(model, calib_images[:SCREEN_CALIB], lambda x: model(x, c))
            load_stats(model, st)
            acc = evaluate(model, val_images[:SCREEN_VAL], val_labels[:SCREEN_VAL], lambda x: model(x, c))
            screened.append((sn.subnet_macs(c), acc, c))
        with open(args.search_cache) as f:
            val = [(d["macs"], d["val_top1"], sn.SubNetConfig.parse(d["config"])) for d in json.load(f)]
        log(args.log, f"search: {len(val)} measured SubNets from {args.search_cache} (an earlier run of this "
                      f"search on the same weights); {len(screened)} r64 candidates screened for the ARAC bases "
                      f"({time.time() - t0:.0f} s)")
    else:
        # Quick screen on 1000 validation canvases, then the best per bucket on all of them.
        t0 = time.time()
        screened = []
        quick = min(SCREEN_VAL, len(val_images))
        for j, c in enumerate(cands.values()):
            st = calibrate(model, calib_images[:SCREEN_CALIB], lambda x: model(x, c))
            load_stats(model, st)
            acc = evaluate(model, val_images[:quick], val_labels[:quick], lambda x: model(x, c))
            screened.append((sn.subnet_macs(c), acc, c))
            if (j + 1) % 100 == 0:
                log(args.log, f"search: screened {j + 1}/{len(cands)} ({time.time() - t0:.0f} s)")
        finalists = []
        for bi in range(args.buckets):
            inb = [p for p in screened if edges[bi] <= p[0] < edges[bi + 1]]
            finalists += sorted(inb, key=lambda p: -p[1])[:args.finalists]
        for c in (sn.SubNetConfig.smallest(), sn.SubNetConfig.largest()):
            if str(c) not in {str(p[2]) for p in finalists}:
                finalists.append((sn.subnet_macs(c), 0.0, c))
        for macs, _, c in finalists:
            st = calibrate(model, calib_images, lambda x: model(x, c))
            load_stats(model, st)
            stats[str(c)] = st
            val.append((macs, evaluate(model, val_images, val_labels, lambda x: model(x, c)), c))
        if args.refine:
            refine(model, val, stats, args.refine, calib_images, val_images, val_labels,
                   random.Random(args.seed + 1), args.log)
        with open(os.path.join(args.work, "finalists.json.tmp"), "w") as f:
            json.dump([{"config": str(c), "macs": m, "val_top1": a} for m, a, c in val], f)
        os.replace(os.path.join(args.work, "finalists.json.tmp"), os.path.join(args.work, "finalists.json"))
    front = pareto(val)
    for must in (sn.SubNetConfig.smallest(), sn.SubNetConfig.largest()):
        if str(must) not in {str(p[2]) for p in front}:
            front.append([p for p in val if str(p[2]) == str(must)][0])
    front.sort(key=lambda p: p[0])
    for _, _, c in front:  # a cached search holds no statistics: recalibrate the front
        if str(c) not in stats:
            stats[str(c)] = calibrate(model, calib_images, lambda x: model(x, c))
    log(args.log, f"search: {len(val)} SubNets measured on validation, Pareto front of {len(front)}")

    # 2. Test accuracy of the Pareto SubNets.
    rows, calibs = [], []
    for macs, vacc, c in front:
        load_stats(model, stats[str(c)])
        acc = evaluate(model, test_images, test_labels, lambda x: model(x, c))
        rows.append({"kind": "subnet", "config": str(c), "macs": macs, "top1": f"{acc:.2f}",
                     "val_top1": f"{vacc:.2f}", "n": len(test_images), "high_tile_frac": ""})
        calibs.append(("subnet", str(c), stats[str(c)]))
        log(args.log, f"subnet {c}: {macs/1e6:.2f} M MACs, val {vacc:.2f} %, test {acc:.2f} %")

    # 3. ARAC configs on full-resolution SubNets.
    # Bases: the largest SubNet and, for budgets of 30/40/50/60 % of its MACs, the full-resolution
    # candidate with the best screening accuracy within the budget (ARAC needs r64; the
    # Pareto front may hold few r64 SubNets because lower resolutions are cheaper). Every
    # evaluated config is reported, with its validation and test top-1.
    largest = sn.SubNetConfig.largest()
    bases = {str(largest): largest}
    for frac in (0.30, 0.40, 0.50, 0.60):
        within = [p for p in screened if p[2].res == sn.CANVAS and p[0] <= frac * hi]
        if within:
            best = max(within, key=lambda p: (p[1], -p[0]))[2]
            bases[str(best)] = best
    bases = sorted(bases.values(), key=sn.subnet_macs)
    log(args.log, "arac bases: " + ", ".join(f"{c} ({sn.subnet_macs(c)/1e6:.2f} M)" for c in bases))
    aracs = []
    for base in bases:
        for g in (2, 4):
            for lvl in ((100, 25), (100, 50), (100, 75)):
                aracs.append(sn.AracConfig(g, 50, lvl[0], lvl[1], base))

    def arac_eval(r, images, labels):
        correct, levels_all = 0, []
        with torch.no_grad():
            for i in range(0, len(images), 500):
                out, lv = r._forward(to_x(images[i:i + 500]))
                correct += int((out.argmax(1).numpy() == labels[i:i + 500]).sum())
                levels_all.append(lv)
        return 100.0 * correct / len(images), torch.cat(levels_all)

    runners = {}
    for a in aracs:
        r = AracRunner(model, a)
        r.calibrate(calib_images)
        runners[str(a)] = r
        vacc, _ = arac_eval(r, val_images, val_labels)
        acc, lv = arac_eval(r, test_images, test_labels)
        macs = arac_macs(a, lv)
        hi_idx = sn.ARAC_LEVELS.index(a.high_pct / 100.0)
        frac = float((lv == hi_idx).float().mean())
        rows.append({"kind": "arac", "config": str(a), "macs": int(round(macs)), "top1": f"{acc:.2f}",
                     "val_top1": f"{vacc:.2f}", "n": len(test_images), "high_tile_frac": f"{frac:.3f}"})
        calibs.append(("arac", str(a), r))
        log(args.log, f"arac {a}: {macs/1e6:.2f} M MACs (mean), val {vacc:.2f} %, test {acc:.2f} %, high tiles {frac:.2f}")

    # 4. The interchange file.
    tensors = {n: p for n, p in model.state_dict().items() if not n.endswith(("running_mean", "running_var"))}
    spec_calibs = []
    for ci, (kind, cfgs, st) in enumerate(calibs):
        entry = {"id": ci, "kind": kind, "config": cfgs}
        if kind == "subnet":
            for n, (mean, var) in st.items():
                tensors[f"calib.{ci}.{n}.mean"], tensors[f"calib.{ci}.{n}.var"] = mean, var
        else:
            for level, lst in st.level_stats.items():
                for n, (mean, var) in lst.items():
                    pct = int(round(level * 100))
                    tensors[f"calib.{ci}.level{pct}.{n}.mean"] = mean
                    tensors[f"calib.{ci}.level{pct}.{n}.var"] = var
            for n, (mean, var) in st.tail_stats.items():
                tensors[f"calib.{ci}.{n}.mean"], tensors[f"calib.{ci}.{n}.var"] = mean, var
        spec_calibs.append(entry)
    spec = {
        "format": "supernav-supernet", "version": 1, "task": "cf64", "num_classes": sn.NUM_CLASSES,
        "canvas": sn.CANVAS, "resolutions": list(sn.RESOLUTIONS), "resize": "bilinear-half-pixel",
        "input_scale": "pixel/255", "stem_c": sn.STEM_C,
        "stages": [{"out_c": s[0], "max_depth": s[1], "min_depth": s[2], "stride": s[3]} for s in sn.STAGES],
        "expands": list(sn.EXPANDS), "kernels": list(sn.KERNELS), "k_max": sn.K_MAX, "head_c": sn.HEAD_C,
        "bn_eps": sn.BN_EPS, "activation": "relu6", "weight_layout": "OIHW",
        "arac": {"prefix_stages": sn.ARAC_STAGES, "grids": list(sn.ARAC_GRIDS),
                 "levels_pct": [int(round(l * 100)) for l in sn.ARAC_LEVELS], "gate_c": sn.GATE_C,
                 "gate_pool": 4, "thin_channels": "zero"},
        "calibrations": spec_calibs,
        "trained": {"steps": steps, "torch": torch.__version__},
    }
    write_safetensors(os.path.join(args.out, "supernet.safetensors"), tensors,
                      {"supernav_spec": json.dumps(spec, separators=(",", ":"))})

    # 5. accuracy.csv
    buf = io.StringIO()
    w = csv.DictWriter(buf, ["kind", "config", "macs", "top1", "val_top1", "n", "high_tile_frac"], lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    tmp = os.path.join(args.out, "accuracy.csv.tmp")
    with open(tmp, "w") as f:
        f.write(buf.getvalue())
    os.replace(tmp, os.path.join(args.out, "accuracy.csv"))

    # 6. Golden vectors: 6 SubNets spread over the front and 3 ARAC configs.
    golden, gmeta = {}, []
    n_logits, n_taps = 8, 2
    x = to_x(test_images[:n_logits])
    golden["input"] = torch.from_numpy(test_images[:n_logits].copy())
    picks = [front[int(round(i * (len(front) - 1) / 5))][2] for i in range(6)]
    for gi, c in enumerate(dict.fromkeys(picks)):
        load_stats(model, stats[str(c)])
        taps = {}
        with torch.no_grad():
            golden[f"g{gi}.logits"] = model(x, c)
            model(x[:n_taps], c, taps)
        for k, v in taps.items():
            golden[f"g{gi}.{k}"] = v.permute(0, 2, 3, 1).contiguous()   # NHWC, as the engine stores
        gmeta.append({"id": gi, "kind": "subnet", "config": str(c)})
    for ai, a in enumerate([aracs[0], aracs[len(aracs) // 2], aracs[-1]]):
        gi = len(gmeta)
        r = runners[str(a)]
        taps = {}
        with torch.no_grad():
            out, lv = r._forward(x)
            golden[f"g{gi}.logits"] = out
            golden[f"g{gi}.levels"] = lv.to(torch.int32)
            r(x[:n_taps], taps)
        for k, v in taps.items():
            golden[f"g{gi}.{k}"] = v.permute(0, 2, 3, 1).contiguous()
        gmeta.append({"id": gi, "kind": "arac", "config": str(a)})
    write_safetensors(os.path.join(args.out, "golden.safetensors"), golden,
                      {"supernav_golden": json.dumps({"inputs": n_logits, "tap_inputs": n_taps, "configs": gmeta})})
    log(args.log, f"export: wrote supernet.safetensors, accuracy.csv ({len(rows)} rows), golden.safetensors")


if __name__ == "__main__":
    main()
