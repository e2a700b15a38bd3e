// Training-step benchmark on tfjs wasm (not a test): a post-norm Transformer block, a GRU char-LM and a small NHWC
// CNN (spatial norms: statistics over H×W per sample and channel, gain/bias per channel — the paper's CIFAR set-up),
// each with no norm / stock tf.layers.layerNormalization / LayerNorm from tf.moments / our fused LayerNorm / RMSNorm /
// pRMSNorm, interleaved round-robin in one run. Prints the paper's speed-up (T_LN − T)/T_LN; writes bench/results/.
// Run: npx tsx src/bench/training-step.ts [--models transformer,gru,cnn | norms] [--budget-s 150] [--max-rounds 20]
//        [--norm-rounds 15] [--out FILE]   (--norm-rounds 0 skips the norms-alone part: the stock layer is slow)
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Tensor } from '@tensorflow/tfjs';
import {
  cellNormSettings, createCellWeights, gruProjectInputs, gruStepProjected, layerNorm, layerNormComposite,
  registerWasmTrainingKernels, rmsNorm, type CellNorm,
} from 'rmsnorm/tfjs';
import { initTfjsWasm } from 'rmsnorm/tfjs/node';
import { machineInfo } from './machine.js';
import { speedupOverLn, summarize } from './stats.js';

const VARIANTS = ['none', 'stock-ln-layer', 'moments-ln', 'fused-ln', 'rmsnorm', 'prmsnorm'] as const;
type Variant = (typeof VARIANTS)[number];
const P = 0.0625;
const EPS = 1e-6;

/** A norm over the last axis of a 2-D tensor with its own parameters (for `dim` features). */
type Norm = (x: Tensor) => Tensor;

function makeNorm(variant: Variant, dim: number): Norm {
  const gamma = tf.variable(tf.ones([dim]));
  const beta = tf.variable(tf.zeros([dim]));
  switch (variant) {
    case 'none': return (x) => x;
    case 'stock-ln-layer': {
      const layer = tf.layers.layerNormalization({ epsilon: EPS });
      return (x) => layer.apply(x) as Tensor;
    }
    case 'moments-ln': return (x) => layerNormComposite(x, gamma, beta, EPS);
    case 'fused-ln': return (x) => layerNorm(x, gamma, beta, { eps: EPS });
    case 'rmsnorm': return (x) => rmsNorm(x, gamma, { eps: EPS });
    case 'prmsnorm': return (x) => rmsNorm(x, gamma, { eps: EPS, p: P });
  }
}

/** pRMSNorm's p on the CNN (the paper's CIFAR-10 value, A.4). */
const P_CNN = 0.125;

/**
 * A spatial norm of NHWC x over H×W with gain/bias per channel (`channels` of them). The stock layer normalises the
 * same axes but, as Keras does, carries its gain/bias over H×W: the layer a tfjs user would reach for.
 */
function makeSpatialNorm(variant: Variant, channels: number): Norm {
  const gamma = tf.variable(tf.ones([channels]));
  const beta = tf.variable(tf.zeros([channels]));
  const o = { axis: [1, 2], channelAxis: 3, eps: EPS };
  switch (variant) {
    case 'none': return (x) => x;
    case 'stock-ln-layer': {
      const layer = tf.layers.layerNormalization({ axis: [1, 2], epsilon: EPS });
      return (x) => layer.apply(x) as Tensor;
    }
    case 'moments-ln': return (x) => {
      const { mean, variance } = tf.moments(x, [1, 2], true);
      return tf.add(tf.mul(tf.mul(tf.sub(x, mean), tf.rsqrt(tf.add(variance, EPS))), gamma), beta);
    };
    case 'fused-ln': return (x) => layerNorm(x, gamma, beta, o);
    case 'rmsnorm': return (x) => rmsNorm(x, gamma, { ...o, beta });
    case 'prmsnorm': return (x) => rmsNorm(x, gamma, { ...o, beta, p: P_CNN });
  }
}

function dense(inDim: number, outDim: number, seed: number) {
  const w = tf.variable(tf.initializers.glorotUniform({ seed }).apply([inDim, outDim]) as Tensor);
  const b = tf.variable(tf.zeros([outDim]));
  return (x: Tensor) => tf.add(tf.matMul(x as tf.Tensor2D, w as tf.Tensor2D), b);
}

