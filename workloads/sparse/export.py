#!/usr/bin/python3
"""The CF-128S export: trained weights -> the interchange file sn_pack reads (and the golden
vectors the engine's tests compare against). The same interface as CF-64's
workloads/supernet/export.py.

  supernet.safetensors  shared weights (with the gate's 5-logit head and the SKIP features
                        skip.{P}) + per-config BN statistics; the architecture spec (image
                        format version 2: arac.splits, arac.modes, arac.gate_out, levels with 0)
                        and the list of calibrated configs in its metadata
  golden.safetensors    inputs, logits, the gate's tile levels and intermediate tensors (NHWC)
                        of every exported config, and each ARAC config's logits with every
                        tile forced to each of its levels, for tests/test_engine_golden.c
  accuracy.csv          one row per Pareto SubNet and per kept ARAC config: the engine's
                        MACs (ARAC: its mean over the test split, gate included) and fp32
                        top-1 on the test split, validation top-1, the fractions of tiles at
                        the config's highest level and skipped

The search (default): SubNet candidates in log-spaced MAC buckets screened on SCREEN_VAL
validation canvases (train canvases of seed VAL_SEED, never the test split), the best per
bucket and OFA-style neighbours of the front measured on all of them (workloads/supernet/
search.py, shared with CF-64's export), the front's test top-1. ARAC: bases at r128 (the
largest SubNet and the best screened r128 SubNet within each --base-fracs share of its MACs)
x ARAC_SWEEP (split, mode, grid, level set, threshold), each calibrated (BN per computed
level and tail; prefix statistics shared between configs that compute the same prefix),
written to a staging image and screened by the engine on the validation canvases (top-1 and
its MAC count: merged regions, SKIP, the gate); each (split, mode) family's validation Pareto
front is kept and measured on the test split. PyTorch calibrates; every accuracy is the
engine's (fp32, CPU platform) -- equal to sparse.py's forward within 7.5e-6 (checked by
tests/test_sparse_oracle.sh) and about 40x faster here than PyTorch's CPU
forward (the largest SubNet: 0.68 vs 30 ms per canvas, one thread each, under load). The gate is phase 1's (a box proxy): gate phase
2 (README) is not done. --dev exports given configs only (tests/test_sparse_oracle.sh).
"""
import argparse
import csv
import io
import json
import os
import random
import subprocess
import sys
import time

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "supernet"))
import data  # noqa: E402  (workloads/supernet/data.py)
import search  # noqa: E402  (workloads/supernet/search.py)
import sparse as sp  # noqa: E402

VAL_SEED, CALIB_SEED = 9001, 9002
CALIB_BATCH = 64
SCREEN_CALIB, SCREEN_VAL = 256, 500

# Development configs: two SubNets (one resized) and ARAC configs covering every split point,
# both region modes, grids 2, 4 and 8, three to five levels with SKIP, and thresholds at which
# the phase-1 gate mixes levels.
BIG = "r128-d2.3.3.3-e4.4.4.4.4.4.4.4.4.4.4-k5.5.5.5.5.5.5.5.5.5.5"
MID = "r128-d1.2.2.2-e3.3.3.3.3.3.3-k5.3.5.3.5.3.5"
DEV_CONFIGS = [
    BIG,
    "r96-d1.2.3.2-e2.3.4.3.2.4.3.2-k3.5.3.5.5.3.3.5",
    MID,
    f"arac-p1-g4-h-t50-l100.50.0:{BIG}",
    f"arac-p1-g8-z-t50-l100.75.50.25.0:{MID}",
    f"arac-p2-g2-h-t40-l100.25.0:{MID}",
    f"arac-p2-g4-z-t60-l100.50.0:{BIG}",
    f"arac-p3-g8-h-t50-l75.50.0:{MID}",
    f"arac-p3-g2-z-t90-l100.75.0:{BIG}",
    f"arac-p1-g2-h-t70-l100.75.50.25.0:{MID}",
]


def log(path, msg):
    import time
    line = time.strftime("%Y-%m-%dT%H:%M:%SZ ", time.gmtime()) + msg
    print(line, flush=True)
    if path:
        with open(path, "a") as f:
            f.write(line + "\n")


def to_x(images):
    return torch.from_numpy(images.astype(np.float32) / 255.0)[:, None]


