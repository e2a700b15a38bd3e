// Interleaved step timing: builds every variant of a task in one process and times their training steps in
// alternating order (round r times A, B, C, … then rotates), so machine-load drift hits all variants alike. This is
// the step time the summaries and the speed claims use; the training runs' own medians (taken while another process
// shares the CPU) are kept beside it.
import { Rng } from 'rmsnorm/internal';
import { makeOptimizer, trainStep } from './runner.js';
import { ensureTfjs } from './tfjs-env.js';
import { median } from './metrics/stats.js';
import { getTask } from './tasks/index.js';
import type { RunSpec } from './tasks/task.js';
import type { Variant } from './types.js';

export interface StepTiming {
  variant: Variant;
  p?: number;
  /** Median of the timed steps (ms). */
  medianMs: number;
  samples: number[];
}

/**
 * Time `rounds` training steps of each spec (same task), interleaved, after `warmup` untimed steps each.
 * @example const t = await measureStepTimes(specsOfOneTaskSeed1, 8, 2);
 */
export async function measureStepTimes(specs: RunSpec[], rounds: number, warmup = 2, backend: 'wasm' | 'cpu' = 'wasm'): Promise<StepTiming[]> {
  await ensureTfjs(backend);
  const live = specs.map((spec) => {
    const run = getTask(spec.task).create(spec);
    return { spec, run, optimizer: makeOptimizer(spec.settings), rng: Rng.from(spec.seed, 'timing'), samples: [] as number[], step: 0 };
  });
  try {
    for (let r = 0; r < warmup + rounds; r++) {
      for (let i = 0; i < live.length; i++) {
        const v = live[(i + r) % live.length];
        const batch = v.run.nextBatch(v.rng);
        const t0 = performance.now();
        trainStep(v.run, v.optimizer, batch, ++v.step, v.spec.settings.clipNorm);
        const ms = performance.now() - t0;
        if (r >= warmup) v.samples.push(Math.round(ms * 1000) / 1000);
      }
    }
  } finally {
    for (const v of live) {
      v.run.dispose();
      v.optimizer.dispose();
    }
  }
  return live.map((v) => {
    const medianMs = median(v.samples);
    return { variant: v.spec.variant, ...(v.spec.p !== undefined ? { p: v.spec.p } : {}), medianMs, samples: v.samples };
  });
}
