"""The SubNet search shared by the exports (CF-64's workloads/supernet/export.py and
CF-128S's workloads/sparse/export.py): the Pareto front of measured SubNets and OFA-style
local refinement around it. SPACE is the model module whose elastic space is searched
(STAGES, EXPANDS, KERNELS, RESOLUTIONS, SubNetConfig)."""
import random
import time

import numpy as np


def pareto(points):
    """points: [(macs, acc, cfg)] -> the non-dominated ones, by increasing MACs."""
    best, out = -1.0, []
    for p in sorted(points, key=lambda p: (p[0], -p[1])):
        if p[1] > best:
            out.append(p)
            best = p[1]
    return out


def mutate(cfg, rng, space):
    """A neighbour of a SubNet config: one expand ratio or one kernel changed, or (less often)
    one stage one block deeper or shallower, or the next resolution up or down."""
    res, depths = cfg.res, list(cfg.depths)
    expands, kernels = list(cfg.expands), list(cfg.kernels)
    r = rng.random()
    if r < 0.45:
        i = rng.randrange(len(expands))
        expands[i] = rng.choice([e for e in space.EXPANDS if e != expands[i]])
    elif r < 0.8:
        i = rng.randrange(len(kernels))
        kernels[i] = rng.choice([k for k in space.KERNELS if k != kernels[i]])
    elif r < 0.95:
        s = rng.randrange(len(depths))
        _, dmax, dmin, _ = space.STAGES[s]
        end = sum(depths[:s + 1])              # index after the stage's last active block
        if depths[s] < dmax and (depths[s] == dmin or rng.random() < 0.5):
            depths[s] += 1
            expands.insert(end, rng.choice(space.EXPANDS))
            kernels.insert(end, rng.choice(space.KERNELS))
        elif depths[s] > dmin:
            depths[s] -= 1
            del expands[end - 1], kernels[end - 1]
    else:
        ri = space.RESOLUTIONS.index(res) + rng.choice((-1, 1))
        res = space.RESOLUTIONS[min(max(ri, 0), len(space.RESOLUTIONS) - 1)]
    return space.SubNetConfig(res, depths, expands, kernels)


def refine(val, count, rng, space, measure, progress=None):
    """Local search around the front (OFA's evolutionary search, without a predictor): COUNT
    neighbours of random front members, each measured by MEASURE(cfg) -> (macs, val top-1)
    and appended to VAL. PROGRESS(done, front size, seconds) every 25 neighbours."""
    seen = {str(p[2]) for p in val}
    t0, done, tries = time.time(), 0, 0
    while done < count and tries < 100 * count:
        tries += 1
        child = mutate(rng.choice(pareto(val))[2], rng, space)
        if str(child) in seen:
            continue
        seen.add(str(child))
        macs, acc = measure(child)
        val.append((macs, acc, child))
        done += 1
        if progress and done % 25 == 0:
            progress(done, len(pareto(val)), time.time() - t0)


def bucket_candidates(space, macs, buckets, per_bucket, seed):
    """Random SubNets of SPACE in BUCKETS log-spaced MAC buckets between the smallest and the
    largest (MACS(cfg) counts them), PER_BUCKET each where 400,000 draws find them, plus the
    extremes. Returns (smallest MACs, largest MACs, bucket edges, {config text: config})."""
    lo, hi = macs(space.SubNetConfig.smallest()), macs(space.SubNetConfig.largest())
    edges = np.geomspace(lo, hi * 1.0001, buckets + 1)
    rng = random.Random(seed)
    found = [[] for _ in range(buckets)]
    tries = 0
    while min(len(b) for b in found) < per_bucket and tries < 400000:
        tries += 1
        c = space.SubNetConfig.random(rng)
        bi = int(np.searchsorted(edges, macs(c), side="right")) - 1
        if 0 <= bi < buckets and len(found[bi]) < per_bucket:
            found[bi].append(c)
    cands = {str(c): c for b in found for c in b}
    for c in (space.SubNetConfig.smallest(), space.SubNetConfig.largest()):
        cands[str(c)] = c
    return lo, hi, edges, cands
