// Run plans and fair comparisons: preset plans cover every task × variant with unique ids, and every variant of a
// seed starts from the same values for the weights it shares with the others (only the norms differ).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planRuns, PRESETS } from '../src/experiments/presets.js';
import { ensureTfjs } from '../src/experiments/tfjs-env.js';
import { getTask, TASKS } from '../src/experiments/tasks/index.js';
import type { RunSpec } from '../src/experiments/tasks/task.js';

test('quick and full plans: unique ids, every task × variant × seed, sweeps where promised', () => {
  for (const preset of ['quick', 'full'] as const) {
    const specs = planRuns({ preset });
    assert.equal(new Set(specs.map((s) => s.id)).size, specs.length, `${preset}: ids unique`);
    for (const task of PRESETS[preset].tasks) {
      for (const variant of getTask(task).variants(preset)) {
        for (let seed = 1; seed <= PRESETS[preset].seeds; seed++) {
          assert.ok(specs.some((s) => s.task === task && s.variant === variant && s.seed === seed && s.group === 'main'), `${preset} ${task} ${variant} s${seed}`);
        }
      }
    }
    const sweep = specs.filter((s) => s.group === 'p-sweep' && s.seed === 1).map((s) => s.p);
    assert.deepEqual([0.0625, ...sweep], PRESETS[preset].pSweep);
    assert.ok(specs.filter((s) => s.group === 'init-0.2').every((s) => s.settings.initMean === 0.2));
  }
  assert.deepEqual(PRESETS.full.pSweep, [0.0625, 0.125, 0.25, 0.5, 1]);
  assert.ok(PRESETS.full.seeds >= 3 && PRESETS.full.tasks.includes('cloze'));
});

test('same seed → identical initial values for the weights variants share', async () => {
  await ensureTfjs();
  for (const task of TASKS.map((t) => t.name)) {
    const spec = (variant: RunSpec['variant']): RunSpec => ({ id: `${task}.${variant}`, task, variant, seed: 3, group: 'main', settings: getTask(task).settings('tiny') });
    const a = getTask(task).create(spec('none'));
    const b = getTask(task).create(spec('rms'));
    const byName = (vars: typeof a.params) => new Map(vars.map((v) => [v.name.split('/').slice(1).join('/'), v]));
    const va = byName(a.params);
    const vb = byName(b.params);
    let shared = 0;
    for (const [name, v] of va) {
      const w = vb.get(name);
      assert.ok(w, `${task}: ${name} exists in the rms model`);
      assert.deepEqual(Array.from(v.dataSync()), Array.from(w.dataSync()), `${task}: ${name}`);
      shared++;
    }
    assert.ok(shared > 3, `${task}: shared weights compared`);
    // The rms model has extra parameters: the norms' gains (initialised to 1).
    assert.ok(vb.size > va.size);
    a.dispose();
    b.dispose();
  }
});
