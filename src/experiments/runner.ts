// Trains one run (task × variant × seed) in this process: custom Adam loop with global-norm clipping, step records
// appended to JSONL as they happen, periodic evaluations, divergence stop, atomic checkpoints and exact resume.
import * as tf from '@tensorflow/tfjs';
import { appendFileSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from './rng.js';
import { ensureTfjs } from './tfjs-env.js';
import { getTask } from './tasks/index.js';
import type { RunSpec, TaskRun } from './tasks/task.js';
import type { EvalRecord, RunResult, StepRecord } from './types.js';

export interface RunProgress {
  id: string;
  step: number;
  steps: number;
  loss: number;
  /** Training + evaluation time so far in this process (ms). */
  elapsedMs: number;
  phase: 'train' | 'eval' | 'done';
}

export interface RunOptions {
  /** Continue from the run's checkpoint if one exists (else start fresh). */
  resume?: boolean;
  /** Steps between checkpoints (default: every evaluation and at least every 50 steps). */
  checkpointEvery?: number;
  onProgress?: (p: RunProgress) => void;
  /** Test hook: stop abruptly after this step, as if the process were killed (throws RunKilled). */
  killAfterStep?: number;
  backend?: 'wasm' | 'cpu';
}

export class RunKilled extends Error {}

/**
 * One optimisation step: loss and gradients (tf.variableGrads), global-norm clipping to `clipNorm`, Adam update at
 * the run's learning rate for `step`. A non-finite loss or gradient skips the update. The backends used here
 * (wasm, cpu) execute synchronously, so timing this call covers forward, backward and update.
 */
export function trainStep<B>(run: TaskRun<B>, optimizer: tf.AdamOptimizer, batch: B, step: number, clipNorm: number): { loss: number; gradNorm: number } {
  (optimizer as unknown as { learningRate: number }).learningRate = run.learningRate(step);
  const { value, grads } = tf.variableGrads(() => run.loss(batch), run.params);
  const norm = tf.tidy(() => tf.sqrt(tf.addN(Object.values(grads).map((g) => g.square().sum()))));
  const gradNorm = norm.dataSync()[0];
  const loss = value.dataSync()[0];
  const scale = Number.isFinite(gradNorm) && gradNorm > clipNorm ? clipNorm / gradNorm : 1;
  const clipped = scale === 1 ? grads : tf.tidy(() => Object.fromEntries(Object.entries(grads).map(([k, g]) => [k, g.mul(scale)])));
  if (Number.isFinite(loss) && Number.isFinite(gradNorm)) optimizer.applyGradients(clipped as tf.NamedTensorMap as Parameters<typeof optimizer.applyGradients>[0]);
  if (scale !== 1) tf.dispose(clipped);
  tf.dispose(grads);
  tf.dispose([value, norm]);
  return { loss, gradNorm };
}

/** Adam with the task's β₂ (the Transformer uses 0.98); the learning rate is set per step by trainStep. */
export function makeOptimizer(settings: RunSpec['settings']): tf.AdamOptimizer {
  return tf.train.adam(settings.lr, 0.9, settings.adamBeta2 ?? 0.999, 1e-8);
}

/** Files of one run under `<out>/runs/`. */
export function runFiles(outDir: string, id: string) {
  const dir = join(outDir, 'runs');
  return {
    dir,
    steps: join(dir, `${id}.steps.jsonl`),
    evals: join(dir, `${id}.evals.jsonl`),
    checkpoint: join(dir, `${id}.ckpt.json`),
    result: join(dir, `${id}.result.json`),
  };
}

/** Write a file atomically: temp file in the same directory, then rename. */
export function writeAtomic(path: string, data: string): void {
  const tmp = `${path}.tmp-${process.pid}`;
  writeFileSync(tmp, data);
  renameSync(tmp, path);
}

interface Checkpoint {
  version: 1;
  id: string;
  step: number;
  wallMs: number;
  rng: number[];
  ema: number | null;
  emaMin: number;
  vars: Array<{ name: string; shape: number[]; data: string }>;
  optimizer: Array<{ name: string; shape: number[]; dtype: string; data: string }>;
  accBeta: [number, number];
}

const EMA_ALPHA = 0.9;

function encode(t: tf.Tensor): string {
  const d = t.dataSync();
  return Buffer.from(d.buffer, d.byteOffset, d.byteLength).toString('base64');
}

function decode(s: string, dtype: string): Float32Array | Int32Array {
  const b = Buffer.from(s, 'base64');
  const copy = new Uint8Array(b.length);
  copy.set(b);
  return dtype === 'int32' ? new Int32Array(copy.buffer) : new Float32Array(copy.buffer);
}

function readJsonl<T extends { step: number }>(path: string, maxStep: number): T[] {
  if (!existsSync(path)) return [];
  const out: T[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const rec = JSON.parse(line) as T;
      if (rec.step <= maxStep) out.push(rec);
    } catch {
      // A torn last line from a kill mid-write: dropped, the step is recomputed.
    }
  }
  return out;
}

