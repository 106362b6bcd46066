"""The CF-64 elastic SuperNet (OFA-style MobileNet) with NeuLens-style ARAC micro-flows.

Everything the C engine must reproduce is defined here, in one place:

* Layers. stem: conv3x3/s2 1->STEM_C, BN, ReLU6. Stages of inverted-residual blocks
  (pw expand 1x1 + BN + ReLU6, depthwise kxk + BN + ReLU6, pw project 1x1 + BN; residual
  when stride 1 and in == out). head: pw 1x1 -> HEAD_C + BN + ReLU6, global average pool,
  linear -> 10 classes. Convolutions have no bias; BN follows each one.
* Elasticity (weights shared by construction):
  - resolution r in RESOLUTIONS: the 64x64 canvas is resized with bilinear interpolation,
    half-pixel centres (PyTorch align_corners=False, no antialias);
  - depth d per stage: the first d blocks of the stage run;
  - expand ratio e per block: the first round(e * in_c) hidden channels (leading slice);
  - kernel size k per block: the centred k x k crop of the stored K_MAX x K_MAX kernel
    (plain crop, no OFA kernel-transform matrix, so a smaller kernel is a strided view).
* Batch norm: the shared tensors hold gamma/beta; running statistics are recalibrated per
  SubNet after training (BigNAS), stored as small per-channel vectors beside the weights.
* ARAC (NeuLens): the prefix (stem and stage 0) runs per tile of a G x G grid on the
  64x64 canvas. A tile at level l runs the prefix with every width scaled to the leading
  ceil(l * C) channels; its output channels beyond that slice are zero in the stitched
  feature map. Tiles are cut from the canvas with the prefix's receptive-field halo, so
  the stitched result at level 1 equals the untiled prefix exactly. In training, that
  equivalence is used directly: the prefix runs once per level on the whole canvas and
  each tile takes its level's output region.
  The gate: 64x64 canvas -> 4x4 average pool (16x16) -> conv3x3 1->8 + ReLU -> conv3x3
  8->8 + ReLU -> average pool to G x G -> conv1x1 8->1: one logit per tile; a tile is
  critical (runs at the high level) when sigmoid(logit) >= threshold.
"""
import math
import re

import torch
import torch.nn as nn
import torch.nn.functional as F

NUM_CLASSES = 10
CANVAS = 64
RESOLUTIONS = (40, 48, 56, 64)
STEM_C = 16
# (out channels, max depth, min depth, stride of the first block)
STAGES = ((24, 2, 1, 2), (40, 3, 2, 2), (64, 3, 2, 2), (96, 3, 2, 1))
EXPANDS = (2, 3, 4)
KERNELS = (3, 5)
K_MAX = 5
HEAD_C = 256
BN_EPS = 1e-5
ARAC_STAGES = 1            # the prefix: stem + stage 0
ARAC_GRIDS = (1, 2, 4)
ARAC_LEVELS = (1.0, 0.75, 0.5, 0.25)
GATE_C = 8


def level_channels(c, level):
    return max(1, int(math.ceil(level * c - 1e-9)))


class SubNetConfig:
    """r{res}-d{d0}.{d1}.{d2}.{d3}-e{e per active block}-k{k per active block}."""

    def __init__(self, res, depths, expands, kernels):
        self.res, self.depths = int(res), tuple(int(d) for d in depths)
        self.expands, self.kernels = tuple(int(e) for e in expands), tuple(int(k) for k in kernels)
        self.validate()

    def validate(self):
        if self.res not in RESOLUTIONS:
            raise ValueError(f"resolution {self.res} not in {RESOLUTIONS}")
        if len(self.depths) != len(STAGES):
            raise ValueError("one depth per stage")
        for d, (_, dmax, dmin, _) in zip(self.depths, STAGES):
            if not dmin <= d <= dmax:
                raise ValueError(f"depth {d} outside [{dmin}, {dmax}]")
        n = sum(self.depths)
        if len(self.expands) != n or len(self.kernels) != n:
            raise ValueError("one expand ratio and one kernel size per active block")
        if any(e not in EXPANDS for e in self.expands) or any(k not in KERNELS for k in self.kernels):
            raise ValueError("expand or kernel outside the elastic space")

    def __str__(self):
        j = lambda v: ".".join(str(x) for x in v)
        return f"r{self.res}-d{j(self.depths)}-e{j(self.expands)}-k{j(self.kernels)}"

    @staticmethod
    def parse(s):
        m = re.fullmatch(r"r(\d+)-d([\d.]+)-e([\d.]+)-k([\d.]+)", s)
        if not m:
            raise ValueError(f"bad subnet config '{s}'")
        sp = lambda t: [int(x) for x in t.split(".")]
        return SubNetConfig(int(m.group(1)), sp(m.group(2)), sp(m.group(3)), sp(m.group(4)))

    def blocks(self):
        """(stage, block index in stage, global block index) of each active block."""
        out, i = [], 0
        for s, d in enumerate(self.depths):
            for b in range(d):
                out.append((s, b, i))
                i += 1
        return out

    @staticmethod
    def largest():
        n = sum(s[1] for s in STAGES)
        return SubNetConfig(max(RESOLUTIONS), [s[1] for s in STAGES], [max(EXPANDS)] * n, [max(KERNELS)] * n)

    @staticmethod
    def smallest():
        n = sum(s[2] for s in STAGES)
        return SubNetConfig(min(RESOLUTIONS), [s[2] for s in STAGES], [min(EXPANDS)] * n, [min(KERNELS)] * n)

    @staticmethod
    def random(rng):
        depths = [rng.randint(dmin, dmax) for (_, dmax, dmin, _) in STAGES]
        n = sum(depths)
        return SubNetConfig(rng.choice(RESOLUTIONS), depths, [rng.choice(EXPANDS) for _ in range(n)],
                            [rng.choice(KERNELS) for _ in range(n)])


