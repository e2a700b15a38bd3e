// The library's dependency order (README, Development → Layout) as a test: reference (independent) ← backends ←
// ops ← index ← tfjs, no import cycles, no path out of src/, and no runtime dependency but Node built-ins and the
// optional TF.js peers. Runtime imports only (static and dynamic); type-only imports vanish at run time.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
// @ts-expect-error: repository tooling in plain JavaScript (scripts/import-graph.mjs), no declarations
import { cycles, forbidden, importGraph } from '../../../scripts/import-graph.mjs';

type Graph = Map<string, { local: Set<string>; bare: Set<string> }>;
const graph: Graph = importGraph(fileURLToPath(new URL('../src', import.meta.url)));

test('layering: the import graph of packages/rmsnorm/src has modules and no cycles', () => {
  assert.ok(graph.size > 40, `expected the library's modules, found ${graph.size}`);
  assert.deepEqual(cycles(graph), []);
});

test('layering: the float64 reference imports nothing outside src/reference (it checks the others)', () => {
  const outside: string[] = [];
  for (const [m, { local }] of graph) {
    if (m.startsWith('reference/')) for (const t of local) if (!t.startsWith('reference/')) outside.push(`${m} → ${t}`);
  }
  assert.deepEqual(outside, []);
});

test('layering: backends ← ops ← index ← tfjs, and nothing but the checks and internal.ts import the reference', () => {
  const upper = ['ops/', 'tfjs/', 'webgpu/', 'check/', 'index.ts', 'internal.ts', 'cli.ts', 'info.ts'];
  assert.deepEqual(forbidden(graph, 'backends/', upper), []);
  assert.deepEqual(forbidden(graph, 'ops/', ['tfjs/', 'webgpu/', 'check/', 'index.ts', 'internal.ts', 'cli.ts', 'reference/']), []);
  assert.deepEqual(forbidden(graph, 'tfjs/', ['reference/', 'check/', 'cli.ts', 'internal.ts']), []);
  assert.deepEqual(forbidden(graph, 'webgpu/', ['reference/', 'check/', 'tfjs/', 'cli.ts']), []);
});

test('layering: no import leaves src/ by path, and the runtime needs only Node built-ins and the optional TF.js peers', () => {
  const outside: string[] = [];
  const deps = new Set<string>();
  for (const [m, { local, bare }] of graph) {
    for (const t of local) if (t.startsWith('..')) outside.push(`${m} → ${t}`);
    for (const b of bare) if (!b.startsWith('node:') && !b.startsWith('@tensorflow/')) deps.add(`${m} → ${b}`);
  }
  assert.deepEqual(outside, []);
  assert.deepEqual([...deps], []);
});
