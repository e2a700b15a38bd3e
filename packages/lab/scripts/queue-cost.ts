// What a preset costs on N queue workers, from measured times: per task, the training-step time of each main
// variant (interleaved, src/experiments/timing.ts) and the time of one evaluation, multiplied out over the preset's
// plan (steps and evaluations of every run), then scheduled longest-first onto N single-core workers.
// Usage: npx tsx scripts/queue-cost.ts [--preset full] [--rounds 4] [--workers 1,2,4,8,16,32]
import { parseArgs } from 'node:util';
import { planRuns } from '../src/experiments/presets.js';
import { ensureTfjs } from '../src/experiments/tfjs-env.js';
import { measureStepTimes } from '../src/experiments/timing.js';
import { getTask } from '../src/experiments/tasks/index.js';
import type { PresetName, RunSpec } from '../src/experiments/tasks/task.js';

const { values } = parseArgs({ options: { preset: { type: 'string' }, rounds: { type: 'string' }, workers: { type: 'string' } } });
const preset = (values.preset ?? 'full') as PresetName;
const rounds = Number(values.rounds ?? 4);
const workerCounts = (values.workers ?? '1,2,4,8,16,32').split(',').map(Number);

await ensureTfjs('wasm');
const plan = planRuns({ preset });
const stepMs = new Map<string, number>(); // task/variant → median ms per step
const evalMs = new Map<string, number>(); // task → ms per evaluation
// On a shared machine the wall times above include waiting for a core; the CPU share says how much.
const cpu0 = process.cpuUsage();
const wall0 = performance.now();
for (const task of [...new Set(plan.map((s) => s.task))]) {
  const main = plan.filter((s) => s.task === task && s.group === 'main' && s.seed === 1);
  for (const t of await measureStepTimes(main, rounds)) stepMs.set(`${task}/${t.variant}`, t.medianMs);
  // One evaluation of the RMSNorm model (evaluation cost hardly depends on the variant).
  const spec = main.find((s) => s.variant === 'rms') ?? main[0];
  const run = getTask(task).create(spec);
  const t0 = performance.now();
  run.evaluate();
  evalMs.set(task, performance.now() - t0);
  run.dispose();
  console.log(`${task}: ${main.map((s) => `${s.variant} ${stepMs.get(`${task}/${s.variant}`)!.toFixed(0)}`).join(', ')} ms/step; evaluation ${evalMs.get(task)!.toFixed(0)} ms`);
}

const cpu = process.cpuUsage(cpu0);
const share = Math.min(1, (cpu.user + cpu.system) / 1000 / (performance.now() - wall0));
console.log(`CPU share of this process while measuring: ${(100 * share).toFixed(0)} % (100 % = an idle core)`);

const cost = (s: RunSpec) => {
  const evals = Math.floor(s.settings.steps / s.settings.evalEvery) + (s.settings.steps % s.settings.evalEvery ? 1 : 0);
  return (s.settings.steps * stepMs.get(`${s.task}/${s.variant}`)! + evals * evalMs.get(s.task)!) / 1000;
};
const costs = plan.map(cost).sort((a, b) => b - a);
const total = costs.reduce((a, b) => a + b, 0);
console.log(`\n--preset ${preset}: ${plan.length} runs, ${(total / 3600).toFixed(2)} core-hours of training + evaluation; longest run ${(costs[0] / 60).toFixed(1)} min`);
console.log(`(on idle cores, scaled by the CPU share: ≈ ${((total * share) / 3600).toFixed(2)} core-hours)`);
console.log('workers  wall time (longest-first)  on idle cores  speed-up');
for (const n of workerCounts) {
  const load = new Array<number>(n).fill(0);
  for (const c of costs) load[load.indexOf(Math.min(...load))] += c;
  const wall = Math.max(...load);
  console.log(`${String(n).padStart(7)}  ${(wall / 60).toFixed(1).padStart(10)} min${' '.repeat(14)}${((wall * share) / 60).toFixed(1).padStart(7)} min  ${(total / wall).toFixed(1)}×`);
}