function median(xs: number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** First step at which the EMA (α = 0.9, bias-corrected) of the training loss is ≤ threshold; null if never. */
export function stepsToThreshold(steps: StepRecord[], threshold: number | null): number | null {
  if (threshold === null) return null;
  let ema = 0;
  let i = 0;
  for (const s of steps) {
    i++;
    ema = EMA_ALPHA * ema + (1 - EMA_ALPHA) * s.loss;
    if (ema / (1 - EMA_ALPHA ** i) <= threshold) return s.step;
  }
  return null;
}

/**
 * Train one run to completion (or divergence) and return its result; files go to `<outDir>/runs/<id>.*`.
 * @example const r = await executeRun(spec, 'results/x', { resume: true });
 */
export async function executeRun(spec: RunSpec, outDir: string, options: RunOptions = {}): Promise<RunResult> {
  await ensureTfjs(options.backend ?? 'wasm');
  const files = runFiles(outDir, spec.id);
  mkdirSync(files.dir, { recursive: true });
  const settings = spec.settings;
  const task = getTask(spec.task);
  const run = task.create(spec);
  const params = run.params;
  const optimizer = makeOptimizer(settings);
  const rng = Rng.from(spec.seed, 'data');
  const ckptEvery = options.checkpointEvery ?? Math.min(settings.evalEvery, 50);

  let startStep = 0;
  let wallMs = 0;
  let ema: number | null = null;
  let emaMin = Infinity;
  let steps: StepRecord[] = [];
  let evals: EvalRecord[] = [];

  const ckpt: Checkpoint | null =
    options.resume && existsSync(files.checkpoint) ? (JSON.parse(readFileSync(files.checkpoint, 'utf8')) as Checkpoint) : null;
  if (ckpt) {
    if (ckpt.vars.length !== params.length) throw new Error(`checkpoint ${files.checkpoint} does not match the model of ${spec.id}`);
    ckpt.vars.forEach((v, i) => params[i].assign(tf.tensor(decode(v.data, 'float32'), v.shape)));
    await optimizer.setWeights(ckpt.optimizer.map((w) => ({ name: w.name, tensor: tf.tensor(decode(w.data, w.dtype), w.shape, w.dtype as 'float32') })));
    // setWeights recomputes β^t with pow(); restore the exact running products so the resumed curve is bit-identical.
    const acc = optimizer as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
    acc.accBeta1.assign(tf.scalar(ckpt.accBeta[0]));
    acc.accBeta2.assign(tf.scalar(ckpt.accBeta[1]));
    rng.setState(ckpt.rng);
    startStep = ckpt.step;
    wallMs = ckpt.wallMs;
    ema = ckpt.ema;
    emaMin = ckpt.emaMin;
    steps = readJsonl<StepRecord>(files.steps, startStep);
    evals = readJsonl<EvalRecord>(files.evals, startStep);
  }
  // (Re)write the logs so they hold exactly the steps up to the checkpoint; later lines are recomputed.
  writeAtomic(files.steps, steps.map((s) => JSON.stringify(s) + '\n').join(''));
  writeAtomic(files.evals, evals.map((e) => JSON.stringify(e) + '\n').join(''));

  const saveCheckpoint = async (step: number): Promise<void> => {
    const optWeights = await optimizer.getWeights();
    const acc = optimizer as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
    const c: Checkpoint = {
      version: 1,
      id: spec.id,
      step,
      wallMs,
      rng: rng.getState(),
      ema,
      emaMin,
      vars: params.map((v) => ({ name: v.name, shape: v.shape, data: encode(v) })),
      optimizer: optWeights.map((w) => ({ name: w.name, shape: w.tensor.shape, dtype: w.tensor.dtype, data: encode(w.tensor) })),
      accBeta: [acc.accBeta1.dataSync()[0], acc.accBeta2.dataSync()[0]],
    };
    // getWeights returns Adam's live moment variables (only the iteration scalar is fresh): dispose just that.
    optWeights[0]?.tensor.dispose();
    writeAtomic(files.checkpoint, JSON.stringify(c));
  };

  const started = performance.now();
  const progress = (step: number, loss: number, phase: RunProgress['phase']) =>
    options.onProgress?.({ id: spec.id, step, steps: settings.steps, loss, elapsedMs: performance.now() - started, phase });

  const evaluate = (step: number): void => {
    progress(step, steps.at(-1)?.loss ?? NaN, 'eval');
    const metrics = run.evaluate();
    const rec: EvalRecord = { step, wallMs, metrics };
    evals.push(rec);
    appendFileSync(files.evals, JSON.stringify(rec) + '\n');
  };

  let diverged = false;
  for (let step = startStep + 1; step <= settings.steps; step++) {
    const batch = run.nextBatch(rng);
    const t0 = performance.now();
    const { loss, gradNorm: gn } = trainStep(run, optimizer, batch, step, settings.clipNorm);
    const stepMs = performance.now() - t0;
    wallMs += stepMs;
    const rec: StepRecord = { step, wallMs: round(wallMs), stepMs: round(stepMs), loss, gradNorm: gn };
    steps.push(rec);
    appendFileSync(files.steps, JSON.stringify(rec) + '\n');

    ema = ema === null ? loss : EMA_ALPHA * ema + (1 - EMA_ALPHA) * loss;
    if (Number.isFinite(ema)) emaMin = Math.min(emaMin, ema);
    // Divergence: non-finite loss, or the smoothed loss climbing well above its best (a loss explosion).
    if (!Number.isFinite(loss) || !Number.isFinite(gn) || (step > 10 && ema > Math.max(1.5 * emaMin, emaMin + 1))) {
      diverged = true;
      progress(step, loss, 'train');
      break;
    }
    if (step % settings.evalEvery === 0 || step === settings.steps) evaluate(step);
    if (step % ckptEvery === 0 && step !== settings.steps) await saveCheckpoint(step);
    progress(step, loss, 'train');
    if (options.killAfterStep === step) {
      run.dispose();
      optimizer.dispose();
      throw new RunKilled(`run ${spec.id} killed after step ${step}`);
    }
  }
  const lastStep = steps.at(-1)?.step ?? 0;
  if (diverged || evals.at(-1)?.step !== lastStep) {
    if (lastStep > 0) evaluate(lastStep);
  }
  const result: RunResult = {
    task: spec.task,
    variant: spec.variant,
    seed: spec.seed,
    ...(spec.p !== undefined ? { p: spec.p } : {}),
    config: { id: spec.id, group: spec.group, backend: tf.getBackend(), ...settings },
    steps,
    evals,
    final: sanitize(evals.at(-1)?.metrics ?? {}),
    medianStepMs: round(median(steps.map((s) => s.stepMs))),
    stepsToThreshold: stepsToThreshold(steps, settings.lossThreshold),
    diverged,
    extra: run.extra?.(),
  };
  run.dispose();
  optimizer.dispose();
  writeAtomic(files.result, JSON.stringify(result));
  progress(lastStep, steps.at(-1)?.loss ?? NaN, 'done');
  return result;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function sanitize(m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Number.isFinite(v) ? v : NaN]));
}