def bn_modules(model):
    return [(n, m) for n, m in model.named_modules() if isinstance(m, sp.ElasticBN)]


def calibrate(model, images, run):
    """BigNAS recalibration: every BN accumulates its batch statistics over run(x) on the
    calibration canvases; returns {layer: (mean, var)} of the channels used, for the layers
    that ran in calibrating mode."""
    mods = bn_modules(model)
    for _, m in mods:
        m.calibrating, m.calib_batches, m.used = True, 0, 0
        m.running_mean.zero_()
        m.running_var.fill_(1.0)
    hooks = [m.register_forward_hook(lambda mod, inp, out: setattr(mod, "used", max(mod.used, out.shape[1])))
             for _, m in mods]
    with torch.no_grad():
        for i in range(0, len(images), CALIB_BATCH):
            run(to_x(images[i:i + CALIB_BATCH]))
    for h in hooks:
        h.remove()
    stats = {}
    for n, m in mods:
        m.calibrating = False
        if m.calib_batches:
            stats[n] = (m.running_mean[:m.used].clone(), m.running_var[:m.used].clone())
    return stats


def load_stats(model, stats):
    mods = dict(bn_modules(model))
    for n, (mean, var) in stats.items():
        mods[n].running_mean[:len(mean)] = mean
        mods[n].running_var[:len(var)] = var
        mods[n].calibrating = False


def tiles_of(x, grid):
    n, _, side, _ = x.shape
    t = side // grid
    return x.view(n, 1, grid, t, grid, t).permute(0, 2, 4, 1, 3, 5).reshape(n * grid * grid, 1, t, t)


def is_prefix_layer(name, split):
    if name == "stem_bn":
        return True
    parts = name.split(".")
    return parts[0] == "stages" and int(parts[1]) < split


class AracRunner:
    """An ARAC config with its own statistics: the prefix's per computed level (calib.{id}.
    level{pct}.*) and the tail's (calib.{id}.*)."""

    def __init__(self, model, acfg):
        self.model, self.acfg = model, acfg
        self.level_stats, self.tail_stats = {}, {}

    def _patched_prefix(self):
        """model.prefix that first loads its level's statistics (eval mode for those layers)."""
        m, orig = self.model, sp.SparseSuperNet.prefix

        def prefix(x, cfg, split, level=1.0, taps=None):
            load_stats(m, self.level_stats[sp.pct(level)])
            return orig(m, x, cfg, split, level, taps)
        return prefix

    def calibrate(self, images, prefix_cache=None):
        """PREFIX_CACHE (a dict, optional) shares a level's prefix statistics between configs
        that compute the same prefix on the same canvases: the same SubNet, split and level,
        and in mode z the same grid (mode h runs the whole canvas whatever the grid)."""
        m, a = self.model, self.acfg
        for lp in a.levels_pct:
            if lp == 0:
                continue
            key = (str(a.subnet), a.split, a.mode, a.grid if a.mode == "z" else 0, lp, len(images))
            if prefix_cache is not None and key in prefix_cache:
                self.level_stats[lp] = prefix_cache[key]
                continue
            level = lp / 100.0
            if a.mode == "h":   # whole canvas == halo'd micro-flows
                run = lambda x, level=level: m.prefix(x, a.subnet, a.split, level)  # noqa: E731
            else:               # tile-local micro-flows
                run = lambda x, level=level: m.prefix(tiles_of(x, a.grid), a.subnet, a.split, level)  # noqa: E731
            st = calibrate(m, images, run)
            self.level_stats[lp] = {k: v for k, v in st.items() if is_prefix_layer(k, a.split)}
            if prefix_cache is not None:
                prefix_cache[key] = self.level_stats[lp]
        m.prefix = self._patched_prefix()
        try:
            st = calibrate(m, images, lambda x: m.forward_arac(x, a)[0])
        finally:
            del m.prefix
        self.tail_stats = {k: v for k, v in st.items() if not is_prefix_layer(k, a.split)}

    def __call__(self, x, taps=None, tile_levels=None):
        """(logits, tile levels N x G x G as indices into ARAC_LEVELS); TILE_LEVELS overrides
        the gate."""
        m = self.model
        load_stats(m, self.tail_stats)
        m.prefix = self._patched_prefix()
        try:
            with torch.no_grad():
                return m.forward_arac(x, self.acfg, tile_levels=tile_levels, taps=taps)
        finally:
            del m.prefix


