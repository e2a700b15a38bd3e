// Run plans and fair comparisons: preset plans cover every task × variant with unique ids, and every variant of a
// seed starts from the same values for the weights it shares with the others (only the norms differ).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { planRuns, PRESETS } from '../src/experiments/presets.js';
import { ensureTfjs } from '../src/experiments/tfjs-env.js';
import { getTask, TASKS } from '../src/experiments/tasks/index.js';
import type { RunSpec } from '../src/experiments/tasks/task.js';

test('quick, standard and full plans: unique ids, every task × variant × seed, sweeps where promised', () => {
  for (const preset of ['quick', 'standard', 'full'] as const) {
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
    // Shifted init (paper Fig. 4) runs on the translation task (the paper's RNNSearch), every shift × variant × seed,
    // with the shift as the init mean and otherwise the main runs' settings.
    const { task, shifts, variants } = PRESETS[preset].initShift;
    assert.equal(task, 'translation');
    assert.ok(shifts.includes(0.2), `${preset}: the paper's shift 0.2`);
    const shifted = specs.filter((s) => s.group.startsWith('init-'));
    assert.equal(shifted.length, shifts.length * variants.length * PRESETS[preset].seeds);
    const main = getTask(task).settings(preset);
    for (const s of shifted) {
      assert.equal(s.task, 'translation');
      assert.equal(s.group, `init-${s.settings.initMean}`);
      assert.deepEqual({ ...s.settings, initMean: undefined }, { ...main, initMean: undefined });
    }
  }
  assert.ok(PRESETS.quick.seeds >= 3, 'quick: at least 3 seeds for paired intervals');
  assert.ok(PRESETS.standard.seeds > PRESETS.quick.seeds);
  assert.deepEqual(PRESETS.standard.initShift.shifts, [0.1, 0.2, 0.3], 'standard: a dose-response over the shift');
  for (const task of PRESETS.quick.tasks) assert.ok(getTask(task).settings('standard').steps > getTask(task).settings('quick').steps, `standard trains ${task} longer`);
  assert.deepEqual(PRESETS.full.pSweep, [0.0625, 0.125, 0.25, 0.5, 1]);
  assert.ok(PRESETS.full.seeds >= 3 && PRESETS.full.tasks.includes('cloze'));
  // The tiny preset (tests): every task, one seed, 3 steps, no sweeps.
  assert.equal(PRESETS.tiny.seeds, 1);
  assert.ok(PRESETS.tiny.tasks.every((t) => getTask(t).settings('tiny').steps === 3));
  assert.equal(planRuns({ preset: 'tiny' }).filter((s) => s.group !== 'main').length, 0);
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

test('shifted init (Fig. 4): every weight matrix and embedding = the unshifted value + the shift; biases and gains unchanged', async () => {
  await ensureTfjs();
  const base = getTask('translation').settings('tiny');
  const mk = (initMean: number | undefined): RunSpec => ({ id: `t${initMean}`, task: 'translation', variant: 'layer', seed: 2, group: 'main', settings: { ...base, initMean } });
  const a = getTask('translation').create(mk(undefined));
  const b = getTask('translation').create(mk(0.2));
  const byName = (vars: typeof a.params) => new Map(vars.map((v) => [v.name.split('/').slice(1).join('/'), v]));
  const vb = byName(b.params);
  let shifted = 0;
  for (const [name, v] of byName(a.params)) {
    const x = v.dataSync();
    const y = vb.get(name)!.dataSync();
    const isBiasOrNorm = /(^|\/)(b|bc|bi|gamma|beta)$/.test(name);
    for (let i = 0; i < x.length; i++) {
      const expected = isBiasOrNorm ? x[i]! : x[i]! + 0.2;
      assert.ok(Math.abs(y[i]! - expected) < 1e-6, `${name}[${i}]: ${y[i]} vs ${expected}`);
    }
    if (!isBiasOrNorm) shifted++;
  }
  assert.ok(shifted >= 10, `weight matrices and embeddings shifted: ${shifted}`);
  a.dispose();
  b.dispose();
});
