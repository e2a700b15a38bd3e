// Training runner: a fixed seed reproduces the same loss curve, and a run killed mid-way then resumed from its
// checkpoint yields exactly the steps (each once) and losses of an uninterrupted run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { executeRun, RunKilled, runFiles } from '../src/experiments/runner.js';
import { getTask } from '../src/experiments/tasks/index.js';
import type { RunSpec } from '../src/experiments/tasks/task.js';
import type { StepRecord } from '../src/experiments/types.js';

function spec(task: string, variant: RunSpec['variant'], steps: number): RunSpec {
  const settings = { ...getTask(task).settings('tiny'), steps, evalEvery: 3 };
  return { id: `${task}.${variant}.s7`, task, variant, seed: 7, group: 'main', settings };
}

function stepsOf(out: string, id: string): StepRecord[] {
  return readFileSync(runFiles(out, id).steps, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => JSON.parse(l) as StepRecord);
}

test('same seed → identical loss curve (char-lm, rms)', async () => {
  const a = mkdtempSync(join(tmpdir(), 'rmsnorm-det-a-'));
  const b = mkdtempSync(join(tmpdir(), 'rmsnorm-det-b-'));
  try {
    const r1 = await executeRun(spec('char-lm', 'rms', 5), a);
    const r2 = await executeRun(spec('char-lm', 'rms', 5), b);
    assert.equal(r1.steps.length, 5);
    assert.deepEqual(r1.steps.map((s) => s.loss), r2.steps.map((s) => s.loss));
    assert.deepEqual(r1.final, r2.final);
    // A different variant with the same seed starts from the same shared weights but is a different model.
    const r3 = await executeRun(spec('char-lm', 'none', 5), b);
    assert.notDeepEqual(r1.steps.map((s) => s.loss), r3.steps.map((s) => s.loss));
  } finally {
    rmSync(a, { recursive: true, force: true });
    rmSync(b, { recursive: true, force: true });
  }
});

for (const task of ['char-lm', 'translation', 'cnn']) {
  test(`resume after a kill reproduces the uninterrupted run exactly (${task})`, async () => {
    const full = mkdtempSync(join(tmpdir(), 'rmsnorm-full-'));
    const cut = mkdtempSync(join(tmpdir(), 'rmsnorm-cut-'));
    try {
      const s = spec(task, 'layer', 7);
      const whole = await executeRun(s, full, { checkpointEvery: 2 });
      // Killed after step 5: the checkpoint is at step 4, so step 5 is in the log but must be recomputed once.
      await assert.rejects(executeRun(s, cut, { checkpointEvery: 2, killAfterStep: 5 }), RunKilled);
      assert.equal(stepsOf(cut, s.id).length, 5);
      const resumed = await executeRun(s, cut, { checkpointEvery: 2, resume: true });
      const log = stepsOf(cut, s.id);
      assert.deepEqual(log.map((r) => r.step), [1, 2, 3, 4, 5, 6, 7]);
      assert.deepEqual(log.map((r) => r.loss), whole.steps.map((r) => r.loss));
      assert.deepEqual(resumed.steps.map((r) => r.loss), whole.steps.map((r) => r.loss));
      assert.deepEqual(resumed.evals.map((e) => e.step), whole.evals.map((e) => e.step));
      assert.deepEqual(resumed.final, whole.final);
    } finally {
      rmSync(full, { recursive: true, force: true });
      rmSync(cut, { recursive: true, force: true });
    }
  });
}
