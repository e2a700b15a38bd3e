// The interleaved timing pass (claim 6.5e's step times): one sample per round per variant, each the mean of the same
// number of consecutive steps for every variant — as many as make MIN_SAMPLE_MS at the warm-up step time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planRuns } from '../src/experiments/presets.js';
import { measureStepTimes } from '../src/experiments/timing.js';

const specs = planRuns({ preset: 'tiny', tasks: ['cnn'], seeds: 1 });

test('timing pass: one sample per round, one step a sample when steps are long enough', async () => {
  const t = await measureStepTimes(specs, 3, 2, 'cpu', 0);
  assert.equal(t.length, specs.length);
  for (const v of t) {
    assert.equal(v.samples.length, 3);
    assert.equal(v.stepsPerSample, 1);
    assert.ok(v.samples.every((ms) => ms > 0 && Number.isFinite(ms)));
  }
});

test('timing pass: short steps are averaged over several, the same count for every variant', async () => {
  const t = await measureStepTimes(specs, 2, 2, 'cpu', 200);
  const counts = new Set(t.map((v) => v.stepsPerSample));
  assert.equal(counts.size, 1, `one steps-per-sample count for all variants, got ${[...counts].join(', ')}`);
  const n = t[0].stepsPerSample!;
  // A tiny-preset CNN step takes a few ms: 200 ms needs many of them.
  assert.ok(n > 1, `expected several steps per sample, got ${n}`);
  for (const v of t) {
    assert.equal(v.samples.length, 2);
    // Each sample is ms per step: a sample of n steps lasts n times that, i.e. at least about the target.
    assert.ok(v.samples.every((ms) => ms * n > 50), `samples ${v.samples.join(', ')} × ${n} steps`);
  }
});