def load_weights(model, path):
    ck = torch.load(path, map_location="cpu")
    model.load_state_dict(ck["model"] if "model" in ck else ck)
    return ck.get("step")


def spec_of(calibs, steps):
    return {
        "format": "supernav-supernet", "version": 1, "task": sp.TASK, "num_classes": sp.NUM_CLASSES,
        "canvas": sp.CANVAS, "resolutions": list(sp.RESOLUTIONS), "resize": "bilinear-half-pixel",
        "input_scale": "pixel/255", "stem_c": sp.STEM_C,
        "stages": [{"out_c": s[0], "max_depth": s[1], "min_depth": s[2], "stride": s[3]} for s in sp.STAGES],
        "expands": list(sp.EXPANDS), "kernels": list(sp.KERNELS), "k_max": sp.K_MAX, "head_c": sp.HEAD_C,
        "bn_eps": sp.BN_EPS, "activation": "relu6", "weight_layout": "OIHW",
        "arac": {"splits": list(sp.ARAC_SPLITS), "modes": list(sp.ARAC_MODES), "grids": list(sp.ARAC_GRIDS),
                 "levels_pct": [sp.pct(l) for l in sp.ARAC_LEVELS], "gate_out": len(sp.ARAC_LEVELS),
                 "gate_c": sp.GATE_C, "gate_pool": sp.GATE_POOL, "thin_channels": "zero",
                 "skip": "learned skip.{P}, one vector per split point"},
        "calibrations": calibs,
        "trained": {"steps": steps, "torch": torch.__version__},
    }


def interchange(model, entries, steps):
    """(tensors, spec) of the interchange file: the shared weights and, per entry (kind,
    config text, statistics: a {layer: (mean, var)} for a SubNet, an AracRunner for ARAC),
    its calibration as calib.{id}.*."""
    tensors = {n: p for n, p in model.state_dict().items() if not n.endswith(("running_mean", "running_var"))}
    calibs = []
    for ci, (kind, text, st) in enumerate(entries):
        if kind == "arac":
            for lp, lst in st.level_stats.items():
                for n, (mean, var) in lst.items():
                    tensors[f"calib.{ci}.level{lp}.{n}.mean"] = mean
                    tensors[f"calib.{ci}.level{lp}.{n}.var"] = var
            st = st.tail_stats
        for n, (mean, var) in st.items():
            tensors[f"calib.{ci}.{n}.mean"], tensors[f"calib.{ci}.{n}.var"] = mean, var
        calibs.append({"id": ci, "kind": kind, "config": text})
    return tensors, spec_of(calibs, steps)


def write_interchange(path, model, entries, steps):
    tensors, spec = interchange(model, entries, steps)
    data.write_safetensors(path, tensors, {"supernav_spec": json.dumps(spec, separators=(",", ":"))})


def write_golden(path, model, entries, images, n_taps):
    """Inputs, logits and intermediate tensors (NHWC) of ENTRIES on IMAGES; an ARAC entry also
    its tile levels and its logits with every tile forced to each of its levels (the engine's
    force_level), so that every level's prefix is compared, not only those the gate picks."""
    x = to_x(images)
    golden, gmeta = {"input": torch.from_numpy(images.copy())}, []
    for gi, (kind, text, st) in enumerate(entries):
        gtaps = {}
        if kind == "arac":
            logits, levels = st(x)
            st(x[:n_taps], gtaps)
            golden[f"g{gi}.levels"] = levels.to(torch.int32)
            for k, lp in enumerate(st.acfg.levels_pct):
                li = [sp.pct(l) for l in sp.ARAC_LEVELS].index(lp)
                forced = torch.full((len(x), st.acfg.grid, st.acfg.grid), li, dtype=torch.long)
                golden[f"g{gi}.forced{k}.logits"] = st(x, tile_levels=forced)[0]
        else:
            c = sp.SubNetConfig.parse(text)
            load_stats(model, st)
            with torch.no_grad():
                logits = model(x, c)
                model(x[:n_taps], c, gtaps)
        golden[f"g{gi}.logits"] = logits
        for k, v in gtaps.items():
            golden[f"g{gi}.{k}"] = v.permute(0, 2, 3, 1).contiguous()   # NHWC, as the engine stores
        gmeta.append({"id": gi, "kind": kind, "config": text})
    n_sub = sum(1 for g in gmeta if g["kind"] == "subnet")
    data.write_safetensors(path, golden,
                           {"supernav_golden": json.dumps({"inputs": len(images), "tap_inputs": n_taps,
                                                           "configs": gmeta,
                                                           "expect": {"subnets": n_sub, "aracs": len(gmeta) - n_sub,
                                                                      "configs": len(gmeta)}})})


