// Presets of `rmsnorm reproduce`: which runs (task × variant × seed, plus the p-sweep and shifted-init experiments)
// make up 'quick' (≤ 10 min on 2 cores), 'full' (hours) and 'tiny' (tests).
import { getTask, TASKS } from './tasks/index.js';
import type { PresetName, RunSpec } from './tasks/task.js';
import type { Variant } from './types.js';

export interface PresetInfo {
  name: PresetName;
  tasks: string[];
  seeds: number;
  /** p values of the pRMSNorm sweep on char-lm (paper Fig. 3); empty = no sweep. */
  pSweep: number[];
  /** Variants re-run on char-lm with weights initialised at mean 0.2 (paper Fig. 4); empty = none. */
  initShift: Variant[];
}

export const PRESETS: Record<PresetName, PresetInfo> = {
  tiny: { name: 'tiny', tasks: TASKS.map((t) => t.name), seeds: 1, pSweep: [], initShift: [] },
  quick: {
    name: 'quick',
    tasks: ['char-lm', 'translation', 'transformer', 'cnn'],
    seeds: 1,
    pSweep: [0.0625, 0.25, 1],
    initShift: ['layer', 'rms'],
  },
  full: {
    name: 'full',
    tasks: TASKS.map((t) => t.name),
    seeds: 3,
    pSweep: [0.0625, 0.125, 0.25, 0.5, 1],
    initShift: ['none', 'layer', 'rms'],
  },
};

export const INIT_SHIFT_MEAN = 0.2;

export function runId(task: string, variant: Variant, seed: number, p: number | undefined, group: string): string {
  const v = p !== undefined && (variant === 'prms' || group === 'p-sweep') ? `${variant}-p${p}` : variant;
  return `${task}.${v}${group === 'main' ? '' : `.${group}`}.s${seed}`;
}

export interface PlanOptions {
  preset: PresetName;
  tasks?: string[];
  seeds?: number;
}

/**
 * Every run of a preset, in a stable order. Seeds are 1..N; the same seed gives every variant the same
 * initial weights (shared parameter names) and the same batches.
 * @example planRuns({ preset: 'quick' }).length
 */
export function planRuns(o: PlanOptions): RunSpec[] {
  const info = PRESETS[o.preset];
  const tasks = o.tasks ?? info.tasks;
  const seeds = o.seeds ?? info.seeds;
  const specs: RunSpec[] = [];
  for (const name of tasks) {
    const task = getTask(name);
    const settings = task.settings(o.preset);
    for (let seed = 1; seed <= seeds; seed++) {
      for (const variant of task.variants(o.preset)) {
        const p = variant === 'prms' ? (name === 'cnn' ? 0.125 : 0.0625) : undefined;
        specs.push({ id: runId(name, variant, seed, p, 'main'), task: name, variant, seed, p, group: 'main', settings });
      }
      if (name === 'char-lm') {
        for (const p of info.pSweep) {
          if (p === 0.0625) continue; // the main pRMSNorm run is the sweep's first point
          specs.push({ id: runId(name, 'prms', seed, p, 'p-sweep'), task: name, variant: 'prms', seed, p, group: 'p-sweep', settings });
        }
        for (const variant of info.initShift) {
          const shifted = { ...settings, initMean: INIT_SHIFT_MEAN };
          specs.push({ id: runId(name, variant, seed, undefined, 'init-0.2'), task: name, variant, seed, group: 'init-0.2', settings: shifted });
        }
      }
    }
  }
  return specs;
}
