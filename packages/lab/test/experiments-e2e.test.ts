// End to end: `rmsnorm reproduce --preset tiny` trains every task in a tiny size (3 steps) in worker processes and
// writes the report; `--resume` on the finished directory retrains nothing and gives the same results.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run } from '../src/experiments/command.js';
import { planRuns } from '../src/experiments/presets.js';
import type { ReproductionResults } from '../src/experiments/types.js';

test('tiny preset: every task and variant runs, report files are written, claims are judged', async () => {
  const out = mkdtempSync(join(tmpdir(), 'rmsnorm-e2e-'));
  try {
    const code = await run(['--preset', 'tiny', '--out', out, '--jobs', '2']);
    assert.equal(code, 0);
    for (const f of ['report.html', 'results.json', 'summary.csv', 'runs.csv', 'manifest.json']) assert.ok(existsSync(join(out, f)), f);
    const results = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ReproductionResults;
    const planned = planRuns({ preset: 'tiny' });
    assert.equal(results.runs.length, planned.length);
    for (const r of results.runs) {
      assert.equal(r.steps.length, 3, `${r.task}.${r.variant}`);
      assert.ok(r.steps.every((s) => Number.isFinite(s.loss)), `${r.task}.${r.variant} losses finite`);
      assert.ok(Object.keys(r.final).length > 0);
    }
    assert.deepEqual([...new Set(results.summaries.map((s) => s.task))].sort(), [...new Set(planned.map((s) => s.task))].sort());
    assert.ok(results.claims.length >= 10);
    // Every task got an interleaved step timing, and its summary rows use it.
    for (const task of new Set(planned.map((s) => s.task))) assert.ok((results.stepTimings?.[task] ?? []).length > 0, `timing ${task}`);
    assert.ok(results.summaries.filter((s) => !s.task.includes('/')).every((s) => s.rows.every((r) => r.stepTimeSource === 'interleaved')));
    assert.ok(results.claims.every((c) => ['holds', 'does not hold', 'inconclusive'].includes(c.verdict) && c.evidence.length > 0));

    // Resuming a finished directory trains nothing and reproduces the runs.
    const again = await run(['--resume', '--out', out]);
    assert.equal(again, 0);
    const results2 = JSON.parse(readFileSync(join(out, 'results.json'), 'utf8')) as ReproductionResults;
    assert.deepEqual(results2.runs.map((r) => r.steps.map((s) => s.loss)), results.runs.map((r) => r.steps.map((s) => s.loss)));
  } finally {
    rmSync(out, { recursive: true, force: true });
  }
});