class AracConfig:
    """arac-g{G}-t{threshold %}-l{high %}.{low %}:{subnet}  (subnet at r64)."""

    def __init__(self, grid, threshold_pct, high_pct, low_pct, subnet):
        self.grid, self.threshold_pct = int(grid), int(threshold_pct)
        self.high_pct, self.low_pct, self.subnet = int(high_pct), int(low_pct), subnet
        levels = [int(round(l * 100)) for l in ARAC_LEVELS]
        if self.grid not in ARAC_GRIDS or self.high_pct not in levels or self.low_pct not in levels:
            raise ValueError("ARAC grid or level outside the trained space")
        if not 0 <= self.threshold_pct <= 100 or subnet.res != CANVAS:
            raise ValueError("ARAC threshold in [0, 100] and a subnet at full resolution")

    def __str__(self):
        return f"arac-g{self.grid}-t{self.threshold_pct}-l{self.high_pct}.{self.low_pct}:{self.subnet}"

    @staticmethod
    def parse(s):
        m = re.fullmatch(r"arac-g(\d+)-t(\d+)-l(\d+)\.(\d+):(.+)", s)
        if not m:
            raise ValueError(f"bad ARAC config '{s}'")
        return AracConfig(int(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)),
                          SubNetConfig.parse(m.group(5)))


class ElasticBN(nn.Module):
    """BatchNorm over a leading channel slice. Training normalizes with batch statistics and
    tracks none; recalibrate() accumulates the statistics of one SubNet (BigNAS), which
    evaluation then uses."""

    def __init__(self, c):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(c))
        self.bias = nn.Parameter(torch.zeros(c))
        self.register_buffer("running_mean", torch.zeros(c))
        self.register_buffer("running_var", torch.ones(c))
        self.calibrating = False
        self.calib_batches = 0

    def forward(self, x):
        c = x.shape[1]
        if self.training or self.calibrating:
            if self.calibrating:
                with torch.no_grad():
                    n = x.numel() // c
                    mean = x.mean((0, 2, 3))
                    var = x.var((0, 2, 3), unbiased=True) if n > 1 else torch.zeros_like(mean)
                    k = self.calib_batches
                    self.running_mean[:c] = (self.running_mean[:c] * k + mean) / (k + 1)
                    self.running_var[:c] = (self.running_var[:c] * k + var) / (k + 1)
                    self.calib_batches += 1
            return F.batch_norm(x, None, None, self.weight[:c], self.bias[:c], True, 0.0, BN_EPS)
        return F.batch_norm(x, self.running_mean[:c], self.running_var[:c], self.weight[:c],
                            self.bias[:c], False, 0.0, BN_EPS)


