// Trains one run (task × variant × seed) in this process: custom Adam loop with global-norm clipping, step records
// appended to JSONL as they happen, periodic evaluations, divergence stop, atomic checkpoints and exact resume.
import * as tf from '@tensorflow/tfjs';
import { Rng } from 'rmsnorm/internal';
import { ensureTfjs } from './tfjs-env.js';
import { median } from './metrics/stats.js';
import { getTask } from './tasks/index.js';
import { FileRunStore, openCheckpoint, sealCheckpoint, type RunStore } from './run-store.js';
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
  /** Where checkpoints, logs and the result go (default: files under `<outDir>/runs/`). */
  store?: RunStore;
  /** One-line notices worth a log line (a damaged checkpoint and what was done instead, where a run resumed). */
  onNotice?: (message: string) => void;
  /** Awaited after every step (a queue worker yields here so its lock renewals and Redis writes get to run). */
  afterStep?: (step: number, checkpointed: boolean) => Promise<void>;
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

export { runFiles } from './run-store.js';
export { writeAtomic } from './atomic-write.js';

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

/** Training state carried across a checkpoint, besides the weights and the optimizer. */
interface LoopState {
  startStep: number;
  wallMs: number;
  ema: number | null;
  emaMin: number;
  steps: StepRecord[];
  evals: EvalRecord[];
}

/**
 * The newest usable checkpoint of a run: integrity-checked (length + SHA-256), parsed and matched to the model;
 * a damaged one is reported through `notice` and the previous one tried; null = start from step 0.
 */
export async function loadCheckpoint(store: RunStore, spec: RunSpec, paramCount: number, notice: (m: string) => void): Promise<Checkpoint | null> {
  const slots = await store.readCheckpoints();
  let damaged: string | null = null;
  for (const slot of slots) {
    if (slot.text === null) continue;
    const opened = openCheckpoint(slot.text);
    let why = 'damaged' in opened ? opened.damaged : null;
    let ckpt: Checkpoint | null = null;
    if (!why) {
      try {
        ckpt = JSON.parse((opened as { body: string }).body) as Checkpoint;
        if (ckpt.id !== spec.id || !Array.isArray(ckpt.vars) || ckpt.vars.length !== paramCount) why = `does not match the model of ${spec.id}`;
      } catch (err) {
        why = `unreadable (${(err as Error).message})`;
      }
    }
    if (why) {
      notice(`${spec.id}: checkpoint ${slot.where} is unusable: ${why}`);
      damaged = slot.where;
      continue;
    }
    if (damaged) notice(`${spec.id}: continuing from the previous checkpoint ${slot.where} (step ${ckpt!.step})`);
    return ckpt;
  }
  if (damaged) notice(`${spec.id}: no usable checkpoint left; restarting this run from step 0`);
  return null;
}

/** Put the weights, Adam state, data PRNG and loss EMA of a checkpoint back, bit for bit. */
async function restore(ckpt: Checkpoint, params: tf.Variable[], optimizer: tf.AdamOptimizer, rng: Rng): Promise<void> {
  ckpt.vars.forEach((v, i) => params[i].assign(tf.tensor(decode(v.data, 'float32'), v.shape)));
  await optimizer.setWeights(ckpt.optimizer.map((w) => ({ name: w.name, tensor: tf.tensor(decode(w.data, w.dtype), w.shape, w.dtype as 'float32') })));
  // setWeights recomputes β^t with pow(); restore the exact running products so the resumed curve is bit-identical.
  const acc = optimizer as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
  acc.accBeta1.assign(tf.scalar(ckpt.accBeta[0]));
  acc.accBeta2.assign(tf.scalar(ckpt.accBeta[1]));
  rng.setState(ckpt.rng);
}

/** Serialise the full training state at `step` (sealed by the caller). */
async function snapshot(spec: RunSpec, step: number, state: LoopState, params: tf.Variable[], optimizer: tf.AdamOptimizer, rng: Rng): Promise<string> {
  const optWeights = await optimizer.getWeights();
  const acc = optimizer as unknown as { accBeta1: tf.Variable; accBeta2: tf.Variable };
  const c: Checkpoint = {
    version: 1,
    id: spec.id,
    step,
    wallMs: state.wallMs,
    rng: rng.getState(),
    ema: state.ema,
    emaMin: state.emaMin,
    vars: params.map((v) => ({ name: v.name, shape: v.shape, data: encode(v) })),
    optimizer: optWeights.map((w) => ({ name: w.name, shape: w.tensor.shape, dtype: w.tensor.dtype, data: encode(w.tensor) })),
    accBeta: [acc.accBeta1.dataSync()[0], acc.accBeta2.dataSync()[0]],
  };
  // getWeights returns Adam's live moment variables (only the iteration scalar is fresh): dispose just that.
  optWeights[0]?.tensor.dispose();
  return JSON.stringify(c);
}

/** Everything one training run works with, set up by startRun. */
interface RunContext {
  spec: RunSpec;
  run: TaskRun;
  optimizer: tf.AdamOptimizer;
  /** The data stream (batch order), saved in checkpoints. */
  rng: Rng;
  store: RunStore;
  state: LoopState;
  options: RunOptions;
  progress: (step: number, loss: number, phase: RunProgress['phase']) => void;
}

/**
 * Train one run to completion (or divergence) and return its result; state goes to `options.store` (default: files
 * under `<outDir>/runs/<id>.*`).
 * @example const r = await executeRun(spec, 'results/x', { resume: true });
 */
