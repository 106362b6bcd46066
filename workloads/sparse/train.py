#!/usr/bin/python3
"""Trains the CF-128S SuperNet (workloads/sparse/sparse.py): sandwich rule with in-place
distillation (OFA/BigNAS) as CF-64, plus one ARAC sample per step with a random split point
(1, 2 or 3), a random grid, and per-tile levels including SKIP (the learned constant), and
the multi-level gate's first phase (box proxy; see README.md for the correctness-label
phase).

Resumable and interruption-proof:
* a checkpoint (model, optimizer, step, RNG states, loss averages) is written atomically to
  WORK/last.pt every --ckpt-minutes minutes, at the end, and on SIGTERM/SIGINT (after the
  current step); the previous one is kept as WORK/prev.pt;
* every random choice of step s is drawn from generators seeded by (seed, s), and the
  canvases of step s are canvases [s*B, (s+1)*B) of one generator stream (`supernav canvas
  --task cf128s --split train --seed CANVAS_SEED --first ...`, in chunks), so `--resume`
  continues exactly where the checkpoint was taken;
* SIGSTOP/SIGCONT (other engineers pause it during timed benchmarks) need nothing.
Test canvases are never used here.
"""
import argparse
import math
import os
import random
import signal
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(0, os.path.join(HERE, "..", "supernet"))
import data  # noqa: E402  (workloads/supernet/data.py: IDX reader)
import sparse as sp  # noqa: E402

SUFFIXES = ("-images-idx3-ubyte", "-labels-idx1-ubyte", "-boxes-idx2-ubyte")
STOP = {"flag": False}


def on_signal(signum, frame):
    STOP["flag"] = True


def tile_object(boxes, grid, canvas=sp.CANVAS):
    """N x G x G bool: the tile's canvas region intersects the object's box (x, y, w, h)."""
    t = canvas // grid
    b = torch.as_tensor(boxes.astype(np.int64))
    x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    lo = torch.arange(grid) * t
    hi = lo + t
    rows = (y0[:, None] < hi[None]) & (y1[:, None] > lo[None])
    cols = (x0[:, None] < hi[None]) & (x1[:, None] > lo[None])
    return rows[:, :, None] & cols[:, None, :]


def kd_loss(student, teacher):
    return F.kl_div(F.log_softmax(student, 1), F.softmax(teacher, 1), reduction="batchmean")


def log(path, msg):
    line = time.strftime("%Y-%m-%dT%H:%M:%SZ ", time.gmtime()) + msg
    print(line, flush=True)
    try:   # the work tree may be recreated under a long run: stdout keeps everything
        with open(path, "a") as f:
            f.write(line + "\n")
    except OSError:
        pass


def save_atomic(obj, path, keep_prev=None):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    if keep_prev and os.path.exists(path):
        os.replace(path, keep_prev)
    os.replace(tmp, path)


class Chunks:
    """Canvases [first, first+count) of the training stream, generated chunk by chunk."""

    def __init__(self, supernav, data_dir, work, seed, chunk):
        self.supernav, self.data_dir, self.work, self.seed, self.chunk = supernav, data_dir, work, seed, chunk
        self.k, self.arrays = None, None

    def _prefix(self, k):
        return os.path.join(self.work, f"canvas-s{self.seed}-c{self.chunk}-{k}")

    def batch(self, first, count):
        k = first // self.chunk
        assert (first + count - 1) // self.chunk == k, "a batch must not cross chunks"
        if self.k != k:
            if self.k is not None:
                for s in SUFFIXES:
                    try:
                        os.remove(self._prefix(self.k) + s)
                    except FileNotFoundError:
                        pass
            prefix = self._prefix(k)
            if not all(os.path.exists(prefix + s) for s in SUFFIXES):
                subprocess.run([self.supernav, "canvas", "--task", sp.TASK, "--split", "train",
                                "--seed", str(self.seed), "--first", str(k * self.chunk),
                                "--count", str(self.chunk), "--data", self.data_dir, "-o", prefix], check=True)
            self.arrays = data.load_canvases(prefix)
            self.k = k
        o = first - k * self.chunk
        return tuple(a[o:o + count] for a in self.arrays)