def engine_eval(supernav, image, kind, text, prefix, limit=None):
    """supernav eval in fp32 on the CPU platform, one thread: its JSON (top1, macs = the mean
    MACs per canvas as the engine counts them: merged regions, SKIP 0, the gate included)."""
    cmd = [supernav, "eval", "--model", image, "--platform", "cpu", f"--{kind}", text, "--data", prefix,
           "--warmup", "0", "--json"]
    if limit:
        cmd += ["--limit", str(limit)]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode:
        raise RuntimeError(f"{' '.join(cmd)}: {r.stderr.strip()}")
    return json.loads(r.stdout)


def arac_candidates(bases, spec):
    """The ARAC sweep: every base x every (split, mode) x grid x level set x threshold of SPEC
    (a family's entry in SPEC["family"], e.g. "1h", overrides the level sets and thresholds)."""
    out = []
    for base in bases:
        for split, mode in spec["split_modes"]:
            fam = spec.get("family", {}).get(f"{split}{mode}", {})
            for grid in spec["grids"]:
                if sp.prefix_side(split) % grid:
                    continue
                for levels in fam.get("levels", spec["levels"]):
                    for t in fam.get("thresholds", spec["thresholds"]):
                        out.append(sp.AracConfig(split, grid, t, levels, base, mode))
    return out


ARAC_SWEEP = {
    # mode z (tile-local micro-flows, NeuLens' independent regions) at every split; mode h
    # (exact halo) at splits 1 and 2 -- at 3 its halo (133 px) covers the whole canvas
    "split_modes": [(1, "h"), (1, "z"), (2, "h"), (2, "z"), (3, "z")],
    "grids": [4, 8],
    # one level set: the phase-1 gate (a box proxy: level 100 on the object, SKIP elsewhere)
    # puts almost no mass on the middle levels, so more sets give near-identical configs
    "levels": [(100, 50, 0)],
    # a tile runs at SKIP when the gate's P(SKIP suffices) >= T: low thresholds skip object
    # tiles (measured at step 768 on 400 validation canvases, P1/h/G4: T 50 -> 65.5 % top-1
    # with 8.7 % of the tiles at 100, T 90 -> 79.5 % with 17.8 %, T 99 -> every tile at 100)
    "thresholds": [80, 90, 95],
    # GATE_PHASE2_FAMILY_SWEEP (below) replaces this entry when the export runs with a phase-2 gate
    "family": {},
}


# The sweep with a phase-2 gate (--gate): trained on correctness labels (README, "Gate phase 2"),
# it puts most of its mass on SKIP (the labels are over 90 % SKIP), so only high thresholds keep
# object tiles (measured with gate2.py on 1,000 validation canvases, P1/h, the largest base:
# T 95 -> 86-87 % of the tiles skipped, T 99 -> 57-61 %); the labels give the middle levels
# mass, so split 1 mode h (the family the labels were measured on) sweeps three level sets.
GATE_PHASE2_SWEEP = {
    "thresholds": [95, 98, 99],
    "family": {"1h": {"levels": [(100, 50, 0), (100, 25, 0), (100, 50, 25, 0)]}},
}


def engine_measure(args, model, steps, entries, prefix, limit=None, name="staging"):
    """ENTRIES (kind, text, statistics) written to a staging image and run by the engine on
    the canvases at PREFIX: [(mean MACs, top-1 %, the eval JSON)] in ENTRIES' order."""
    staging = os.path.join(args.work, name)
    write_interchange(staging + ".safetensors", model, entries, steps)
    subprocess.run([args.supernav, "pack", staging + ".safetensors", "-o", staging + ".snm"], check=True,
                   stdout=subprocess.DEVNULL)
    out = []
    for kind, text, _ in entries:
        e = engine_eval(args.supernav, staging + ".snm", kind, text, prefix, limit)
        out.append((e["macs"], e["top1"], e))
    return out


