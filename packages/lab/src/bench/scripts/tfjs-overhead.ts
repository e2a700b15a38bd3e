// What our fused norms add to a TF.js training graph (tfjs wasm backend by default): forward + backward through
// tf.variableGrads of loss = sum(N(x ⊙ g) ⊙ w) for N ∈ {none (identity), tf.relu, our rmsNorm (gain), our layerNorm
// (gain, bias)}, all interleaved in one process (round-robin, rotating start). "added" = T(N) − T(none): the cost of
// the norm's forward + backward inside the graph, engine dispatch included. Prints per shape the added costs,
// RMS/LN (added and whole-graph) and RMS/relu (added), the kernel dispatches each norm adds, and our kernels' own
// time (called directly, no engine); with --out writes the bench record schema as JSON.
// Run: npx tsx src/bench/scripts/tfjs-overhead.ts [--backend wasm|cpu] [--shapes 32x64,32x192,64x512,1024x128,4096x512]
//        [--rounds 15] [--target-ms 4] [--clock wall|cpu] [--quantile 0.5] [--core auto|js|wasm] [--out FILE.json]
// --core picks the core kernels our tfjs kernels call (setTfjsCoreBackend); default auto.
// --quantile q compares the q-quantiles of the samples (default the median; on a loaded machine 0.1 filters out
// samples slowed by other processes, which only ever add time).
// --clock cpu times with process.cpuUsage() (this process's CPU time): on a machine shared with other work it is far
// steadier than wall time (time spent descheduled is not counted); wall is what a user sees on an idle machine.
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import type { Tensor, Variable } from '@tensorflow/tfjs';
import { _copyStats } from 'rmsnorm/internal';
import {
  LAYER_NORM, LAYER_NORM_GRAD, layerNorm, RMS_FAMILY, RMS_FAMILY_GRAD, rmsNorm, setTfjsCoreBackend,
} from 'rmsnorm/tfjs';
import { initTfjsWasm } from 'rmsnorm/tfjs/node';
import { machineInfo } from '../machine.js';
import { quantile, summarize } from '../stats.js';
import { arg, shapesArg } from './script-args.js';

const backend = arg('backend', 'wasm');
const shapes = shapesArg('32x64,32x192,64x512,1024x128,4096x512');
const rounds = Number(arg('rounds', '15'));
const targetMs = Number(arg('target-ms', '4'));
const out = arg('out', '');
const clock = arg('clock', 'wall');
const core = arg('core', 'auto') as 'auto' | 'js' | 'wasm';
const qLevel = Number(arg('quantile', '0.5'));
if (clock !== 'wall' && clock !== 'cpu') throw new RangeError(`--clock must be wall or cpu, got ${clock}`);
/** Milliseconds on the chosen clock. */
const now = clock === 'wall' ? () => performance.now() : () => { const u = process.cpuUsage(); return (u.user + u.system) / 1000; };

const NORMS = ['none', 'relu', 'rms', 'ln'] as const;
type NormName = (typeof NORMS)[number];

interface Case {
  name: NormName;
  step: () => void;
  samples: number[];
  reps: number;
}

/** One training-graph step: grads of sum(N(x ⊙ g) ⊙ w) w.r.t. g and the norm's own parameters. */
function makeCase(name: NormName, x: Tensor, g: Variable, w: Tensor, cols: number): Case {
  const gamma = tf.variable(tf.add(tf.ones([cols]), tf.randomNormal([cols], 0, 0.1, 'float32', 3)));
  const beta = tf.variable(tf.randomNormal([cols], 0, 0.1, 'float32', 4));
  const norm: (h: Tensor) => Tensor =
    name === 'none' ? (h) => h
    : name === 'relu' ? (h) => tf.relu(h)
    : name === 'rms' ? (h) => rmsNorm(h, gamma)
    : (h) => layerNorm(h, gamma, beta);
  const vars = name === 'rms' ? [g, gamma] : name === 'ln' ? [g, gamma, beta] : [g];
  const loss = () => tf.sum(tf.mul(norm(tf.mul(x, g)), w)) as tf.Scalar;
  const step = () => {
    const { value, grads } = tf.variableGrads(loss, vars);
    value.dispose();
    for (const k in grads) grads[k].dispose();
  };
  return { name, step, samples: [], reps: 1 };
}