interface Model {
  /** One training step (forward, backward, Adam update); resolves when the loss value is read back. */
  step(): Promise<number>;
}

/** Post-norm Transformer block: z = N2(y + FFN(y)), y = N1(x + MHA(x)); causal self-attention, LM head. */
function transformer(variant: Variant): Model {
  const [B, T, D, H, V, F] = [16, 64, 128, 4, 256, 512];
  const dh = D / H;
  const emb = tf.variable(tf.randomNormal([V, D], 0, 0.1, 'float32', 1));
  const pos = tf.variable(tf.randomNormal([T, D], 0, 0.1, 'float32', 2));
  const qkv = dense(D, 3 * D, 3);
  const proj = dense(D, D, 4);
  const ff1 = dense(D, F, 5);
  const ff2 = dense(F, D, 6);
  const head = dense(D, V, 7);
  const n1 = makeNorm(variant, D);
  const n2 = makeNorm(variant, D);
  const mask = tf.linalg.bandPart(tf.ones([T, T]), -1, 0).sub(1).mul(1e9);
  const ids = tf.tensor2d(Int32Array.from({ length: B * T }, (_, i) => (i * 31 + 7) % V), [B, T], 'int32');
  const targets = tf.oneHot(tf.tensor1d(Int32Array.from({ length: B * T }, (_, i) => (i * 17 + 3) % V), 'int32'), V);
  const opt = tf.train.adam(1e-3);
  const heads = (t: Tensor) => tf.transpose(tf.reshape(t, [B, T, H, dh]), [0, 2, 1, 3]);
  const loss = () => {
    const x = tf.reshape(tf.add(tf.gather(emb, ids), pos), [B * T, D]);
    const [q, k, v] = tf.split(qkv(x), 3, -1).map(heads);
    const att = tf.softmax(tf.add(tf.div(tf.matMul(q, k, false, true), Math.sqrt(dh)), mask));
    const a = tf.reshape(tf.transpose(tf.matMul(att, v), [0, 2, 1, 3]), [B * T, D]);
    const y = n1(tf.add(x, proj(a)));
    const z = n2(tf.add(y, ff2(tf.relu(ff1(y)))));
    return tf.losses.softmaxCrossEntropy(targets, head(z)) as tf.Scalar;
  };
  return { step: async () => { const l = opt.minimize(loss, true)!; const v = (await l.data())[0]; l.dispose(); return v; } };
}

/** GRU char-LM (emb 64, GRU 128, T 64, B 32), unrolled, norms placed as in the paper (4 per step). */
function gruLm(variant: Variant): Model {
  const [B, T, E, U, V] = [32, 64, 64, 128, 96];
  const builtIn: Record<Variant, CellNorm> = {
    none: 'none', 'stock-ln-layer': 'layer', 'moments-ln': 'layer', 'fused-ln': 'layer', rmsnorm: 'rms', prmsnorm: 'prms',
  };
  // Stock-layer and tf.moments variants plug in through normFn (the same 4 norm positions, sizes 2U, U, 2U, U).
  const custom = variant === 'stock-ln-layer' || variant === 'moments-ln' ? [2 * U, U, 2 * U, U].map((d) => makeNorm(variant, d)) : null;
  const s = cellNormSettings({
    norm: builtIn[variant], partial: P, epsilon: EPS, ...(custom ? { normFn: (x: Tensor, i: number) => custom[i](x) } : {}),
  });
  const w = createCellWeights('gru', E, U, s, 11);
  const emb = tf.variable(tf.randomNormal([V, E], 0, 0.1, 'float32', 12));
  const head = dense(U, V, 13);
  const ids = tf.tensor2d(Int32Array.from({ length: B * T }, (_, i) => (i * 13 + 5) % V), [B, T], 'int32');
  const targets = tf.oneHot(tf.tensor1d(Int32Array.from({ length: B * T }, (_, i) => (i * 29 + 1) % V), 'int32'), V);
  const opt = tf.train.adam(1e-3);
  const loss = () => {
    const { gates, cand } = gruProjectInputs(w, s, tf.gather(emb, ids)); // [B, T, 2U], [B, T, U]
    const gs = tf.unstack(gates, 1);
    const cs = tf.unstack(cand, 1);
    let h: Tensor = tf.zeros([B, U]);
    const hs: Tensor[] = [];
    for (let t = 0; t < T; t++) hs.push((h = gruStepProjected(w, s, gs[t], cs[t], h)));
    const out = tf.reshape(tf.stack(hs, 1), [B * T, U]);
    return tf.losses.softmaxCrossEntropy(targets, head(out)) as tf.Scalar;
  };
  return { step: async () => { const l = opt.minimize(loss, true)!; const v = (await l.data())[0]; l.dispose(); return v; } };
}

