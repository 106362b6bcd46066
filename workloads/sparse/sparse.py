"""The CF-128S elastic SuperNet: the region-sparse task's model (issue 20, "NeuLens for real").

Same building blocks as the CF-64 SuperNet (workloads/supernet/supernet.py: ElasticBN,
conv_slice, level_channels and the inverted-residual Block are imported from there
unchanged, so CF-64's model and outputs are untouched), with a larger canvas and a complete
ARAC:

* Layers. stem: conv3x3/s2 1->STEM_C, BN, ReLU6. Four stages of inverted-residual blocks,
  out channels 24/40/64/96, depth 1-2/2-3/2-3/2-3, first-block strides 2/2/2/2 (CF-64's last
  stage has stride 1; here the 128 canvas ends at 4x4, which keeps the tail cheap so the
  region-aware prefix is most of the work). head: pw 1x1 -> HEAD_C + BN + ReLU6, global
  average pool, linear -> 10 classes.
* Elasticity: resolution r in RESOLUTIONS (the 128x128 canvas resized with bilinear,
  half-pixel centres, align_corners=False, no antialias), depth per stage, expand ratio and
  kernel per block, exactly as CF-64.
* ARAC (NeuLens), complete:
  - split point P in ARAC_SPLITS: the prefix is the stem and stages 0..P-1 (P = 1 is
    CF-64's split); the tail is stages P..3 and the head;
  - grid G in ARAC_GRIDS over the canvas (the prefix output side at r128, 64/2^P, must be a
    multiple of G: P=3 gives 8x8, so G <= 8);
  - levels ARAC_LEVELS = 100, 75, 50, 25 % and 0 = SKIP. A tile at level l > 0 runs the
    prefix with every width cut to the leading ceil(l*C) channels (channels beyond the slice
    are zero in the stitched map, as in CF-64). A tile at SKIP is not computed: its region of
    the stitched map is the learned constant vector `skip{P}` (one value per channel of the
    prefix output, i.e. stage P-1's out channels, broadcast over the tile's pixels);
  - a config chooses at least three of the levels, the lowest of them SKIP;
  - the multi-level gate: canvas -> GATE_POOL x GATE_POOL average pool -> conv3x3 1->GATE_C
    + ReLU -> conv3x3 GATE_C->GATE_C + ReLU -> adaptive average pool to G x G -> conv1x1
    GATE_C -> len(ARAC_LEVELS): per tile, one logit per trained level, a distribution over
    "the lowest level at which the prediction stays right". A config with levels L (sorted
    high to low) and threshold T runs each tile at the lowest level l in L whose cumulative
    probability (the softmax mass of all trained levels at or below l, i.e. the gate's
    belief that l suffices) is >= T/100, and at L's highest level when none is.
  In training the equivalence "stitched tiles at level 100 == untiled prefix" (exact with
  the receptive-field halo) is used directly: the prefix runs once per level on the whole
  canvas and each tile takes its level's output region.
"""
import math
import os
import re
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "supernet"))
from supernet import Block, ElasticBN, conv_slice, level_channels  # noqa: E402
import supernet as _cf64  # noqa: E402

TASK = "cf128s"
NUM_CLASSES = 10
CANVAS = 128
RESOLUTIONS = (64, 80, 96, 112, 128)
STEM_C = 16
STEM_STRIDE = 2
# (out channels, max depth, min depth, stride of the first block)
STAGES = ((24, 2, 1, 2), (40, 3, 2, 2), (64, 3, 2, 2), (96, 3, 2, 2))
EXPANDS = _cf64.EXPANDS          # (2, 3, 4): Block reads them from supernet.py
KERNELS = _cf64.KERNELS          # (3, 5)
K_MAX = _cf64.K_MAX              # 5
HEAD_C = 256
BN_EPS = _cf64.BN_EPS
ARAC_SPLITS = (1, 2, 3)          # prefix = stem + stages 0..P-1
ARAC_GRIDS = (1, 2, 4, 8)
ARAC_LEVELS = (1.0, 0.75, 0.5, 0.25, 0.0)   # 0.0 = SKIP (tile not computed)
SKIP = 0.0
GATE_C = 8
GATE_POOL = 8