def main_search(args, model, steps):
    """The real export: the SubNet search, the ARAC sweep, accuracy.csv, the interchange file
    and the golden vectors (module docstring). PyTorch calibrates; the engine measures."""
    t_start = time.time()
    calib_images, _, _ = data.generate(args.supernav, sp.TASK, "train", CALIB_SEED, args.calib_count,
                                       os.path.join(args.work, "calib"))
    val_prefix = os.path.join(args.work, "val")
    val_images, _, _ = data.generate(args.supernav, sp.TASK, "train", VAL_SEED, args.val_count, val_prefix)
    test_images = data.read_idx(args.test + "-images-idx3-ubyte")
    log(args.log, f"export: weights {steps} steps; calib {len(calib_images)}, val {len(val_images)} (train canvases, "
                  f"seeds {CALIB_SEED}/{VAL_SEED}), test {len(test_images)} canvases ({args.test})")

    def calibrated(c, count=None):
        return ("subnet", str(c), calibrate(model, calib_images[:count], lambda x: model(x, c)))

    if args.subnets_from:
        return main_front_given(args, model, steps, calib_images, val_prefix, val_images, test_images, t_start,
                                calibrated)
    # 1. SubNets: random candidates in log-spaced MAC buckets plus the extremes, screened on
    # SCREEN_VAL validation canvases, the best per bucket measured on all, local refinement.
    lo, hi, edges, cands = search.bucket_candidates(sp, sp.subnet_macs, args.buckets, args.candidates,
                                                    args.seed)
    cands = list(cands.values())
    log(args.log, f"search: {len(cands)} candidate SubNets in {args.buckets} MAC buckets "
                  f"[{lo / 1e6:.2f}, {hi / 1e6:.2f}] M")
    t0 = time.time()
    ents = [calibrated(c, SCREEN_CALIB) for c in cands]
    screened = [(m, acc, c) for (m, acc, _), c in
                zip(engine_measure(args, model, steps, ents, val_prefix, SCREEN_VAL), cands)]
    log(args.log, f"search: screened {len(cands)} on {min(SCREEN_VAL, len(val_images))} validation canvases "
                  f"({time.time() - t0:.0f} s)")
    stats, val = {}, []

    def measure_all(cfgs):
        ents = [calibrated(c) for c in cfgs]
        for e in ents:
            stats[e[1]] = e[2]
        return [(m, acc, c) for (m, acc, _), c in zip(engine_measure(args, model, steps, ents, val_prefix), cfgs)]

    finalists = []
    for bi in range(args.buckets):
        inb = [p for p in screened if edges[bi] <= p[0] < edges[bi + 1]]
        finalists += [p[2] for p in sorted(inb, key=lambda p: -p[1])[:args.finalists]]
    for c in (sp.SubNetConfig.smallest(), sp.SubNetConfig.largest()):
        if str(c) not in {str(f) for f in finalists}:
            finalists.append(c)
    val += measure_all(finalists)
    log(args.log, f"search: {len(finalists)} finalists on {len(val_images)} validation canvases "
                  f"({time.time() - t0:.0f} s)")
    # refinement in rounds of 8 neighbours (one staging image per round)
    rrng, seen = random.Random(args.seed + 1), {str(p[2]) for p in val}
    done = 0
    while done < args.refine:
        batch, tries = [], 0
        while len(batch) < min(8, args.refine - done) and tries < 800:
            tries += 1
            child = search.mutate(rrng.choice(search.pareto(val))[2], rrng, sp)
            if str(child) not in seen:
                seen.add(str(child))
                batch.append(child)
        if not batch:
            break
        val += measure_all(batch)
        done += len(batch)
        log(args.log, f"refine: {done}/{args.refine} neighbours, front of {len(search.pareto(val))} "
                      f"({time.time() - t0:.0f} s)")
    front = search.pareto(val)
    for must in (sp.SubNetConfig.smallest(), sp.SubNetConfig.largest()):
        if str(must) not in {str(p[2]) for p in front}:
            front.append([p for p in val if str(p[2]) == str(must)][0])
    front.sort(key=lambda p: p[0])
    log(args.log, f"search: {len(val)} SubNets measured on validation, Pareto front of {len(front)}")
    rows = [{"kind": "subnet", "config": str(c), "macs": macs, "val_top1": f"{vacc:.2f}"} for macs, vacc, c in front]
    entries = [("subnet", str(c), stats[str(c)]) for _, _, c in front]

    # 2. ARAC: bases at r128 (the largest, and the best screened r128 SubNet within each MAC
    # budget) x the sweep, calibrated here, screened by the engine on the validation canvases;
    # each (split, mode) family's validation Pareto front is kept.
    bases = {str(sp.SubNetConfig.largest()): sp.SubNetConfig.largest()}
    for frac in args.base_fracs:
        within = [p for p in screened if p[2].res == sp.CANVAS and p[0] <= frac * hi]
        if within:
            best = max(within, key=lambda p: (p[1], -p[0]))[2]
            bases[str(best)] = best
    bases = sorted(bases.values(), key=sp.subnet_macs)
    arac_and_write(args, model, steps, bases, rows, entries, calib_images, val_prefix, test_images, t_start)