/** conv3×3(8) → N → relu → maxpool → conv3×3(16) → N → relu → maxpool → dense(10), NHWC 28×28×1, batch 32. */
function cnn(variant: Variant): Model {
  const [B, S, C1, C2, K] = [32, 28, 8, 16, 10];
  const init = (shape: number[], seed: number) => tf.variable(tf.initializers.glorotUniform({ seed }).apply(shape) as Tensor);
  const k1 = init([3, 3, 1, C1], 21);
  const k2 = init([3, 3, C1, C2], 22);
  const b1 = tf.variable(tf.zeros([C1]));
  const b2 = tf.variable(tf.zeros([C2]));
  const head = dense((S / 4) * (S / 4) * C2, K, 23);
  const n1 = makeSpatialNorm(variant, C1);
  const n2 = makeSpatialNorm(variant, C2);
  const images = tf.randomNormal([B, S, S, 1], 0, 1, 'float32', 24) as tf.Tensor4D;
  const targets = tf.oneHot(tf.tensor1d(Int32Array.from({ length: B }, (_, i) => (i * 7 + 3) % K), 'int32'), K);
  const opt = tf.train.adam(1e-3);
  const loss = () => {
    let h = tf.add(tf.conv2d(images, k1 as tf.Tensor4D, 1, 'same'), b1) as tf.Tensor4D;
    h = tf.maxPool(tf.relu(n1(h)) as tf.Tensor4D, 2, 2, 'valid');
    h = tf.add(tf.conv2d(h, k2 as tf.Tensor4D, 1, 'same'), b2) as tf.Tensor4D;
    h = tf.maxPool(tf.relu(n2(h)) as tf.Tensor4D, 2, 2, 'valid');
    return tf.losses.softmaxCrossEntropy(targets, head(tf.reshape(h, [B, -1]))) as tf.Scalar;
  };
  return { step: async () => { const l = opt.minimize(loss, true)!; const v = (await l.data())[0]; l.dispose(); return v; } };
}

/**
 * The norms alone at the models' shapes: forward + backward (tf.grads w.r.t. x, gamma, beta) per call, interleaved.
 * This is where RMSNorm's saving shows; in a full step it is diluted by the matmuls.
 */
