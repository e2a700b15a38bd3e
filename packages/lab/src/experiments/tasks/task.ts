// The contract between the training runner and one task (char-lm, translation, transformer, cnn, cloze): a task
// builds a model for a run spec, draws batches from the run's seeded PRNG, computes the loss and evaluates.
import type * as tf from '@tensorflow/tfjs';
import type { Rng } from 'rmsnorm/internal';
import type { Variant } from '../types.js';

/** tiny: tests (3 steps); quick: `npm start` (3 seeds, ≤ 10 min on 2 cores); standard: ≈ 1 h, 5 seeds, longer runs; full: hours. */
export type PresetName = 'tiny' | 'quick' | 'standard' | 'full';

/** Settings every task has; tasks add their own model/data knobs. JSON-serialisable (recorded in RunResult.config). */
export interface BaseSettings {
  steps: number;
  batch: number;
  evalEvery: number;
  /** Adam learning rate (peak rate when the task uses warm-up). */
  lr: number;
  /** Global-norm gradient clipping threshold. */
  clipNorm: number;
  /** Training-loss threshold (smoothed, nats) for "steps to threshold"; null = none. */
  lossThreshold: number | null;
  /** Mean added to every weight matrix and embedding at initialisation (paper Fig. 4: 0.2); default 0. */
  initMean?: number;
  adamBeta2?: number;
  [key: string]: unknown;
}

/** One training run: task × variant × seed (× p, × init). */
export interface RunSpec {
  /** Unique, file-name-safe id, e.g. "char-lm.rms.s1" or "char-lm.prms-p0.25.s1". */
  id: string;
  task: string;
  variant: Variant;
  seed: number;
  p?: number;
  /** Groups runs that belong to one experiment: 'main', 'p-sweep', 'init-<shift>' (e.g. 'init-0.2'). */
  group: string;
  settings: BaseSettings;
}

/** A built model + data for one run. Batches are plain JS data; tensors are created inside `loss` (under tidy). */
export interface TaskRun<B = unknown> {
  params: tf.Variable[];
  nextBatch(rng: Rng): B;
  /** Mean training loss (nats) of one batch; called inside tf.variableGrads. */
  loss(batch: B): tf.Scalar;
  /** Learning rate for 1-based `step` (constant or warm-up schedule). */
  learningRate(step: number): number;
  /** Held-out metrics; must include the task's metric key. */
  evaluate(): Record<string, number>;
  /** Extra results recorded once at the end (e.g. Table 5 statistics). */
  extra?(): Record<string, unknown>;
  dispose(): void;
}

export interface TaskDef {
  name: string;
  title: string;
  /** Key in EvalRecord.metrics used as the task's headline metric. */
  metricKey: string;
  metricName: string;
  higherIsBetter: boolean;
  /** Variants run in the main comparison for each preset. */
  variants(preset: PresetName): Variant[];
  settings(preset: PresetName): BaseSettings;
  /** Relative cost of one run (seconds on this machine, roughly) for scheduling longest-first and ETAs. */
  costEstimate(settings: BaseSettings): number;
  create(spec: RunSpec): TaskRun;
  notes: string[];
}