def main_front_given(args, model, steps, calib_images, val_prefix, val_images, test_images, t_start, calibrated):
    """--subnets-from TABLE: the SubNet front and the ARAC bases of an earlier export of the same
    weights (its accuracy.csv) instead of the search. The search depends on the weights, the
    seeds and the canvases only (not on the gate), so with the same weights it finds the same
    front; the front's SubNets are recalibrated and measured on validation here as the search
    does, and the bases are the distinct SubNets of the table's ARAC rows."""
    with open(args.subnets_from) as f:
        table = list(csv.DictReader(f))
    front = [sp.SubNetConfig.parse(r["config"]) for r in table if r["kind"] == "subnet"]
    bases = {}
    for r in table:
        if r["kind"] == "arac":
            b = sp.AracConfig.parse(r["config"]).subnet
            bases[str(b)] = b
    bases = sorted(bases.values(), key=sp.subnet_macs)
    t0 = time.time()
    ents = [calibrated(c) for c in front]
    val = engine_measure(args, model, steps, ents, val_prefix)
    rows = [{"kind": "subnet", "config": str(c), "macs": m, "val_top1": f"{acc:.2f}"}
            for c, (m, acc, _) in zip(front, val)]
    log(args.log, f"subnets: the front of {len(front)} from {args.subnets_from}, recalibrated and measured on "
                  f"{len(val_images)} validation canvases ({time.time() - t0:.0f} s); arac bases: "
                  + ", ".join(f"{c} ({sp.subnet_macs(c) / 1e6:.2f} M)" for c in bases))
    arac_and_write(args, model, steps, bases, rows, ents, calib_images, val_prefix, test_images, t_start)