async function normOnly(records: object[], machine: ReturnType<typeof machineInfo>, rounds: number): Promise<string> {
  // rows × cols of the 2-D norms; the CNN's first spatial norm (NHWC, statistics over 28×28 for 32·8 vectors).
  const cases: Array<{ shape: number[]; rows: number; cols: number; make: (v: Variant) => Norm }> = [
    { shape: [1024, 128], rows: 1024, cols: 128, make: (v) => makeNorm(v, 128) },
    { shape: [32, 256], rows: 32, cols: 256, make: (v) => makeNorm(v, 256) },
    { shape: [32, 28, 28, 8], rows: 32 * 8, cols: 28 * 28, make: (v) => makeSpatialNorm(v, 8) },
  ];
  const lines: string[] = [];
  for (const { shape, rows, cols, make } of cases) {
    const x = tf.randomNormal(shape);
    const dy = tf.randomNormal(shape);
    const variants = VARIANTS.filter((v) => v !== 'none').map((v) => {
      const norm = make(v);
      const call = () => tf.tidy(() => { tf.grads((a: Tensor) => norm(a))([x], dy)[0].dataSync(); });
      return { v, call, samples: [] as number[] };
    });
    const reps = rows * cols > 50_000 ? 10 : 100;
    for (const c of variants) for (let i = 0; i < 5; i++) c.call();
    for (let r = 0; r < rounds; r++) {
      for (const c of variants) {
        const t0 = performance.now();
        for (let i = 0; i < reps; i++) c.call();
        c.samples.push((performance.now() - t0) / reps);
      }
    }
    const p50 = Object.fromEntries(variants.map((c) => [c.v, summarize(c.samples).p50]));
    lines.push(`norm fwd+bwd ${shape.join('×')}: ` + variants.map((c) => `${c.v} ${p50[c.v].toFixed(3)} ms`).join(', ') +
      ` | RMS vs fused LN ${speedupOverLn(p50.rmsnorm, p50['fused-ln']).toFixed(1)}%, pRMS ${speedupOverLn(p50.prmsnorm, p50['fused-ln']).toFixed(1)}%`);
    for (const c of variants) {
      const q = summarize(c.samples);
      records.push({
        op: 'norm-fwd-bwd', direction: 'full', impl: c.v, backend: 'tfjs-wasm', threads: 1, rows, cols, shape,
        p: c.v === 'prmsnorm' ? (shape.length === 4 ? P_CNN : P) : c.v === 'rmsnorm' ? 1 : null, ms_p20: q.p20, ms_p50: q.p50, ms_p80: q.p80,
        gbps: null, ceiling_gbps: null, pct_of_ceiling: null, node: machine.node, cpu: machine.cpu, date: machine.date,
        version: machine.version, speedup_vs_fused_ln_pct: speedupOverLn(q.p50, p50['fused-ln']),
        speedup_vs_moments_ln_pct: speedupOverLn(q.p50, p50['moments-ln']), ratio_stock_ln_layer: p50['stock-ln-layer'] / q.p50,
      });
    }
    tf.dispose([x, dy]);
  }
  console.log(lines.join('\n'));
  return lines.join('\n');
}

/**
 * Kernel dispatches of one step, counted at tf.engine().runKernel (every op and tape clone goes through it).
 * (tf.profile would do, but it rejects a promise with `undefined` on the stock-layer GRU step.)
 */
async function kernelsPerStep(step: () => Promise<unknown>): Promise<number> {
  const engine = tf.engine() as unknown as { runKernel: (...a: unknown[]) => unknown };
  const original = engine.runKernel;
  let n = 0;
  engine.runKernel = function (this: unknown, ...a: unknown[]) { n++; return original.apply(this, a); };
  try {
    await step();
  } finally {
    engine.runKernel = original;
  }
  return n;
}

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback;
}

