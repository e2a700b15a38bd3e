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
import { MIN_SAMPLE_MS, type Variant } from './types.js';

export interface StepTiming {
  variant: Variant;
  p?: number;
  /** Median of the timed samples (ms per step). */
  medianMs: number;
  /** One per round: ms per step over the sample's `stepsPerSample` consecutive steps. */
  samples: number[];
  /** Steps averaged in each sample (absent in passes written before it existed: 1). */
  stepsPerSample?: number;
}

/** Steps per sample: enough for MIN_SAMPLE_MS at the median warm-up step time of the variants (the same for all). */
function stepsPerSample(warmupMs: number[], minSampleMs: number): number {
  if (warmupMs.length === 0) return 1;
  return Math.max(1, Math.ceil(minSampleMs / Math.max(1e-3, median(warmupMs))));
}

/**
 * Time `rounds` samples of each spec's training steps (same task), interleaved, after `warmup` untimed steps each; a
 * sample is the mean of the same number of consecutive steps for every spec, enough for `minSampleMs`.
 * @example const t = await measureStepTimes(specsOfOneTaskSeed1, 8, 2);
 */
export async function measureStepTimes(
  specs: RunSpec[], rounds: number, warmup = 2, backend: 'wasm' | 'cpu' = 'wasm', minSampleMs = MIN_SAMPLE_MS,
): Promise<StepTiming[]> {
  await ensureTfjs(backend);
  const live = specs.map((spec) => {
    const run = getTask(spec.task).create(spec);
    return { spec, run, optimizer: makeOptimizer(spec.settings), rng: Rng.from(spec.seed, 'timing'), samples: [] as number[], step: 0 };
  });
  const warmupMs: number[] = [];
  let perSample = 1;
  try {
    for (let r = 0; r < warmup + rounds; r++) {
      if (r === warmup) perSample = stepsPerSample(warmupMs, minSampleMs);
      const steps = r < warmup ? 1 : perSample;
      for (let i = 0; i < live.length; i++) {
        const v = live[(i + r) % live.length];
        let ms = 0;
        for (let k = 0; k < steps; k++) {
          const batch = v.run.nextBatch(v.rng); // outside the clock: data preparation is not the step
          const t0 = performance.now();
          trainStep(v.run, v.optimizer, batch, ++v.step, v.spec.settings.clipNorm);
          ms += performance.now() - t0;
        }
        if (r >= warmup) v.samples.push(Math.round((ms / steps) * 1000) / 1000);
        else if (r === warmup - 1) warmupMs.push(ms);
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
    return {
      variant: v.spec.variant, ...(v.spec.p !== undefined ? { p: v.spec.p } : {}), medianMs, samples: v.samples,
      stepsPerSample: perSample,
    };
  });
}