def arac_and_write(args, model, steps, bases, rows, entries, calib_images, val_prefix, test_images, t_start):
    """The ARAC sweep over BASES, the test split for every kept config, the committed files."""
    log(args.log, "arac bases: " + ", ".join(f"{c} ({sp.subnet_macs(c) / 1e6:.2f} M)" for c in bases))
    acands = arac_candidates(bases, ARAC_SWEEP)
    if args.arac_max and len(acands) > args.arac_max:     # a smoke run: an even stride through the sweep
        acands = [acands[int(i * len(acands) / args.arac_max)] for i in range(args.arac_max)]
    cache, runners, t0 = {}, {}, time.time()
    for j, a in enumerate(acands):
        r = AracRunner(model, a)
        r.calibrate(calib_images, cache)
        runners[str(a)] = r
        if (j + 1) % 20 == 0:
            log(args.log, f"arac: calibrated {j + 1}/{len(acands)} ({time.time() - t0:.0f} s)")
    aents = [("arac", str(a), runners[str(a)]) for a in acands]
    screen = [(m, acc, a) for (m, acc, _), a in
              zip(engine_measure(args, model, steps, aents, val_prefix, args.arac_val), acands)]
    keep = {}
    for split, mode in ARAC_SWEEP["split_modes"]:
        for p in search.pareto([p for p in screen if p[2].split == split and p[2].mode == mode]):
            keep[str(p[2])] = p
    kept = sorted(keep.values(), key=lambda p: (p[2].split, p[2].mode, p[0]))
    log(args.log, f"arac: {len(acands)} configs screened ({time.time() - t0:.0f} s), {len(kept)} on their "
                  f"family's validation front")
    with open(os.path.join(args.work, "arac-screen.csv.tmp"), "w") as f:
        f.write("config,val_macs,val_top1,kept\n")
        for m, acc, a in screen:
            f.write(f"{a},{m:.0f},{acc:.2f},{int(str(a) in keep)}\n")
    os.replace(os.path.join(args.work, "arac-screen.csv.tmp"), os.path.join(args.work, "arac-screen.csv"))
    for vmacs, vacc, a in kept:
        rows.append({"kind": "arac", "config": str(a), "val_top1": f"{vacc:.2f}"})
        entries.append(("arac", str(a), runners[str(a)]))

    # 3. Every kept config on the test split through the final image: top-1, mean MACs (ARAC),
    # the fractions of tiles at the highest level and skipped (PyTorch's gate, equal to the
    # engine's: tests/test_sparse_oracle.sh).
    t0 = time.time()
    test = engine_measure(args, model, steps, entries, args.test, name="final")
    for r, (kind, text, st), (m, acc, _) in zip(rows, entries, test):
        r.update({"macs": int(round(m)), "top1": f"{acc:.2f}", "n": len(test_images), "high_tile_frac": "",
                  "skip_tile_frac": ""})
        if kind == "arac":
            with torch.no_grad():
                lv = torch.cat([model.gate_levels(to_x(test_images[i:i + 500]), st.acfg)
                                for i in range(0, len(test_images), 500)])
            r["high_tile_frac"] = f"{float((lv == 0).float().mean()):.3f}"
            r["skip_tile_frac"] = f"{float((lv == len(sp.ARAC_LEVELS) - 1).float().mean()):.3f}"
        log(args.log, f"{kind} {text}: {m / 1e6:.2f} M MACs, val {r['val_top1']} %, test {acc:.2f} % "
                      f"{r['high_tile_frac'] and 'high tiles ' + r['high_tile_frac'] + ', skipped ' + r['skip_tile_frac']}")
    log(args.log, f"export: {len(entries)} configs on the test split ({time.time() - t0:.0f} s)")

    # 4. The committed files, each written to a temporary file and renamed into place.
    os.makedirs(args.out, exist_ok=True)
    out_st = os.path.join(args.out, "supernet.safetensors")
    os.replace(os.path.join(args.work, "final.safetensors"), out_st)
    buf = io.StringIO()
    w = csv.DictWriter(buf, ["kind", "config", "macs", "top1", "val_top1", "n", "high_tile_frac", "skip_tile_frac"],
                       lineterminator="\n")
    w.writeheader()
    for r in rows:
        w.writerow(r)
    with open(os.path.join(args.out, "accuracy.csv.tmp"), "w") as f:
        f.write(buf.getvalue())
    os.replace(os.path.join(args.out, "accuracy.csv.tmp"), os.path.join(args.out, "accuracy.csv"))
    # golden vectors: 4 SubNets spread over the front and one ARAC config per (split, mode)
    subs = [e for e in entries if e[0] == "subnet"]
    picks = set(subs[int(round(i * (len(subs) - 1) / 3))][1] for i in range(4))
    gent, seen = [e for e in subs if e[1] in picks], set()
    for e in entries:
        if e[0] == "arac" and (e[2].acfg.split, e[2].acfg.mode) not in seen:
            seen.add((e[2].acfg.split, e[2].acfg.mode))
            gent.append(e)
    gpath = os.path.join(args.out, "golden.safetensors")
    write_golden(gpath + ".tmp", model, gent, test_images[:args.golden_inputs], args.golden_taps)
    os.replace(gpath + ".tmp", gpath)
    log(args.log, f"export: wrote {out_st} ({len(entries)} configs), accuracy.csv ({len(rows)} rows), "
                  f"golden.safetensors ({len(gent)} configs) in {time.time() - t_start:.0f} s")