async function main(): Promise<void> {
  const models = arg('models', 'transformer,gru,cnn').split(',').filter((m) => m !== '' && m !== 'norms');
  const budgetS = Number(arg('budget-s', '150'));
  const maxRounds = Number(arg('max-rounds', '20'));
  const machine = machineInfo();
  const out = arg('out', `bench/results/training-step-${machine.date.slice(0, 10)}.json`);
  registerWasmTrainingKernels();
  await initTfjsWasm();
  const records: object[] = [];
  const normRounds = Number(arg('norm-rounds', '15'));
  const summary: string[] = normRounds > 0 ? [await normOnly(records, machine, normRounds)] : [];
  for (const name of models) {
    const build = name === 'transformer' ? transformer : name === 'gru' ? gruLm : name === 'cnn' ? cnn : null;
    if (build === null) throw new RangeError(`--models: unknown model '${name}' (expected transformer, gru, cnn)`);
    const built = VARIANTS.map((v) => ({ variant: v, model: build(v), samples: [] as number[], kernels: 0 }));
    for (const b of built) { await b.model.step(); await b.model.step(); } // warm-up: kernels, shapes, optimizer slots
    // Kernel dispatches per step: a load-independent view of each variant's engine work.
    for (const b of built) b.kernels = await kernelsPerStep(() => b.model.step());
    const tensorsBefore = tf.memory().numTensors;
    const start = performance.now();
    let rounds = 0;
    while (rounds < maxRounds && (rounds < 3 || (performance.now() - start) / 1000 < budgetS)) {
      // Rotate the starting variant every round so no variant always follows the same one (GC, cache state).
      for (let j = 0; j < built.length; j++) {
        const b = built[(j + rounds) % built.length];
        const t0 = performance.now();
        await b.model.step();
        b.samples.push(performance.now() - t0);
      }
      rounds++;
      process.stdout.write(`\r${name}: round ${rounds} (${((performance.now() - start) / 1000).toFixed(0)} s)   `);
    }
    process.stdout.write('\n');
    if (tf.memory().numTensors !== tensorsBefore) console.warn(`warning: ${name} leaked ${tf.memory().numTensors - tensorsBefore} tensors`);
    const p50 = Object.fromEntries(built.map((b) => [b.variant, summarize(b.samples).p50]));
    // Paired speed-up: the variants of one round ran back to back, so the per-round ratio cancels load drift between
    // rounds (a shared machine); its median is steadier than the ratio of two medians.
    const ln = built.find((b) => b.variant === 'fused-ln')!.samples;
    const paired = (b: { samples: number[] }) => summarize(b.samples.map((t, r) => 100 * (ln[r] - t) / ln[r])).p50;
    const [B, T, D] = name === 'transformer' ? [16, 64, 128] : name === 'cnn' ? [32, 28 * 28, 8] : [32, 64, 128];
    const dims = name === 'cnn' ? 'B 32, 28×28, channels 8/16' : `B ${B}, T ${T}, d ${D}`;
    console.log(`\n${name} (${dims}), ${rounds} interleaved rounds, median ms per training step:`);
    console.log('variant           ms_p50   vs stock LN layer   speed-up vs fused LN (paired)   vs tf.moments LN   kernels/step');
    for (const b of built) {
      const q = summarize(b.samples);
      const line = `${b.variant.padEnd(16)} ${q.p50.toFixed(1).padStart(7)}   ${(p50['stock-ln-layer'] / q.p50).toFixed(2).padStart(8)}×          ` +
        `${speedupOverLn(q.p50, p50['fused-ln']).toFixed(1).padStart(6)}% (${paired(b).toFixed(1).padStart(6)}%)      ` +
        `${speedupOverLn(q.p50, p50['moments-ln']).toFixed(1).padStart(6)}%` +
        `   ${String(b.kernels).padStart(8)}`;
      console.log(line);
      records.push({
        op: 'train-step', direction: 'full', impl: `${name}/${b.variant}`, backend: 'tfjs-wasm', threads: 1,
        rows: B * T, cols: D, p: b.variant === 'prmsnorm' ? (name === 'cnn' ? P_CNN : P) : b.variant === 'rmsnorm' ? 1 : null,
        ms_p20: q.p20, ms_p50: q.p50, ms_p80: q.p80, gbps: null, ceiling_gbps: null, pct_of_ceiling: null,
        node: machine.node, cpu: machine.cpu, date: machine.date, version: machine.version,
        model: name, rounds, kernels_per_step: b.kernels, paired_speedup_vs_fused_ln_pct: paired(b), speedup_vs_fused_ln_pct: speedupOverLn(q.p50, p50['fused-ln']),
        speedup_vs_moments_ln_pct: speedupOverLn(q.p50, p50['moments-ln']), ratio_stock_ln_layer: p50['stock-ln-layer'] / q.p50,
      });
    }
    summary.push(`${name}: rmsnorm ${(p50['stock-ln-layer'] / p50.rmsnorm).toFixed(2)}× faster than the stock LN layer, ` +
      `${speedupOverLn(p50.rmsnorm, p50['fused-ln']).toFixed(1)}% vs fused LN (paired ${paired(built.find((b) => b.variant === 'rmsnorm')!).toFixed(1)}%), ` +
      `pRMS ${speedupOverLn(p50.prmsnorm, p50['fused-ln']).toFixed(1)}% vs fused LN`);
    tf.disposeVariables();
  }
  console.log('\n' + summary.join('\n'));
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, JSON.stringify({ machine, note: 'tfjs 4.22 wasm backend, 1 thread; ms per full training step (forward, backward, Adam)', records }, null, 2) + '\n');
  console.log(`wrote ${out}`);
}

await main();
