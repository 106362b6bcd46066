#!/usr/bin/python3
"""Trains the CF-64 SuperNet: sandwich rule with in-place distillation (OFA/BigNAS), ARAC
micro-flow levels and the gate. Resumable: a checkpoint is written every --ckpt-steps
steps and at each epoch's end; rerunning the same command continues from the latest.

Each epoch trains on fresh canvases from the C generator (`supernav canvas --split train
--seed BASE+epoch`), so the network sees every Fashion-MNIST train item at new positions,
scales and clutter each epoch; test canvases are never used here.
"""
import argparse
import math
import os
import random
import sys
import time

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import data  # noqa: E402
import supernet as sn  # noqa: E402


def tile_critical(boxes, grid, canvas=sn.CANVAS):
    """N x G x G bool: the tile's canvas region intersects the object's box (x, y, w, h)."""
    t = canvas // grid
    b = torch.as_tensor(boxes.astype(np.int64))
    x0, y0, x1, y1 = b[:, 0], b[:, 1], b[:, 0] + b[:, 2], b[:, 1] + b[:, 3]
    lo = torch.arange(grid) * t
    hi = lo + t
    rows = (y0[:, None] < hi[None]) & (y1[:, None] > lo[None])   # N x G
    cols = (x0[:, None] < hi[None]) & (x1[:, None] > lo[None])
    return rows[:, :, None] & cols[:, None, :]


def kd_loss(student, teacher):
    return F.kl_div(F.log_softmax(student, 1), F.softmax(teacher, 1), reduction="batchmean")


def log(path, msg):
    line = time.strftime("%Y-%m-%dT%H:%M:%SZ ", time.gmtime()) + msg
    print(line, flush=True)
    with open(path, "a") as f:
        f.write(line + "\n")