def main_dev(args, model, steps):
    calib_images, _, _ = data.generate(args.supernav, sp.TASK, "train", CALIB_SEED, args.calib_count,
                                       os.path.join(args.work, "calib"))
    test_images = data.read_idx(args.test + "-images-idx3-ubyte")[:args.golden_inputs]
    entries = []
    for text in args.configs or DEV_CONFIGS:
        if text.startswith("arac-"):
            st = AracRunner(model, sp.AracConfig.parse(text))
            st.calibrate(calib_images)
            entries.append(("arac", text, st))
        else:
            c = sp.SubNetConfig.parse(text)
            entries.append(("subnet", text, calibrate(model, calib_images, lambda t: model(t, c))))
        log(args.log, f"export (dev): {entries[-1][0]} {text} calibrated on {len(calib_images)} canvases")
    os.makedirs(args.out, exist_ok=True)
    write_interchange(os.path.join(args.out, "supernet.safetensors"), model, entries, steps)
    write_golden(os.path.join(args.out, "golden.safetensors"), model, entries, test_images, args.golden_taps)
    log(args.log, f"export (dev): wrote {args.out}/supernet.safetensors ({len(entries)} configs) and "
                  f"golden.safetensors ({len(test_images)} inputs)")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--supernav", default="build/supernav")
    ap.add_argument("--work", default="/work/ckpt/sparse-export",
                    help="scratch: calibration and validation canvases, the staging image (never the "
                         "training checkpoint directory)")
    ap.add_argument("--weights", default=None, help="a checkpoint (default: WORK/final.pt)")
    ap.add_argument("--out", default="workloads/sparse")
    ap.add_argument("--log", default=None)
    ap.add_argument("--test", default="data/canvas/cf128s-test")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--calib-count", type=int, default=512)
    ap.add_argument("--val-count", type=int, default=2000)
    ap.add_argument("--buckets", type=int, default=16)
    ap.add_argument("--candidates", type=int, default=8, help="random candidates per MAC bucket")
    ap.add_argument("--finalists", type=int, default=2, help="best screened SubNets per bucket measured on all "
                                                             "validation canvases")
    ap.add_argument("--refine", type=int, default=32, help="neighbours of front members measured after the finalists")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--base-fracs", type=float, nargs="*", default=[0.3, 0.5],
                    help="ARAC bases: the best screened r128 SubNet within each fraction of the largest's MACs")
    ap.add_argument("--arac-val", type=int, default=None,
                    help="validation canvases per ARAC config in the screening (default: all)")
    ap.add_argument("--arac-max", type=int, default=None, help="at most this many ARAC configs of the sweep "
                                                                 "(an even stride; for smoke runs)")
    ap.add_argument("--gate", default=None, help="the gate's weights (a state_dict of sparse.Gate, gate2.py's "
                                                   "gate-*.pt) in place of the checkpoint's phase-1 gate")
    ap.add_argument("--subnets-from", default=None, help="an earlier export's accuracy.csv of the same weights: "
                                                          "its SubNet front and ARAC bases instead of the search")
    ap.add_argument("--dev", action="store_true",
                    help="development export: the given --configs only (no search, no accuracy.csv)")
    ap.add_argument("--configs", nargs="*", default=None, help="with --dev (default: a built-in set)")
    ap.add_argument("--golden-inputs", type=int, default=8)
    ap.add_argument("--golden-taps", type=int, default=2)
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    if os.path.realpath(args.work).startswith(os.path.realpath("/work/ckpt/sparse") + os.sep) or \
            os.path.realpath(args.work) == os.path.realpath("/work/ckpt/sparse"):
        sys.exit("export: --work must not be the training's checkpoint directory")
    os.makedirs(args.work, exist_ok=True)
    model = sp.SparseSuperNet()
    weights = args.weights or os.path.join(args.work, "final.pt")
    steps = load_weights(model, weights)
    model.eval()
    log(args.log, f"export{' (dev)' if args.dev else ''}: weights from {weights} ({steps} training steps)")
    if args.gate:
        model.gate.load_state_dict(torch.load(args.gate, map_location="cpu"))
        ARAC_SWEEP.update(GATE_PHASE2_SWEEP)
        log(args.log, f"export: gate from {args.gate} (phase 2: correctness labels, gate2.py); sweep "
                      + json.dumps(ARAC_SWEEP))
    (main_dev if args.dev else main_search)(args, model, steps)


if __name__ == "__main__":
    main()