/**
 * Our registered forward + backward kernels called directly (kernelFunc on the backend, no engine, no tape): the
 * part of the added cost that is ours. Minimum over short interleaved batches (interference only adds time).
 */
function kernelsAlone(x: Tensor, cols: number): { rms: number; ln: number } | null {
  const kf = (name: string) => tf.getKernel(name, tf.getBackend())?.kernelFunc as ((a: object) => tf.TensorInfo[]) | undefined;
  const [rf, rb, lf, lb] = [kf(RMS_FAMILY), kf(RMS_FAMILY_GRAD), kf(LAYER_NORM), kf(LAYER_NORM_GRAD)];
  if (!rf || !rb || !lf || !lb) return null;
  const be = tf.backend() as unknown as { disposeData(id: object): void };
  const rows = x.shape[0];
  const gamma = tf.ones([cols]);
  const beta = tf.zeros([cols]);
  const stat = tf.ones([rows]);
  const ra = { l2: false, hasGamma: true, hasBeta: false, eps: 1e-6, epsPlacement: 'inside', p: 1, kRule: 'ceil', gammaOffset: 0 };
  const la = { hasGamma: true, hasBeta: true, eps: 1e-6 };
  const run = (k: (a: object) => tf.TensorInfo[], inputs: Tensor[], attrs: object) => {
    for (const t of k({ inputs, attrs, backend: tf.backend() })) be.disposeData(t.dataId);
  };
  const rms = () => { run(rf, [x, gamma], ra); run(rb, [x, x, stat, gamma], ra); };
  const ln = () => { run(lf, [x, gamma, beta], la); run(lb, [x, x, stat, stat, gamma], la); };
  const reps = Math.max(1, Math.round(2e5 / (rows * cols)));
  const best = { rms: Infinity, ln: Infinity };
  for (let r = 0; r < 40; r++) {
    for (const [k, f] of [['rms', rms], ['ln', ln]] as const) {
      const t0 = now();
      for (let i = 0; i < reps; i++) f();
      best[k] = Math.min(best[k], (now() - t0) / reps);
    }
  }
  tf.dispose([gamma, beta, stat]);
  return best;
}

function timeReps(c: Case): number {
  const t0 = now();
  for (let i = 0; i < c.reps; i++) c.step();
  return (now() - t0) / c.reps;
}