def conv_slice(x, weight, out_c, k, stride, groups=1):
    """Convolution with a leading slice of output (and input) channels and a centred kernel crop."""
    kmax = weight.shape[-1]
    o = (kmax - k) // 2
    in_c = x.shape[1]
    w = weight[:out_c, : (1 if groups > 1 else in_c), o:o + k, o:o + k]
    return F.conv2d(x, w, None, stride, k // 2, 1, groups)


class Block(nn.Module):
    def __init__(self, in_c, out_c, stride):
        super().__init__()
        self.in_c, self.out_c, self.stride = in_c, out_c, stride
        hid = in_c * max(EXPANDS)
        self.expand = nn.Parameter(torch.empty(hid, in_c, 1, 1))
        self.bn1 = ElasticBN(hid)
        self.dw = nn.Parameter(torch.empty(hid, 1, K_MAX, K_MAX))
        self.bn2 = ElasticBN(hid)
        self.project = nn.Parameter(torch.empty(out_c, hid, 1, 1))
        self.bn3 = ElasticBN(out_c)
        for p in (self.expand, self.dw, self.project):
            nn.init.kaiming_normal_(p, mode="fan_out")

    def forward(self, x, expand, kernel, level=1.0):
        in_c = x.shape[1]
        hid = level_channels(self.in_c * expand, level)
        out_c = level_channels(self.out_c, level)
        h = F.relu6(self.bn1(conv_slice(x, self.expand, hid, 1, 1)))
        h = F.relu6(self.bn2(conv_slice(h, self.dw, hid, kernel, self.stride, groups=hid)))
        h = self.bn3(conv_slice(h, self.project, out_c, 1, 1))
        if self.stride == 1 and in_c == out_c and self.in_c == self.out_c:
            h = h + x
        return h


class Gate(nn.Module):
    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, GATE_C, 3, 1, 1)
        self.c2 = nn.Conv2d(GATE_C, GATE_C, 3, 1, 1)
        self.out = nn.Conv2d(GATE_C, 1, 1)

    def forward(self, canvas, grid):
        x = F.avg_pool2d(canvas, 4)
        x = F.relu(self.c1(x))
        x = F.relu(self.c2(x))
        x = F.adaptive_avg_pool2d(x, grid)
        return self.out(x)[:, 0]          # N x G x G logits