export async function executeRun(spec: RunSpec, outDir: string, options: RunOptions = {}): Promise<RunResult> {
  await ensureTfjs(options.backend ?? 'wasm');
  const ctx = await startRun(spec, outDir, options);
  const diverged = await trainLoop(ctx);
  return await finishRun(ctx, diverged);
}

/** Build the model, optimizer and data stream; on resume, put the checkpoint's state back; reset the logs to it. */
async function startRun(spec: RunSpec, outDir: string, options: RunOptions): Promise<RunContext> {
  const store = options.store ?? new FileRunStore(outDir, spec.id);
  const notice = options.onNotice ?? (() => {});
  const run = getTask(spec.task).create(spec);
  const optimizer = makeOptimizer(spec.settings);
  const rng = Rng.from(spec.seed, 'data');
  const state: LoopState = { startStep: 0, wallMs: 0, ema: null, emaMin: Infinity, steps: [], evals: [] };
  const ckpt = options.resume ? await loadCheckpoint(store, spec, run.params.length, notice) : null;
  if (ckpt) {
    await restore(ckpt, run.params, optimizer, rng);
    Object.assign(state, { startStep: ckpt.step, wallMs: ckpt.wallMs, ema: ckpt.ema, emaMin: ckpt.emaMin }, await store.readLog(ckpt.step));
    notice(`${spec.id}: resuming from the checkpoint at step ${ckpt.step}`);
  }
  // (Re)write the logs so they hold exactly the steps up to the checkpoint; later lines are recomputed.
  await store.resetLog(state.steps, state.evals);
  const started = performance.now();
  const progress = (step: number, loss: number, phase: RunProgress['phase']) =>
    options.onProgress?.({ id: spec.id, step, steps: spec.settings.steps, loss, elapsedMs: performance.now() - started, phase });
  return { spec, run, optimizer, rng, store, state, options, progress };
}

/** Evaluate the model at `step` and log it. */
function evaluateAt(ctx: RunContext, step: number): void {
  ctx.progress(step, ctx.state.steps.at(-1)?.loss ?? NaN, 'eval');
  const rec: EvalRecord = { step, wallMs: ctx.state.wallMs, metrics: ctx.run.evaluate() };
  ctx.state.evals.push(rec);
  ctx.store.appendEval(rec);
}

/** Train from the start (or checkpoint) step to the last; evaluations and checkpoints on schedule. Returns diverged. */
async function trainLoop(ctx: RunContext): Promise<boolean> {
  const { spec, run, optimizer, rng, store, state, options } = ctx;
  const settings = spec.settings;
  const ckptEvery = options.checkpointEvery ?? Math.min(settings.evalEvery, 50);
  for (let step = state.startStep + 1; step <= settings.steps; step++) {
    const batch = run.nextBatch(rng);
    const t0 = performance.now();
    const { loss, gradNorm: gn } = trainStep(run, optimizer, batch, step, settings.clipNorm);
    const stepMs = performance.now() - t0;
    if (recordStep(ctx, step, loss, gn, stepMs)) {
      ctx.progress(step, loss, 'train');
      return true;
    }
    if (step % settings.evalEvery === 0 || step === settings.steps) evaluateAt(ctx, step);
    const checkpointed = step % ckptEvery === 0 && step !== settings.steps;
    if (checkpointed) await store.saveCheckpoint(sealCheckpoint(await snapshot(spec, step, state, run.params, optimizer, rng)));
    ctx.progress(step, loss, 'train');
    await options.afterStep?.(step, checkpointed);
    if (options.killAfterStep === step) {
      run.dispose();
      optimizer.dispose();
      throw new RunKilled(`run ${spec.id} killed after step ${step}`);
    }
  }
  return false;
}

/**
 * Log one step and update the loss EMA; true when the run diverged: a non-finite loss or gradient, or the smoothed
 * loss climbing well above its best (a loss explosion).
 */
function recordStep(ctx: RunContext, step: number, loss: number, gn: number, stepMs: number): boolean {
  const { state } = ctx;
  state.wallMs += stepMs;
  const rec: StepRecord = { step, wallMs: round(state.wallMs), stepMs: round(stepMs), loss, gradNorm: gn };
  state.steps.push(rec);
  ctx.store.appendStep(rec);
  state.ema = state.ema === null ? loss : EMA_ALPHA * state.ema + (1 - EMA_ALPHA) * loss;
  if (Number.isFinite(state.ema)) state.emaMin = Math.min(state.emaMin, state.ema);
  return !Number.isFinite(loss) || !Number.isFinite(gn) || (step > 10 && state.ema > Math.max(1.5 * state.emaMin, state.emaMin + 1));
}

/** Evaluate the last step if it was not, assemble and save the result, free the model. */
async function finishRun(ctx: RunContext, diverged: boolean): Promise<RunResult> {
  const { spec, run, optimizer, state } = ctx;
  const settings = spec.settings;
  const { steps, evals } = state;
  const lastStep = steps.at(-1)?.step ?? 0;
  if ((diverged || evals.at(-1)?.step !== lastStep) && lastStep > 0) evaluateAt(ctx, lastStep);
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
  await ctx.store.saveResult(result);
  ctx.progress(lastStep, steps.at(-1)?.loss ?? NaN, 'done');
  return result;
}

function round(x: number): number {
  return Math.round(x * 1000) / 1000;
}

function sanitize(m: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(m).map(([k, v]) => [k, Number.isFinite(v) ? v : NaN]));
}
