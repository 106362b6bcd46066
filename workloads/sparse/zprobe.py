# Probe (issue 20): top-1 of the largest SubNet untiled and of its split-1 mode-h and split-2/3
# mode-z ARAC configs with every tile at 100 ("all100") and with the object box's tiles at 100,
# the rest SKIP ("box", an oracle gate), in PyTorch, BN recalibrated per config on 256 canvases
# as export.py does, on N validation canvases (export.py's: train stream seed 9001).
#   /usr/bin/python3 workloads/sparse/zprobe.py CHECKPOINT N   (from the repository root)
import sys, os, torch, numpy as np
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "supernet")); sys.path.insert(0, HERE)
import data, sparse as sp
import importlib.util


def sibling(name):
    """This folder's NAME.py (workloads/supernet/ has modules of the same names, first on the path)."""
    spec = importlib.util.spec_from_file_location("sparse_" + name, os.path.join(HERE, name + ".py"))
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


ex, tr = sibling("export"), sibling("train")
torch.set_num_threads(int(os.environ.get("THREADS", "1")))
ck, n_val = sys.argv[1], int(sys.argv[2])
m = sp.SparseSuperNet(); ex.load_weights(m, ck); m.eval()
work = os.environ.get("WORK", "/work/ckpt/zprobe"); os.makedirs(work, exist_ok=True)
calib, _, _ = data.generate(os.environ.get("SUPERNAV", "build/supernav"), sp.TASK, "train", ex.CALIB_SEED, 256, os.path.join(work, "calib"))
val, lab, boxes = data.generate(os.environ.get("SUPERNAV", "build/supernav"), sp.TASK, "train", ex.VAL_SEED, n_val, os.path.join(work, "val"))
big = "r128-d2.3.3.3-e4.4.4.4.4.4.4.4.4.4.4-k5.5.5.5.5.5.5.5.5.5.5"
cfgs = [f"arac-p1-g8-h-t95-l100.50.0:{big}", f"arac-p2-g4-z-t95-l100.50.0:{big}", f"arac-p2-g8-z-t95-l100.50.0:{big}",
        f"arac-p3-g4-z-t95-l100.50.0:{big}", f"arac-p3-g8-z-t95-l100.50.0:{big}"]
y = torch.from_numpy(lab.astype(np.int64))
c = sp.SubNetConfig.parse(big)
st = ex.calibrate(m, calib, lambda t: m(t, c)); ex.load_stats(m, st)
with torch.no_grad():
    o = torch.cat([m(ex.to_x(val[i:i+50]), c) for i in range(0, n_val, 50)])
print(f"untiled {big}: {float((o.argmax(1)==y).float().mean())*100:.1f}", flush=True)
for text in cfgs:
    a = sp.AracConfig.parse(text); r = ex.AracRunner(m, a); r.calibrate(calib)
    res = []
    for name in ("all100", "box"):
        outs = []
        for i in range(0, n_val, 50):
            x = ex.to_x(val[i:i+50]); g = a.grid
            if name == "all100":
                tl = torch.zeros((len(x), g, g), dtype=torch.long)
            else:  # oracle: tiles on the object's box at 100, the rest SKIP
                obj = tr.tile_object(boxes[i:i+50], g)
                tl = torch.where(obj, 0, sp.ARAC_LEVELS.index(sp.SKIP))
            outs.append(r(x, tile_levels=tl)[0])
        o = torch.cat(outs); res.append(f"{name} {float((o.argmax(1)==y).float().mean())*100:.1f}")
    print(text.split(":")[0], " ".join(res), flush=True)
