// The app's dependency order (README, Development → Layout) as a test: data/models/metrics ← tasks ← runner ←
// claims/summaries ← report ← the commands, no import cycles, and the library reached only by its package names.
// Runtime imports only (static and dynamic); type-only imports vanish at run time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: repository tooling in plain JavaScript (scripts/import-graph.mjs), no declarations
import { cycles, forbidden, importGraph } from '../../../scripts/import-graph.mjs';

type Graph = Map<string, { local: Set<string>; bare: Set<string> }>;
const graph: Graph = importGraph(fileURLToPath(new URL('../src', import.meta.url)));
const E = 'experiments/';
const COMMANDS = [`${E}command.ts`, `${E}queue/`, `${E}worker.ts`, 'cli.ts', 'bench/command.ts'];

test('layering: the import graph of packages/lab/src has modules and no cycles', () => {
  assert.ok(graph.size > 40, `expected the app's modules, found ${graph.size}`);
  assert.deepEqual(cycles(graph), []);
});

test('layering: data, models and metrics import no task, runner, claim, report or command', () => {
  const above = [`${E}tasks/`, `${E}runner.ts`, `${E}claims.ts`, `${E}summaries.ts`, `${E}timing.ts`, 'report/', ...COMMANDS];
  for (const layer of [`${E}data/`, `${E}models/`, `${E}metrics/`]) assert.deepEqual(forbidden(graph, layer, above), []);
  assert.deepEqual(forbidden(graph, `${E}tasks/`, [`${E}runner.ts`, `${E}claims.ts`, `${E}summaries.ts`, 'report/', ...COMMANDS]), []);
  assert.deepEqual(forbidden(graph, `${E}runner.ts`, [`${E}claims.ts`, `${E}summaries.ts`, 'report/', ...COMMANDS]), []);
});

test('layering: claims/summaries import no report or command; the report imports no runner, task or command', () => {
  for (const m of [`${E}claims.ts`, `${E}summaries.ts`]) assert.deepEqual(forbidden(graph, m, ['report/', ...COMMANDS]), []);
  assert.deepEqual(forbidden(graph, 'report/', [`${E}runner.ts`, `${E}tasks/`, `${E}timing.ts`, ...COMMANDS]), []);
});

test('layering: the library only by its package names (rmsnorm, rmsnorm/*), never by a path out of src/', () => {
  const outside: string[] = [];
  for (const [m, { local, bare }] of graph) {
    for (const t of local) if (t.startsWith('..')) outside.push(`${m} → ${t}`);
    for (const b of bare) if (b.includes('packages/rmsnorm') || b.startsWith('rmsnorm/src')) outside.push(`${m} → ${b}`);
  }
  assert.deepEqual(outside, []);
});