def save_atomic(obj, path):
    tmp = path + ".tmp"
    torch.save(obj, tmp)
    os.replace(tmp, path)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--supernav", default="build/supernav")
    ap.add_argument("--work", default="workloads/supernet/checkpoints")
    ap.add_argument("--log", default="workloads/supernet/train.log")
    ap.add_argument("--epochs", type=int, default=7)
    ap.add_argument("--train-count", type=int, default=60000)
    ap.add_argument("--batch", type=int, default=128)
    ap.add_argument("--lr", type=float, default=0.08)
    ap.add_argument("--wd", type=float, default=4e-5)
    ap.add_argument("--seed", type=int, default=20261126)
    ap.add_argument("--canvas-seed-base", type=int, default=100)
    ap.add_argument("--ckpt-steps", type=int, default=100)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--max-steps", type=int, default=0, help="stop after this many steps (smoke tests)")
    args = ap.parse_args()

    torch.set_num_threads(args.threads)
    os.makedirs(args.work, exist_ok=True)
    ckpt_path = os.path.join(args.work, "last.pt")
    steps_per_epoch = args.train_count // args.batch
    total_steps = args.epochs * steps_per_epoch
    warmup = min(300, total_steps // 10)

    torch.manual_seed(args.seed)
    model = sn.SuperNet()
    decay, no_decay = [], []
    for name, p in model.named_parameters():
        (no_decay if p.ndim <= 1 or "bn" in name else decay).append(p)
    opt = torch.optim.SGD([{"params": decay, "weight_decay": args.wd},
                           {"params": no_decay, "weight_decay": 0.0}], lr=args.lr, momentum=0.9, nesterov=True)
    step = 0
    if os.path.exists(ckpt_path):
        ck = torch.load(ckpt_path)
        model.load_state_dict(ck["model"])
        opt.load_state_dict(ck["opt"])
        step = ck["step"]
        log(args.log, f"resumed at step {step}/{total_steps}")
    else:
        open(args.log, "w").close()   # a fresh run starts a fresh log
        log(args.log, f"start: {total_steps} steps ({args.epochs} epochs x {steps_per_epoch}), batch {args.batch}, "
                      f"lr {args.lr}, wd {args.wd}, seed {args.seed}, torch {torch.__version__}, threads {args.threads}")

    model.train()
    t0, seen0 = time.time(), step
    ema = {}
    while step < total_steps:
        epoch = step // steps_per_epoch
        prefix = os.path.join(args.work, f"canvas-e{epoch}")
        images, labels, boxes = data.generate(args.supernav, "cf64", "train", args.canvas_seed_base + epoch,
                                              args.train_count, prefix)
        order = np.random.default_rng(args.seed * 1000 + epoch).permutation(len(images))
        while step < total_steps and step // steps_per_epoch == epoch:
            i = step % steps_per_epoch
            idx = np.sort(order[i * args.batch:(i + 1) * args.batch])
            x = torch.from_numpy(images[idx].astype(np.float32) / 255.0)[:, None]
            y = torch.from_numpy(labels[idx].astype(np.int64))
            rng = random.Random(args.seed * 7919 + step)

            lr = args.lr * (step + 1) / warmup if step < warmup else \
                0.5 * args.lr * (1 + math.cos(math.pi * (step - warmup) / max(1, total_steps - warmup)))
            for g in opt.param_groups:
                g["lr"] = lr
            opt.zero_grad(set_to_none=True)

            # Sandwich rule: largest with the labels, the rest distilled from it in place.
            logits = model(x, sn.SubNetConfig.largest())
            loss_big = F.cross_entropy(logits, y, label_smoothing=0.1)
            loss_big.backward()
            teacher = logits.detach()
            loss_small = kd_loss(model(x, sn.SubNetConfig.smallest()), teacher)
            loss_small.backward()
            loss_rand = kd_loss(model(x, sn.SubNetConfig.random(rng)), teacher)
            loss_rand.backward()

            # ARAC: a random full-resolution SubNet, a random grid, critical tiles at a high
            # level, the rest at any level, so thin micro-flows stay useful.
            cfg = sn.SubNetConfig.random(rng)
            cfg = sn.SubNetConfig(sn.CANVAS, cfg.depths, cfg.expands, cfg.kernels)
            grid = rng.choice((2, 4, 4))
            crit = tile_critical(boxes[idx], grid)
            gen = torch.Generator().manual_seed(args.seed + step)
            hi = torch.where(torch.rand(crit.shape, generator=gen) < 0.7, 0, 1)
            lo = torch.randint(0, len(sn.ARAC_LEVELS), crit.shape, generator=gen)
            levels = torch.where(crit, hi, lo)
            acfg = sn.AracConfig(grid, 50, 100, 25, cfg)
            out, _ = model.forward_arac(x, acfg, levels)
            loss_arac = 0.5 * kd_loss(out, teacher) + 0.5 * F.cross_entropy(out, y)
            loss_arac.backward()

            # The gate learns which tiles hold the object (the boxes are free supervision).
            loss_gate = 0.0
            for g in (2, 4):
                lg = model.gate(x, g)
                lt = F.binary_cross_entropy_with_logits(lg, tile_critical(boxes[idx], g).float())
                lt.backward()
                loss_gate += float(lt) / 2
            opt.step()
            step += 1

            for k, v in (("big", float(loss_big)), ("small", float(loss_small)), ("rand", float(loss_rand)),
                         ("arac", float(loss_arac)), ("gate", loss_gate),
                         ("acc", float((teacher.argmax(1) == y).float().mean()))):
                ema[k] = v if k not in ema else 0.98 * ema[k] + 0.02 * v
            if step % 50 == 0 or step == total_steps:
                rate = (step - seen0) / max(1e-9, time.time() - t0)
                eta = (total_steps - step) / max(rate, 1e-9) / 60
                log(args.log, f"step {step}/{total_steps} epoch {epoch} lr {lr:.4f} " +
                    " ".join(f"{k} {v:.3f}" for k, v in ema.items()) + f" | {rate:.2f} step/s, eta {eta:.1f} min")
            if step % args.ckpt_steps == 0 or step % steps_per_epoch == 0 or step == total_steps:
                save_atomic({"model": model.state_dict(), "opt": opt.state_dict(), "step": step}, ckpt_path)
            if args.max_steps and step - seen0 >= args.max_steps:
                save_atomic({"model": model.state_dict(), "opt": opt.state_dict(), "step": step}, ckpt_path)
                log(args.log, f"stopping after {args.max_steps} steps (--max-steps); rerun to resume")
                return
        if step % steps_per_epoch == 0:
            for suffix in ("-images-idx3-ubyte", "-labels-idx1-ubyte", "-boxes-idx2-ubyte"):
                if os.path.exists(prefix + suffix):
                    os.remove(prefix + suffix)
    save_atomic({"model": model.state_dict(), "step": step}, os.path.join(args.work, "final.pt"))
    log(args.log, f"done: {step} steps")


if __name__ == "__main__":
    main()
