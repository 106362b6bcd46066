#!/usr/bin/env node
// ONNX Runtime (onnxruntime-node) side of the peer benchmark: batch-1, single-thread latency
// of every model in the export manifest (workloads/supernet/export_onnx.py).
//
//   node bench/peers/ort_bench.js --manifest M --k K --warmup W --test PREFIX
//        --profile-dir DIR --out FILE.json [--int8-manifest M8]
//
// Per model:
//   1. check: ONNX Runtime's logits on the manifest's check canvases equal PyTorch's within
//      the manifest's relative tolerance (max |diff| / max |reference|); exits 1 if not;
//   2. profiled session (enableProfiling): W warm-up runs, then K runs on test canvases
//      0..K-1; the latency of each run is the duration of ORT's own "model_run" profiler
//      event (inside the C++ session: no JavaScript, no N-API);
//   3. the same session options without profiling, timed from JavaScript around
//      `await session.run()`, minus the binding overhead: the wall time of a null model
//      (same input and output, two trivial nodes) timed the same way. That subtracts ORT's
//      own fixed per-run cost of the null graph too, so it is a lower bound on ORT's
//      in-session latency (it favours ORT). The profiler (2) adds its own per-node event
//      recording to model_run; both figures are reported, bench/peers/run.sh picks one.
// --int8-manifest (workloads/supernet/export_onnx_qdq.py's int8 QDQ models of the same
// SubNets): right after each fp32 model, its int8 model is timed the same two ways (2. and
// 3.) with the same session options and binding overhead. It has no float reference to check
// its logits against: bench/peers/run.sh checks its top-1 against supernav's int8 beforehand
// (tests/int8_ort_compare.py) and report.py ties the timed runs to that check through the
// top-1 of every timed run, given here per canvas (top1).
// Session options: intraOpNumThreads 1, interOpNumThreads 1, executionMode sequential,
// graphOptimizationLevel all. Progress on stderr; one JSON object to --out (via a
// temporary file renamed into place).
'use strict';

const fs = require('fs');
const path = require('path');