def dw_conv(x, weight, channels, k, stride):
    """Depthwise k x k convolution over the leading CHANNELS of the stored kernel (centred
    crop), computed in channels-last layout: the same arithmetic as supernet.conv_slice,
    but PyTorch 1.13's CPU depthwise backward is about 10x faster there, while its batch
    norm backward is about 10x slower, so the result goes back to the default layout."""
    o = (weight.shape[-1] - k) // 2
    w = weight[:channels, :1, o:o + k, o:o + k]
    y = F.conv2d(x.contiguous(memory_format=torch.channels_last), w, None, stride, k // 2, 1, channels)
    return y.contiguous()


class SparseBlock(Block):
    """supernet.Block (same tensors, same computation), with the depthwise convolution in
    channels-last layout for training speed (see dw_conv)."""

    def forward(self, x, expand, kernel, level=1.0):
        in_c = x.shape[1]
        hid = level_channels(self.in_c * expand, level)
        out_c = level_channels(self.out_c, level)
        h = F.relu6(self.bn1(conv_slice(x, self.expand, hid, 1, 1)))
        h = F.relu6(self.bn2(dw_conv(h, self.dw, hid, kernel, self.stride)))
        h = self.bn3(conv_slice(h, self.project, out_c, 1, 1))
        if self.stride == 1 and in_c == out_c and self.in_c == self.out_c:
            h = h + x
        return h


def pct(level):
    return int(round(level * 100))


class SubNetConfig(_cf64.SubNetConfig):
    """r{res}-d{d0}.{d1}.{d2}.{d3}-e{...}-k{...}, CF-64's syntax over this task's space."""

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

    @staticmethod
    def parse(s):
        m = re.fullmatch(r"r(\d+)-d([\d.]+)-e([\d.]+)-k([\d.]+)", s)
        if not m:
            raise ValueError(f"bad subnet config '{s}'")
        sp = lambda t: [int(x) for x in t.split(".")]
        return SubNetConfig(int(m.group(1)), sp(m.group(2)), sp(m.group(3)), sp(m.group(4)))

    @staticmethod
    def largest():
        n = sum(s[1] for s in STAGES)
        return SubNetConfig(max(RESOLUTIONS), [s[1] for s in STAGES], [max(EXPANDS)] * n, [max(KERNELS)] * n)

    @staticmethod
    def smallest():
        n = sum(s[2] for s in STAGES)
        return SubNetConfig(min(RESOLUTIONS), [s[2] for s in STAGES], [min(EXPANDS)] * n, [min(KERNELS)] * n)

    @staticmethod
    def random(rng, res=None):
        depths = [rng.randint(dmin, dmax) for (_, dmax, dmin, _) in STAGES]
        n = sum(depths)
        r = rng.choice(RESOLUTIONS)
        return SubNetConfig(r if res is None else res, depths, [rng.choice(EXPANDS) for _ in range(n)],
                            [rng.choice(KERNELS) for _ in range(n)])


def prefix_side(split, res=CANVAS):
    """Side of the prefix output map for an input of side res (stride-2 convs, pad k//2)."""
    s = (res - 1) // STEM_STRIDE + 1
    for p in range(split):
        s = (s - 1) // STAGES[p][3] + 1
    return s


ARAC_MODES = ("h", "z")


class AracConfig:
    """arac-p{P}-g{G}-{M}-t{T}-l{L1}.{L2}...{0}:{subnet}

    P split point (1..3), G grid, M region mode (h: exact receptive-field halo, the stitched
    map at level 100 equals the untiled prefix; z: tile-local micro-flows, each tile's
    prefix sees only its own pixels with zero padding at the tile's borders, no halo),
    T gate threshold %, levels in % from high to low, at least three, strictly decreasing,
    the last 0 (SKIP); the subnet at r128 (full resolution)."""

    def __init__(self, split, grid, threshold_pct, levels_pct, subnet, mode="h"):
        self.split, self.grid, self.threshold_pct = int(split), int(grid), int(threshold_pct)
        self.mode = mode
        if mode not in ARAC_MODES:
            raise ValueError(f"region mode {mode} not in {ARAC_MODES}")
        self.levels_pct = tuple(int(l) for l in levels_pct)
        self.subnet = subnet
        trained = [pct(l) for l in ARAC_LEVELS]
        if self.split not in ARAC_SPLITS:
            raise ValueError(f"split {self.split} not in {ARAC_SPLITS}")
        if self.grid not in ARAC_GRIDS or prefix_side(self.split) % self.grid:
            raise ValueError(f"grid {self.grid} not in {ARAC_GRIDS} or does not divide the prefix output")
        if (len(self.levels_pct) < 3 or any(l not in trained for l in self.levels_pct)
                or list(self.levels_pct) != sorted(set(self.levels_pct), reverse=True)
                or self.levels_pct[-1] != 0):
            raise ValueError("levels: at least three trained levels, high to low, the last 0 (skip)")
        if not 0 <= self.threshold_pct <= 100 or subnet.res != CANVAS:
            raise ValueError("threshold in [0, 100] and a subnet at full resolution")

    def __str__(self):
        return (f"arac-p{self.split}-g{self.grid}-{self.mode}-t{self.threshold_pct}-l"
                + ".".join(str(l) for l in self.levels_pct) + f":{self.subnet}")

    @staticmethod
    def parse(s):
        m = re.fullmatch(r"arac-p(\d+)-g(\d+)-([hz])-t(\d+)-l([\d.]+):(.+)", s)
        if not m:
            raise ValueError(f"bad ARAC config '{s}'")
        return AracConfig(int(m.group(1)), int(m.group(2)), int(m.group(4)),
                          [int(x) for x in m.group(5).split(".")], SubNetConfig.parse(m.group(6)),
                          m.group(3))


class Gate(nn.Module):
    """Multi-level gate: per tile, one logit per trained level (ARAC_LEVELS order)."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(1, GATE_C, 3, 1, 1)
        self.c2 = nn.Conv2d(GATE_C, GATE_C, 3, 1, 1)
        self.out = nn.Conv2d(GATE_C, len(ARAC_LEVELS), 1)

    def forward(self, canvas, grid):
        x = F.avg_pool2d(canvas, GATE_POOL)
        x = F.relu(self.c1(x))
        x = F.relu(self.c2(x))
        x = F.adaptive_avg_pool2d(x, grid)
        return self.out(x)              # N x LEVELS x G x G logits


class SparseSuperNet(nn.Module):
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
                blocks.append(SparseBlock(in_c, out_c, stride if b == 0 else 1))
                in_c = out_c
            self.stages.append(blocks)
        self.head = nn.Parameter(torch.empty(HEAD_C, in_c, 1, 1))
        nn.init.kaiming_normal_(self.head, mode="fan_out")
        self.head_bn = ElasticBN(HEAD_C)
        self.fc = nn.Linear(HEAD_C, NUM_CLASSES)
        self.gate = Gate()
        # SKIP tiles' features: one learned vector per split point (prefix output channels)
        self.skip = nn.ParameterDict({str(p): nn.Parameter(torch.zeros(STAGES[p - 1][0]))
                                      for p in ARAC_SPLITS})

    @staticmethod
    def resize(canvas, res):
        if res == canvas.shape[-1]:
            return canvas
        return F.interpolate(canvas, size=(res, res), mode="bilinear", align_corners=False)

    def run_stages(self, x, cfg, first_stage, last_stage, level=1.0, taps=None):
        for s, b, i in cfg.blocks():
            if first_stage <= s < last_stage:
                x = self.stages[s][b](x, cfg.expands[i], cfg.kernels[i], level)
                if taps is not None:
                    taps[f"stage{s}.block{b}"] = x
        return x

    def prefix(self, x, cfg, split, level=1.0, taps=None):
        c = level_channels(STEM_C, level)
        x = F.relu6(self.stem_bn(conv_slice(x, self.stem, c, 3, STEM_STRIDE)))
        if taps is not None:
            taps["stem"] = x
        return self.run_stages(x, cfg, 0, split, level, taps)

    def tail(self, x, cfg, split, taps=None):
        x = self.run_stages(x, cfg, split, len(STAGES), 1.0, taps)
        x = F.relu6(self.head_bn(F.conv2d(x, self.head)))
        if taps is not None:
            taps["head"] = x
        return self.fc(x.mean((2, 3)))

    def forward(self, canvas, cfg, taps=None):
        """canvas: N x 1 x 128 x 128 in [0, 1]."""
        x = self.resize(canvas, cfg.res)
        return self.tail(self.prefix(x, cfg, 1, 1.0, taps), cfg, 1, taps)

    def stitch(self, feats, tile_levels, grid, split, shape):
        """feats: {level index: N x c_l x H x W} (computed levels); tile_levels: N x G x G
        indices into ARAC_LEVELS. Returns N x C x H x W: each tile's region from its level
        (channels beyond the level's slice zero), SKIP tiles the learned constant."""
        n, c, h, w = shape
        th, tw = h // grid, w // grid
        lvl = tile_levels.repeat_interleave(th, 1).repeat_interleave(tw, 2)   # N x H x W
        out = None
        for li, level in enumerate(ARAC_LEVELS):
            mask = (lvl == li).unsqueeze(1).float()
            if level == SKIP:
                term = self.skip[str(split)].view(1, c, 1, 1) * mask
            elif li in feats:
                f = feats[li]
                term = f * mask
                if f.shape[1] < c:
                    term = F.pad(term, (0, 0, 0, 0, 0, c - f.shape[1]))
            else:
                continue
            out = term if out is None else out + term
        return out

    def prefix_tiles(self, canvas, cfg, split, grid, tile_levels):
        """Mode z: every tile's prefix on its own pixels (zero padding at its borders), only
        the tiles at each computed level, SKIP tiles the learned constant; reassembled into
        the N x C x H x W map the tail reads."""
        n, _, side, _ = canvas.shape
        t = side // grid
        tiles = canvas.view(n, 1, grid, t, grid, t).permute(0, 2, 4, 1, 3, 5).reshape(n * grid * grid, 1, t, t)
        lv = tile_levels.reshape(-1)
        c = STAGES[split - 1][0]
        ts = prefix_side(split, t)
        out = self.skip[str(split)].view(1, c, 1, 1).expand(n * grid * grid, c, ts, ts)
        for li, level in enumerate(ARAC_LEVELS):
            if level == SKIP:
                continue
            idx = (lv == li).nonzero().flatten()
            if idx.numel() == 0:
                continue
            f = self.prefix(tiles.index_select(0, idx), cfg, split, level)
            if f.shape[1] < c:
                f = F.pad(f, (0, 0, 0, 0, 0, c - f.shape[1]))
            out = out.index_copy(0, idx, f)
        return out.reshape(n, grid, grid, c, ts, ts).permute(0, 3, 1, 4, 2, 5).reshape(n, c, grid * ts, grid * ts)

    def forward_arac(self, canvas, acfg, tile_levels=None, taps=None):
        """ARAC forward at full resolution. tile_levels (N x G x G indices into ARAC_LEVELS)
        overrides the gate. Returns (logits, tile_levels)."""
        cfg, split = acfg.subnet, acfg.split
        if tile_levels is None:
            tile_levels = self.gate_levels(canvas, acfg)
        if acfg.mode == "z":
            x = self.prefix_tiles(canvas, cfg, split, acfg.grid, tile_levels)
            if taps is not None:
                taps["stitched"] = x
            return self.tail(x, cfg, split, taps), tile_levels
        used = sorted(set(int(v) for v in tile_levels.unique()))
        feats = {li: self.prefix(canvas, cfg, split, ARAC_LEVELS[li]) for li in used
                 if ARAC_LEVELS[li] != SKIP}
        side = prefix_side(split, canvas.shape[-1])
        shape = (canvas.shape[0], STAGES[split - 1][0], side, side)
        x = self.stitch(feats, tile_levels, acfg.grid, split, shape)
        if taps is not None:
            taps["stitched"] = x
        return self.tail(x, cfg, split, taps), tile_levels

    def gate_levels(self, canvas, acfg):
        """Per tile, the lowest config level whose cumulative gate probability (softmax mass
        of the trained levels at or below it) reaches the threshold; else the highest."""
        p = F.softmax(self.gate(canvas, acfg.grid), 1)       # N x L x G x G
        trained = [pct(l) for l in ARAC_LEVELS]               # high to low
        choice = torch.full(p.shape[:1] + p.shape[2:], trained.index(acfg.levels_pct[0]), dtype=torch.long)
        t = acfg.threshold_pct / 100.0
        # from the highest config level down to the lowest: a lower one replaces the choice
        for lp in acfg.levels_pct[1:]:
            li = trained.index(lp)
            mass = p[:, li:].sum(1)       # P(needed level <= this level)
            choice = torch.where(mass >= t, torch.full_like(choice, li), choice)
        return choice


def conv_macs(h, w, cin, cout, k, stride, groups=1):
    """MACs of one convolution with padding k//2; returns (macs, out h, out w)."""
    oh, ow = (h + 2 * (k // 2) - k) // stride + 1, (w + 2 * (k // 2) - k) // stride + 1
    return oh * ow * cout * k * k * (cin // groups), oh, ow


def subnet_macs(cfg):
    """Multiply-accumulates of one untiled SubNet inference at its resolution: every
    convolution and the classifier (what the engine's plan counts for a SubNet)."""
    total, h, w = conv_macs(cfg.res, cfg.res, 1, STEM_C, 3, STEM_STRIDE)
    c = STEM_C
    for s, b, i in cfg.blocks():
        out_c, _, _, stride = STAGES[s]
        hid = c * cfg.expands[i]
        m1, _, _ = conv_macs(h, w, c, hid, 1, 1)
        m2, h2, w2 = conv_macs(h, w, hid, hid, cfg.kernels[i], stride if b == 0 else 1, groups=hid)
        m3, _, _ = conv_macs(h2, w2, hid, out_c, 1, 1)
        total += m1 + m2 + m3
        h, w, c = h2, w2, out_c
    m, _, _ = conv_macs(h, w, c, HEAD_C, 1, 1)
    return total + m + HEAD_C * NUM_CLASSES