class SuperNet(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = nn.Parameter(torch.empty(STEM_C, 1, 3, 3))
        nn.init.kaiming_normal_(self.stem, mode="fan_out")
        self.stem_bn = ElasticBN(STEM_C)
        self.stages = nn.ModuleList()
        in_c = STEM_C
        for out_c, dmax, _, stride in STAGES:
            blocks = nn.ModuleList()
            for b in range(dmax):
                blocks.append(Block(in_c, out_c, stride if b == 0 else 1))
                in_c = out_c
            self.stages.append(blocks)
        self.head = nn.Parameter(torch.empty(HEAD_C, in_c, 1, 1))
        nn.init.kaiming_normal_(self.head, mode="fan_out")
        self.head_bn = ElasticBN(HEAD_C)
        self.fc = nn.Linear(HEAD_C, NUM_CLASSES)
        self.gate = Gate()

    @staticmethod
    def resize(canvas, res):
        if res == canvas.shape[-1]:
            return canvas
        return F.interpolate(canvas, size=(res, res), mode="bilinear", align_corners=False)

    def run_stages(self, x, cfg, first_stage, last_stage, level=1.0, taps=None):
        blocks = cfg.blocks()
        for s, b, i in blocks:
            if first_stage <= s < last_stage:
                x = self.stages[s][b](x, cfg.expands[i], cfg.kernels[i], level)
                if taps is not None:
                    taps[f"stage{s}.block{b}"] = x
        return x

    def prefix(self, x, cfg, level=1.0, taps=None):
        c = level_channels(STEM_C, level)
        x = F.relu6(self.stem_bn(conv_slice(x, self.stem, c, 3, 2)))
        if taps is not None:
            taps["stem"] = x
        return self.run_stages(x, cfg, 0, ARAC_STAGES, level, taps)

    def tail(self, x, cfg, taps=None):
        x = self.run_stages(x, cfg, ARAC_STAGES, len(STAGES), 1.0, taps)
        x = F.relu6(self.head_bn(F.conv2d(x, self.head)))
        if taps is not None:
            taps["head"] = x
        x = x.mean((2, 3))
        return self.fc(x)

    def forward(self, canvas, cfg, taps=None):
        """canvas: N x 1 x 64 x 64 in [0, 1]."""
        x = self.resize(canvas, cfg.res)
        return self.tail(self.prefix(x, cfg, 1.0, taps), cfg, taps)

    @staticmethod
    def stitch(features_by_level, tile_levels, grid):
        """features_by_level: {level: N x c_l x H x W}; tile_levels: N x G x G level indices
        into ARAC_LEVELS. Returns N x C x H x W with each tile's region from its level,
        channels beyond the level's slice zero."""
        full = features_by_level[ARAC_LEVELS[0]]
        n, c, h, w = full.shape
        th, tw = h // grid, w // grid
        # Per-pixel level index map at feature resolution.
        lvl = tile_levels.repeat_interleave(th, 1).repeat_interleave(tw, 2)  # N x H x W
        out = full.new_zeros(n, c, h, w)
        for li, level in enumerate(ARAC_LEVELS):
            f = features_by_level.get(level)
            if f is None:
                continue
            mask = (lvl == li).unsqueeze(1).to(full.dtype)
            out[:, : f.shape[1]] += f * mask
        return out

    def forward_arac(self, canvas, acfg, tile_levels=None, taps=None):
        """ARAC forward. tile_levels (N x G x G indices into ARAC_LEVELS) overrides the gate."""
        cfg = acfg.subnet
        if tile_levels is None:
            tile_levels = self.gate_levels(canvas, acfg)
        used = sorted(set(int(v) for v in tile_levels.unique()))
        feats = {ARAC_LEVELS[li]: self.prefix(canvas, cfg, ARAC_LEVELS[li]) for li in used}
        if ARAC_LEVELS[0] not in feats:   # shape reference for stitching
            n = canvas.shape[0]
            ref = self.prefix(canvas[:1], cfg, ARAC_LEVELS[0])
            feats[ARAC_LEVELS[0]] = ref.new_zeros(n, *ref.shape[1:])
        x = self.stitch(feats, tile_levels, acfg.grid)
        if taps is not None:
            taps["stitched"] = x
        return self.tail(x, cfg, taps), tile_levels

    def gate_levels(self, canvas, acfg):
        p = torch.sigmoid(self.gate(canvas, acfg.grid))
        hi = ARAC_LEVELS.index(acfg.high_pct / 100.0)
        lo = ARAC_LEVELS.index(acfg.low_pct / 100.0)
        crit = p >= acfg.threshold_pct / 100.0
        return torch.where(crit, torch.full_like(p, hi, dtype=torch.long), torch.full_like(p, lo, dtype=torch.long))


def conv_macs(h, w, cin, cout, k, stride, groups=1):
    oh, ow = (h + 2 * (k // 2) - k) // stride + 1, (w + 2 * (k // 2) - k) // stride + 1
    return oh * ow * cout * k * k * (cin // groups), oh, ow


def prefix_macs(h, w, cfg, level=1.0):
    """MACs of the prefix on an h x w input at a level (also used per tile with halo)."""
    c = level_channels(STEM_C, level)
    m, h, w = conv_macs(h, w, 1, c, 3, 2)
    total = m
    for s, b, i in cfg.blocks():
        if s >= ARAC_STAGES:
            break
        out_c, _, _, stride = STAGES[s]
        st = stride if b == 0 else 1
        hid = level_channels((STEM_C if (s == 0 and b == 0) else (STAGES[s - 1][0] if b == 0 else out_c)) * cfg.expands[i], level)
        oc = level_channels(out_c, level)
        m1, _, _ = conv_macs(h, w, c, hid, 1, 1)
        m2, h2, w2 = conv_macs(h, w, hid, hid, cfg.kernels[i], st, groups=hid)
        m3, _, _ = conv_macs(h2, w2, hid, oc, 1, 1)
        total += m1 + m2 + m3
        h, w, c = h2, w2, oc
    return total, h, w, c


def subnet_macs(cfg):
    """Multiply-accumulates of one SubNet inference (convolutions and the classifier)."""
    r = cfg.res
    total, h, w, c = prefix_macs(r, r, cfg)
    return total + tail_macs(h, w, c, cfg)


def tail_macs(h, w, c, cfg):
    total = 0
    for s, b, i in cfg.blocks():
        if s < ARAC_STAGES:
            continue
        out_c, _, _, stride = STAGES[s]
        st = stride if b == 0 else 1
        in_c = STAGES[s - 1][0] if b == 0 else out_c
        hid = in_c * cfg.expands[i]
        m1, _, _ = conv_macs(h, w, in_c, hid, 1, 1)
        m2, h2, w2 = conv_macs(h, w, hid, hid, cfg.kernels[i], st, groups=hid)
        m3, _, _ = conv_macs(h2, w2, hid, out_c, 1, 1)
        total += m1 + m2 + m3
        h, w = h2, w2
    m, _, _ = conv_macs(h, w, STAGES[-1][0], HEAD_C, 1, 1)
    return total + m + HEAD_C * NUM_CLASSES