function fail(msg) {
  process.stderr.write(`ort_bench: error: ${msg}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const a = { k: 200, warmup: 20, test: 'data/canvas/cf64-test', ortModules: 'build/peers/node_modules' };
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (i + 1 >= argv.length) fail(`${argv[i]} needs a value`);
    a[key] = ['k', 'warmup'].includes(key) ? Number(argv[i + 1]) : argv[i + 1];
  }
  for (const need of ['manifest', 'out', 'profileDir']) if (!a[need]) fail(`--${need.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} is required`);
  if (!Number.isInteger(a.k) || a.k < 1 || !Number.isInteger(a.warmup) || a.warmup < 0) fail('--k must be a positive and --warmup a non-negative integer');
  return a;
}

// IDX (big-endian header, uint8 payload) as {dims, data}.
function readIdx(file) {
  const raw = fs.readFileSync(file);
  if (raw.length < 4 || raw[0] !== 0 || raw[1] !== 0 || raw[2] !== 0x08) fail(`${file}: not a uint8 IDX file`);
  const nd = raw[3];
  const dims = [];
  for (let i = 0; i < nd; ++i) dims.push(raw.readUInt32BE(4 + 4 * i));
  const off = 4 + 4 * nd;
  const count = dims.reduce((x, y) => x * y, 1);
  if (raw.length !== off + count) fail(`${file}: size does not match its header`);
  return { dims, data: raw.subarray(off) };
}

function percentile(sorted, q) {
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil(q * sorted.length)));
  return sorted[rank - 1];
}

function summary(us) {
  const s = [...us].sort((x, y) => x - y);
  return { p50_us: percentile(s, 0.5), p99_us: percentile(s, 0.99), mean_us: us.reduce((x, y) => x + y, 0) / us.length };
}

function argmax(v) {
  let best = 0;
  for (let i = 1; i < v.length; ++i) if (v[i] > v[best]) best = i;
  return best;
}

function sessionOptions(profilePrefix) {
  const o = {
    executionProviders: ['cpu'],
    intraOpNumThreads: 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
  };
  if (profilePrefix) {
    o.enableProfiling = true;
    o.profileFilePrefix = profilePrefix;
  }
  return o;
}

// The "model_run" durations (µs) of the profile ORT wrote for PREFIX, in run order.
function modelRunDurations(prefix) {
  const dir = path.dirname(prefix);
  const base = path.basename(prefix) + '_';
  const files = fs.readdirSync(dir).filter((f) => f.startsWith(base) && f.endsWith('.json'));
  if (files.length !== 1) fail(`expected one ONNX Runtime profile ${prefix}_*.json, found ${files.length}`);
  const events = JSON.parse(fs.readFileSync(path.join(dir, files[0]), 'utf8'));
  fs.unlinkSync(path.join(dir, files[0]));   // several MB each: one event per node and run
  return events.filter((e) => e.cat === 'Session' && e.name === 'model_run').sort((x, y) => x.ts - y.ts).map((e) => e.dur);
}

async function timeWall(session, feeds, warmup, inputName) {
  for (let i = 0; i < warmup; ++i) await session.run({ [inputName]: feeds[i % feeds.length] });
  const us = [];
  for (const f of feeds) {
    const t0 = process.hrtime.bigint();
    await session.run({ [inputName]: f });
    us.push(Number(process.hrtime.bigint() - t0) / 1000);
  }
  return us;
}

// Returns {durations from the profiler, argmax per run}.
async function timeProfiled(ort, file, prefix, feeds, warmup, inputName, outputName) {
  const session = await ort.InferenceSession.create(file, sessionOptions(prefix));
  for (let i = 0; i < warmup; ++i) await session.run({ [inputName]: feeds[i % feeds.length] });
  const top1 = [];
  for (const f of feeds) {
    const out = await session.run({ [inputName]: f });
    top1.push(argmax(out[outputName].data));
  }
  session.endProfiling();
  await session.release();
  const runs = modelRunDurations(prefix);
  if (runs.length !== warmup + feeds.length) fail(`${file}: profile holds ${runs.length} model_run events, expected ${warmup + feeds.length}`);
  return { us: runs.slice(warmup), top1 };
}

// Both timings of one model: [wall us per run, the profiled runs' {us, top1}].
async function timeModel(ort, file, profilePrefix, feeds, warmup, inputName, session) {
  const wall = await timeWall(session, feeds, warmup, inputName);
  const outputName = session.outputNames[0];
  await session.release();
  return [wall, await timeProfiled(ort, file, profilePrefix, feeds, warmup, inputName, outputName)];
}

// One model's result: the profiled runs' top-1 count and both latency summaries.
function figures(m, k, prof, wall, nullWall, labels) {
  const wallS = summary(wall);
  return {
    config: m.config, macs: m.macs, n: k,
    correct: prof.top1.reduce((n, p, i) => n + (p === labels.data[i] ? 1 : 0), 0),
    profiler: summary(prof.us),
    wall: wallS,
    wall_minus_binding: { p50_us: wallS.p50_us - nullWall.p50_us, mean_us: wallS.mean_us - nullWall.mean_us },
  };
}

async function main() {
  const a = parseArgs(process.argv);
  let ort;
  try {
    ort = require(path.resolve(a.ortModules, 'onnxruntime-node'));
  } catch (e) {
    fail(`cannot load onnxruntime-node from ${a.ortModules}: ${e.message}`);
  }
  const ortVersion = JSON.parse(fs.readFileSync(path.resolve(a.ortModules, 'onnxruntime-node/package.json'), 'utf8')).version;
  const manifest = JSON.parse(fs.readFileSync(a.manifest, 'utf8'));
  const dir = path.dirname(a.manifest);
  const images = readIdx(`${a.test}-images-idx3-ubyte`);
  const labels = readIdx(`${a.test}-labels-idx1-ubyte`);
  const [count, h, w] = images.dims;
  const shape = manifest.input.shape;
  if (h !== shape[2] || w !== shape[3]) fail(`${a.test}: canvases are ${h}x${w}, the models take ${shape[2]}x${shape[3]}`);
  if (count < Math.max(a.k, manifest.check_canvases)) fail(`${a.test}: ${count} canvases, fewer than --k ${a.k}`);
  const tensor = (i) => {
    const x = new Float32Array(h * w);
    for (let j = 0; j < h * w; ++j) x[j] = images.data[i * h * w + j] / 255;
    return new ort.Tensor('float32', x, shape);
  };
  const feeds = Array.from({ length: a.k }, (_, i) => tensor(i));
  const inputName = manifest.input.name;
  let int8 = null;
  if (a.int8Manifest) {
    int8 = JSON.parse(fs.readFileSync(a.int8Manifest, 'utf8'));
    const same = int8.input.name === inputName && JSON.stringify(int8.input.shape) === JSON.stringify(shape) &&
      int8.models.length === manifest.models.length && int8.models.every((m, j) => m.config === manifest.models[j].config);
    if (!same) fail(`${a.int8Manifest}: not the same SubNets, input name or shape as ${a.manifest}`);
  }
  fs.mkdirSync(a.profileDir, { recursive: true });
  for (const f of fs.readdirSync(a.profileDir)) if (f.endsWith('.json')) fs.unlinkSync(path.join(a.profileDir, f));

  // The binding's overhead per call: the null model's wall time (see 3. above).
  const nullFile = path.join(dir, manifest.null_onnx);
  const nullProf = await timeProfiled(ort, nullFile, path.join(a.profileDir, 'null'), feeds, a.warmup, inputName, 'logits');
  const nullSession = await ort.InferenceSession.create(nullFile, sessionOptions(null));
  const nullWall = summary(await timeWall(nullSession, feeds, a.warmup, inputName));
  await nullSession.release();
  process.stderr.write(`ort_bench: binding overhead ${nullWall.p50_us.toFixed(1)} us per call (null model wall p50; its model_run p50 ${summary(nullProf.us).p50_us.toFixed(1)} us)\n`);

  const results = [], results8 = [];
  for (const [j, m] of manifest.models.entries()) {
    const file = path.join(dir, m.onnx);
    // 1. logits against PyTorch's
    const session = await ort.InferenceSession.create(file, sessionOptions(null));
    let worst = 0;
    for (let i = 0; i < manifest.check_canvases; ++i) {
      const y = (await session.run({ [inputName]: tensor(i) }))[session.outputNames[0]].data;
      const ref = m.check_logits[i];
      let diff = 0, scale = 0;
      for (let c = 0; c < ref.length; ++c) {
        diff = Math.max(diff, Math.abs(y[c] - ref[c]));
        scale = Math.max(scale, Math.abs(ref[c]));
      }
      worst = Math.max(worst, diff / Math.max(scale, 1e-12));
    }
    if (!(worst <= manifest.rel_tol)) fail(`${m.config}: ONNX Runtime's logits differ from PyTorch's by ${worst.toExponential(2)} relative (tolerance ${manifest.rel_tol})`);
    // 3. wall time without profiling, then 2. the profiler's model_run
    const [wall, prof] = await timeModel(ort, file, path.join(a.profileDir, `subnet${j}`), feeds, a.warmup, inputName, session);
    const r = figures(m, a.k, prof, wall, nullWall, labels);
    r.check_rel_err = worst;
    results.push(r);
    process.stderr.write(`ort_bench: [${j + 1}/${manifest.models.length}] ${m.config}: model_run p50 ${r.profiler.p50_us.toFixed(1)} us, ` +
      `wall - binding p50 ${r.wall_minus_binding.p50_us.toFixed(1)} us, logits ${worst.toExponential(1)} rel, top-1 ${r.correct}/${a.k}\n`);
    if (int8) {
      const m8 = int8.models[j];
      const file8 = path.join(path.dirname(a.int8Manifest), m8.onnx);
      const session8 = await ort.InferenceSession.create(file8, sessionOptions(null));
      const [wall8, prof8] = await timeModel(ort, file8, path.join(a.profileDir, `int8-subnet${j}`), feeds, a.warmup, inputName, session8);
      const r8 = figures(m8, a.k, prof8, wall8, nullWall, labels);
      r8.onnx = m8.onnx;
      r8.top1 = prof8.top1;
      results8.push(r8);
      process.stderr.write(`ort_bench: [${j + 1}/${manifest.models.length}] ${m.config} int8: model_run p50 ${r8.profiler.p50_us.toFixed(1)} us, ` +
        `wall - binding p50 ${r8.wall_minus_binding.p50_us.toFixed(1)} us, top-1 ${r8.correct}/${a.k}\n`);
    }
  }
  const doc = {
    runtime: 'onnxruntime-node', version: ortVersion, k: a.k, warmup: a.warmup,
    session_options: sessionOptions(null),
    timing: {
      profiler: 'duration of ORT\'s model_run profiler event (enableProfiling), per run',
      wall: 'process.hrtime.bigint() around await session.run(), no profiling',
      wall_minus_binding: 'wall minus the null model\'s wall (p50 minus p50, mean minus mean)',
    },
    binding_overhead_us: nullWall.p50_us,
    null_model: { wall: nullWall, profiler: summary(nullProf.us) },
    models: results,
  };
  if (int8) {
    doc.int8_manifest = a.int8Manifest;
    doc.models_int8 = results8;
  }
  fs.writeFileSync(a.out + '.tmp', JSON.stringify(doc, null, 1) + '\n');
  fs.renameSync(a.out + '.tmp', a.out);
}

main().catch((e) => fail(e && e.message ? e.message : String(e)));
