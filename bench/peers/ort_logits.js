#!/usr/bin/env node
// ONNX Runtime's logits of every model of an export manifest on the first N test canvases
// (workloads/supernet/export_onnx_qdq.py's int8 QDQ models, or export_onnx.py's fp32 ones):
// the oracle side of tests/test_int8_ort.sh and of make bench-peers's int8 agreement check.
//
//   node bench/peers/ort_logits.js --manifest M --n N --out FILE.json
//        [--test PREFIX] [--ort-modules DIR] [--optimized-dir DIR] [--optimization all|disabled]
//
// Session options as bench/peers/ort_bench.js (one thread, sequential, graph optimization
// level all: ORT rewrites QDQ groups into its integer operators, e.g. QLinearConv; with
// --optimization disabled it runs the graph as written: float operators between
// DequantizeLinear and QuantizeLinear, the QDQ format's reference semantics);
// --optimized-dir writes each optimized graph there (DIR/<model>.onnx) so that a caller
// can see which operators ran. The input is pixel / 255 as float32, as ort_bench.js feeds it.
// Writes {runtime, version, n, test, models: [{config, onnx, logits: [[...] per canvas]}]}
// to FILE via a temporary file renamed into place; errors on stderr, exit 1.
'use strict';

const fs = require('fs');
const path = require('path');

function fail(msg) {
  process.stderr.write(`ort_logits: error: ${msg}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const a = { test: 'data/canvas/cf64-test', ortModules: 'build/peers/node_modules', optimization: 'all' };
  for (let i = 2; i < argv.length; i += 2) {
    const key = argv[i].replace(/^--/, '').replace(/-([a-z])/g, (_, c) => c.toUpperCase());
    if (i + 1 >= argv.length) fail(`${argv[i]} needs a value`);
    a[key] = key === 'n' ? Number(argv[i + 1]) : argv[i + 1];
  }
  for (const need of ['manifest', 'out', 'n']) if (a[need] === undefined) fail(`--${need} is required`);
  if (!Number.isInteger(a.n) || a.n < 1) fail('--n must be a positive integer');
  if (!['all', 'disabled'].includes(a.optimization)) fail('--optimization must be all or disabled');
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
  if (raw.length !== off + dims.reduce((x, y) => x * y, 1)) fail(`${file}: size does not match its header`);
  return { dims, data: raw.subarray(off) };
}

async function main() {
  const a = parseArgs(process.argv);
  let ort;
  try {
    ort = require(path.resolve(a.ortModules, 'onnxruntime-node'));
  } catch (e) {
    fail(`cannot load onnxruntime-node from ${a.ortModules}: ${e.message}`);
  }
  const version = JSON.parse(fs.readFileSync(path.resolve(a.ortModules, 'onnxruntime-node/package.json'), 'utf8')).version;
  const manifest = JSON.parse(fs.readFileSync(a.manifest, 'utf8'));
  const dir = path.dirname(a.manifest);
  const images = readIdx(`${a.test}-images-idx3-ubyte`);
  const [count, h, w] = images.dims;
  const shape = manifest.input.shape;
  if (h !== shape[2] || w !== shape[3]) fail(`${a.test}: canvases are ${h}x${w}, the models take ${shape[2]}x${shape[3]}`);
  if (count < a.n) fail(`${a.test}: ${count} canvases, fewer than --n ${a.n}`);
  const feeds = Array.from({ length: a.n }, (_, i) => {
    const x = new Float32Array(h * w);
    for (let j = 0; j < h * w; ++j) x[j] = images.data[i * h * w + j] / 255;
    return new ort.Tensor('float32', x, shape);
  });
  if (a.optimizedDir) fs.mkdirSync(a.optimizedDir, { recursive: true });
  const models = [];
  for (const m of manifest.models) {
    const opts = { executionProviders: ['cpu'], intraOpNumThreads: 1, interOpNumThreads: 1,
      executionMode: 'sequential', graphOptimizationLevel: a.optimization, logSeverityLevel: 3 };
    if (a.optimizedDir) opts.optimizedModelFilePath = path.join(a.optimizedDir, m.onnx);
    const session = await ort.InferenceSession.create(path.join(dir, m.onnx), opts);
    const logits = [];
    for (const f of feeds) {
      const y = (await session.run({ [manifest.input.name]: f }))[session.outputNames[0]].data;
      logits.push(Array.from(y));
    }
    await session.release();
    models.push({ config: m.config, onnx: m.onnx, logits });
  }
  const doc = { runtime: 'onnxruntime-node', version, graph_optimization_level: a.optimization, n: a.n, test: a.test,
    manifest: a.manifest, models };
  fs.writeFileSync(a.out + '.tmp', JSON.stringify(doc) + '\n');
  fs.renameSync(a.out + '.tmp', a.out);
}

main().catch((e) => fail(e && e.message ? e.message : String(e)));
