// Presets of `rmsnorm reproduce`: which runs (task × variant × seed, plus the p-sweep and shifted-init experiments)
// make up 'tiny' (tests), 'quick' (`npm start`: 3 seeds, ≤ 10 min on 2 cores), 'standard' (≈ 1 h) and 'full' (hours).
import { getTask, TASKS } from './tasks/index.js';
import type { PresetName, RunSpec } from './tasks/task.js';
import type { Variant } from './types.js';

export interface PresetInfo {
  name: PresetName;
  tasks: string[];
  seeds: number;
  /** p values of the pRMSNorm sweep on char-lm (paper Fig. 3); empty = no sweep. */
  pSweep: number[];
  /**
   * Shifted initialisation (paper §6.1, Fig. 4: RNNSearch with the weights centred at 0.2, dev BLEU): the task, the
   * shifts (means added to every weight matrix and embedding; 0 is the main run) and the variants re-run.
   */
  initShift: { task: string; shifts: number[]; variants: Variant[] };
}

const NO_SHIFT = { task: 'translation', shifts: [], variants: [] };

export const PRESETS: Record<PresetName, PresetInfo> = {
  tiny: { name: 'tiny', tasks: TASKS.map((t) => t.name), seeds: 1, pSweep: [], initShift: NO_SHIFT },
  quick: {
    name: 'quick',
    tasks: ['char-lm', 'translation', 'transformer', 'cnn'],
    seeds: 3,
    pSweep: [0.0625, 0.25, 1],
    initShift: { task: 'translation', shifts: [0.2], variants: ['layer', 'rms'] },
  },
  standard: {
    name: 'standard',
    tasks: ['char-lm', 'translation', 'transformer', 'cnn'],
    seeds: 5,
    pSweep: [0.0625, 0.125, 0.25, 0.5, 1],
    initShift: { task: 'translation', shifts: [0.1, 0.2, 0.3], variants: ['layer', 'rms'] },
  },
  full: {
    name: 'full',
    tasks: TASKS.map((t) => t.name),
    seeds: 3,
    pSweep: [0.0625, 0.125, 0.25, 0.5, 1],
    initShift: { task: 'translation', shifts: [0.1, 0.2, 0.3], variants: ['none', 'layer', 'rms'] },
  },
};

/** The paper's shift (Fig. 4); claim 6.7 is judged there. */
export const INIT_SHIFT_MEAN = 0.2;

/** Group name of the shifted-init runs with mean `shift`, e.g. 'init-0.2'. */
export const initGroup = (shift: number): string => `init-${shift}`;

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
      }
      if (name === info.initShift.task) {
        for (const shift of info.initShift.shifts) {
          const group = initGroup(shift);
          for (const variant of info.initShift.variants) {
            specs.push({ id: runId(name, variant, seed, undefined, group), task: name, variant, seed, group, settings: { ...settings, initMean: shift } });
          }
        }
      }
    }
  }
  return specs;
}