async function main(): Promise<void> {
  setTfjsCoreBackend(core);
  if (backend === 'wasm') await initTfjsWasm();
  else await tf.setBackend(backend);
  const machine = machineInfo();
  console.log(`tfjs ${tf.version.tfjs} backend ${tf.getBackend()} (our core kernels: ${core}), ${machine.cpu}, ${machine.cores} cores, load ${machine.loadavg.join(' ')}`);
  console.log(`${clock} clock, per step (q${qLevel} of ${rounds} interleaved samples each); added = T(norm) − T(none)`);
  const records: object[] = [];
  for (const [rows, cols] of shapes) {
    const x = tf.randomNormal([rows, cols], 0, 1, 'float32', 1);
    const g = tf.variable(tf.add(tf.ones([rows, cols]), tf.randomNormal([rows, cols], 0, 0.1, 'float32', 2)));
    const w = tf.randomNormal([rows, cols], 0, 1, 'float32', 5);
    const cases = NORMS.map((n) => makeCase(n, x, g, w, cols));
    const dispatches: Record<string, number> = {};
    for (const c of cases) {
      for (let i = 0; i < 3; i++) c.step(); // warm-up: kernels, JIT
      // Kernel dispatches per step (tf.profile): the load-independent part of the engine work each norm adds.
      dispatches[c.name] = (await tf.profile(() => c.step())).kernels.length;
      const once = timeReps(c);
      c.reps = Math.max(1, Math.min(2000, Math.round(targetMs / Math.max(once, 1e-3))));
    }
    const before = { ..._copyStats };
    const tensorsBefore = tf.memory().numTensors;
    for (let r = 0; r < rounds; r++) {
      for (let j = 0; j < cases.length; j++) {
        const c = cases[(j + r) % cases.length];
        c.samples.push(timeReps(c));
      }
    }
    const leaked = tf.memory().numTensors - tensorsBefore;
    const copied = _copyStats.bytesIn - before.bytesIn + _copyStats.bytesOut - before.bytesOut;
    const p50 = Object.fromEntries(cases.map((c) => [c.name, quantile(c.samples, qLevel)])) as Record<NormName, number>;
    const added = (n: NormName) => p50[n] - p50.none;
    // Paired: RMS's added cost as LN's plus the median per-round difference T(rms) − T(ln) (the two ran back to back
    // in each round), so load drift between rounds cancels; at [4096, 512] the unpaired difference of two 40 ms
    // medians moves ±0.5 ms, as much as the kernels' whole difference.
    const byName = (n: NormName) => cases.find((c) => c.name === n)!.samples;
    const pairedRms = added('ln') + quantile(byName('rms').map((t, r) => t - byName('ln')[r]), 0.5);
    const us = (ms: number) => `${(ms * 1000).toFixed(1)} µs`;
    console.log(
      `[${rows}, ${cols}]  none ${us(p50.none)} | added: relu ${us(added('relu'))}, rms ${us(added('rms'))}, ln ${us(added('ln'))}` +
        ` | rms/ln added ${(added('rms') / added('ln')).toFixed(2)} (paired ${(pairedRms / added('ln')).toFixed(2)}), whole ${(p50.rms / p50.ln).toFixed(2)}` +
        ` | rms/relu added ${(added('rms') / added('relu')).toFixed(2)}` +
        ` | kernels added: relu ${dispatches.relu - dispatches.none}, rms ${dispatches.rms - dispatches.none}, ln ${dispatches.ln - dispatches.none}` +
        (copied > 0 ? ` | copied ${copied} B` : '') + (leaked !== 0 ? ` | LEAKED ${leaked} tensors` : ''),
    );
    for (const c of cases) {
      const q = summarize(c.samples);
      records.push({
        op: `train-graph-${c.name}`, direction: 'full', impl: c.name === 'rms' || c.name === 'ln' ? 'rmsnorm-tfjs' : 'tfjs',
        backend: `tfjs-${tf.getBackend()}`, threads: 1, rows, cols, p: c.name === 'rms' ? 1 : null,
        ms_p20: q.p20, ms_p50: q.p50, ms_p80: q.p80, gbps: null, ceiling_gbps: null, pct_of_ceiling: null,
        node: machine.node, cpu: machine.cpu, date: machine.date, version: machine.version,
        added_ms_p50: q.p50 - summarize(cases[0].samples).p50, samples: c.samples.length, reps: c.reps,
        ...(c.name === 'rms' ? { paired_rms_over_ln_added: pairedRms / added('ln') } : {}),
        [`ms_q${qLevel}`]: quantile(c.samples, qLevel), kernels_per_step: dispatches[c.name],
      });
    }
    const kernelOnly = kernelsAlone(x, cols);
    if (kernelOnly !== null) {
      console.log(`           our kernels alone (no engine; min of short batches): rms fwd+bwd ${us(kernelOnly.rms)}, ` +
        `ln fwd+bwd ${us(kernelOnly.ln)}, rms/ln ${(kernelOnly.rms / kernelOnly.ln).toFixed(2)}`);
      records.push({ op: 'kernels-alone', direction: 'full', impl: 'rmsnorm-tfjs', backend: `tfjs-${tf.getBackend()}`, threads: 1,
        rows, cols, p: 1, ms_p20: null, ms_p50: null, ms_p80: null, gbps: null, ceiling_gbps: null, pct_of_ceiling: null,
        node: machine.node, cpu: machine.cpu, date: machine.date, version: machine.version,
        rms_min_ms: kernelOnly.rms, ln_min_ms: kernelOnly.ln });
    }
    tf.dispose([x, w]);
    tf.disposeVariables();
  }
  console.log(`load after: ${machineInfo().loadavg.join(' ')}`);
  if (out !== '') {
    mkdirSync(dirname(out), { recursive: true });
    writeFileSync(out, JSON.stringify({ machine, note: `src/bench/scripts/tfjs-overhead.ts: grads of sum(N(x⊙g)⊙w), interleaved, ${clock} clock`, records }, null, 2) + '\n');
    console.log(`wrote ${out}`);
  }
}

await main();