def arac_sample(rng, gen, boxes, families=None):
    """A random full-resolution SubNet, split point, grid, region mode (h or z, half each;
    with FAMILIES, a list of (split, mode), one of those instead),
    a three-level config (100, l, SKIP) with l random among 75/50/25, and per-tile levels:
    tiles on the object's box at 100 (80 %) or l, the others at l or SKIP (half each).
    Three levels per sample keep the cost at two prefix passes (100 and l) while every
    level, split and mode is trained."""
    cfg = sp.SubNetConfig.random(rng, res=sp.CANVAS)
    if families:
        split, mode = rng.choice(families)
    else:
        split = rng.choice(sp.ARAC_SPLITS)
    grids = [g for g in (2, 4, 4, 8, 8) if sp.prefix_side(split) % g == 0]
    grid = rng.choice(grids)
    if not families:
        mode = rng.choice(sp.ARAC_MODES)
    obj = tile_object(boxes, grid)
    shape = obj.shape
    mid = rng.choice((1, 2, 3))                  # index of 75 / 50 / 25 in ARAC_LEVELS
    skip = sp.ARAC_LEVELS.index(sp.SKIP)
    u = torch.rand(shape, generator=gen)
    v = torch.rand(shape, generator=gen)
    hi = torch.where(u < 0.8, 0, mid)
    lo = torch.where(v < 0.5, skip, mid)
    levels = torch.where(obj, hi, lo)
    acfg = sp.AracConfig(split, grid, 50, [100, sp.pct(sp.ARAC_LEVELS[mid]), 0], cfg, mode)
    return acfg, levels


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--supernav", default="build/supernav")
    ap.add_argument("--data", default="data/idx", help="the IDX items (supernav canvas --data)")
    ap.add_argument("--work", default="/work/ckpt/sparse", help="checkpoints and canvas chunks")
    ap.add_argument("--log", default="workloads/sparse/train.log")
    ap.add_argument("--steps", type=int, default=1000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--chunk-steps", type=int, default=50, help="canvases generated per chunk, in steps")
    ap.add_argument("--lr", type=float, default=0.08)
    ap.add_argument("--warmup", type=int, default=100)
    ap.add_argument("--wd", type=float, default=4e-5)
    ap.add_argument("--seed", type=int, default=20261206)
    ap.add_argument("--canvas-seed", type=int, default=100)
    ap.add_argument("--ckpt-minutes", type=float, default=5.0)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--resume", action="store_true", help="continue from WORK/last.pt (required if it exists)")
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps of this run")
    ap.add_argument("--pid-file", default="", help="write this process's PID here")
    ap.add_argument("--finetune", default="", help="start from this checkpoint's weights (a fresh optimizer and "
                    "schedule of --steps steps; WORK must not hold another run's last.pt)")
    ap.add_argument("--arac-families", default="", help="ARAC samples only of these split/mode families, "
                    "e.g. 2z,3z (default: every split, either mode)")
    ap.add_argument("--arac-per-step", type=int, default=1, help="ARAC samples per step")
    args = ap.parse_args()
    families = []
    for f in filter(None, args.arac_families.split(",")):
        if len(f) != 2 or not f[0].isdigit() or int(f[0]) not in sp.ARAC_SPLITS or f[1] not in sp.ARAC_MODES:
            sys.exit(f"train.py: --arac-families: '{f}' is not a split {sp.ARAC_SPLITS} and a mode {sp.ARAC_MODES}")
        families.append((int(f[0]), f[1]))
    if args.arac_per_step < 1:
        sys.exit("train.py: --arac-per-step must be at least 1")

    torch.set_num_threads(args.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    os.makedirs(args.work, exist_ok=True)
    if args.pid_file:
        with open(args.pid_file, "w") as f:
            f.write(f"{os.getpid()}\n")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    ckpt_path = os.path.join(args.work, "last.pt")
    total = args.steps
    warmup = min(args.warmup, max(1, total // 10))

    torch.manual_seed(args.seed)
    model = sp.SparseSuperNet()
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 or "bn" in name or name.startswith("skip") else decay).append(p)
    opt = torch.optim.SGD([{"params": decay, "weight_decay": args.wd},
                           {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, momentum=0.9, nesterov=True)
    step, ema = 0, {}
    if os.path.exists(ckpt_path):
        if not args.resume:
            sys.exit(f"train.py: {ckpt_path} exists: pass --resume to continue it, or remove it to start afresh")
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step, ema = ck["step"], ck.get("ema", {})
        torch.set_rng_state(ck["torch_rng"])
        if ck["args"]["steps"] != total or ck["args"]["batch"] != args.batch or ck["args"]["seed"] != args.seed:
            log(args.log, f"warning: resuming with steps/batch/seed {total}/{args.batch}/{args.seed}, "
                          f"checkpoint had {ck['args']['steps']}/{ck['args']['batch']}/{ck['args']['seed']}")
        log(args.log, f"resumed at step {step}/{total} from {ckpt_path}")
    else:
        if args.finetune:
            ck = torch.load(args.finetune)
            model.load_state_dict(ck["model"] if "model" in ck else ck)
            log(args.log, f"fine-tune from {args.finetune} (its step {ck.get('step')}): ARAC families "
                          f"{args.arac_families or 'all'}, {args.arac_per_step} ARAC sample(s) per step")
        log(args.log, f"start: {total} steps, batch {args.batch}, lr {args.lr}, warmup {warmup}, wd {args.wd}, "
                      f"seed {args.seed}, canvas seed {args.canvas_seed}, torch {torch.__version__}, "
                      f"threads {args.threads}, task {sp.TASK} {sp.CANVAS}x{sp.CANVAS}, pid {os.getpid()}")

    def checkpoint(tag=""):
        save_atomic({"model": model.state_dict(), "opt": opt.state_dict(), "step": step, "ema": ema,
                     "torch_rng": torch.get_rng_state(), "args": vars(args)},
                    ckpt_path, os.path.join(args.work, "prev.pt"))
        if tag:
            log(args.log, f"checkpoint at step {step} ({tag})")

    chunks = Chunks(args.supernav, args.data, args.work, args.canvas_seed, args.chunk_steps * args.batch)
    model.train()
    t0, seen0, last_ckpt, cpu0 = time.time(), step, time.time(), time.process_time()
    largest, smallest = sp.SubNetConfig.largest(), sp.SubNetConfig.smallest()
    skip_i = sp.ARAC_LEVELS.index(sp.SKIP)
    while step < total:
        images, labels, boxes = chunks.batch(step * args.batch, args.batch)
        x = torch.from_numpy(images.astype(np.float32) / 255.0)[:, None]
        y = torch.from_numpy(labels.astype(np.int64))
        rng = random.Random(args.seed * 7919 + step)
        gen = torch.Generator().manual_seed(args.seed * 31 + step)

        lr = args.lr * (step + 1) / warmup if step < warmup else \
            0.5 * args.lr * (1 + math.cos(math.pi * (step - warmup) / max(1, total - warmup)))
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)

        # Sandwich rule: the largest on the labels, the rest distilled from it in place.
        logits = model(x, largest)
        loss_big = F.cross_entropy(logits, y, label_smoothing=0.1)
        loss_big.backward()
        teacher = logits.detach()
        loss_small = kd_loss(model(x, smallest), teacher)
        loss_small.backward()
        loss_rand = kd_loss(model(x, sp.SubNetConfig.random(rng)), teacher)
        loss_rand.backward()

        # ARAC: random split point, grid and levels (SKIP included).
        for _ in range(args.arac_per_step):
            acfg, levels = arac_sample(rng, gen, boxes, families)
            out, _ = model.forward_arac(x, acfg, levels)
            loss_arac = (0.5 * kd_loss(out, teacher) + 0.5 * F.cross_entropy(out, y)) / args.arac_per_step
            loss_arac.backward()
            loss_arac = loss_arac * args.arac_per_step

        # Gate, phase 1 (proxy): tiles on the object's box -> level 100, the others -> SKIP.
        loss_gate = 0.0
        for g in (4, 8):
            target = torch.where(tile_object(boxes, g), 0, skip_i)
            lt = F.cross_entropy(model.gate(x, g), target)
            lt.backward()
            loss_gate += float(lt) / 2
        opt.step()
        step += 1

        vals = {"big": float(loss_big), "small": float(loss_small), "rand": float(loss_rand),
                "arac": float(loss_arac), f"arac_p{acfg.split}{acfg.mode}": float(loss_arac), "gate": loss_gate,
                "acc": float((teacher.argmax(1) == y).float().mean()),
                "acc_arac": float((out.argmax(1) == y).float().mean())}
        for k, v in vals.items():
            ema[k] = v if k not in ema else 0.98 * ema[k] + 0.02 * v
        if step % 10 == 0 or step == total or step - seen0 <= 3:
            el = time.time() - t0
            rate = (step - seen0) / max(1e-9, el)
            eta = (total - step) / max(rate, 1e-9) / 60
            log(args.log, f"step {step}/{total} lr {lr:.4f} " + " ".join(f"{k} {v:.3f}" for k, v in sorted(ema.items()))
                + f" | {el / max(1, step - seen0):.2f} s/step wall, "
                f"{(time.process_time() - cpu0) / max(1, step - seen0):.2f} cpu-s/step (this run), eta {eta:.0f} min")
        if STOP["flag"]:
            checkpoint("signal")
            log(args.log, "stopped by a signal; rerun with --resume to continue")
            return
        if time.time() - last_ckpt >= args.ckpt_minutes * 60:
            checkpoint()
            last_ckpt = time.time()
        if args.max_steps and step - seen0 >= args.max_steps:
            checkpoint(f"--max-steps {args.max_steps}")
            return
    checkpoint("end")
    torch.save({"model": model.state_dict(), "step": step, "args": vars(args)},
               os.path.join(args.work, "final.pt"))
    log(args.log, f"done: {step} steps; weights in {os.path.join(args.work, 'final.pt')}")


if __name__ == "__main__":
    main()
