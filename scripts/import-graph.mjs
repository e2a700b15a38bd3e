// The runtime import graph of a package's sources, for the layering tests (packages/*/test/layering.test.ts): which
// module imports which by a relative path, type-only imports left out (they vanish at run time), generated files
// skipped. Dev tooling of this repository, shipped by neither package.
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';

const IMPORT = /^\s*(?:import|export)\s+(type\s+)?(?:[^'";]*?\sfrom\s+)?['"]([^'"]+)['"]/gm;
const DYNAMIC = /\bimport\(\s*['"]([^'"]+)['"]\s*\)/g;

/** Every .ts file under dir (no .d.ts, no generated/). */
function sources(dir) {
  const out = [];
  for (const f of readdirSync(dir)) {
    const p = join(dir, f);
    if (statSync(p).isDirectory()) {
      if (f !== 'generated') out.push(...sources(p));
    } else if (p.endsWith('.ts') && !p.endsWith('.d.ts')) out.push(p);
  }
  return out;
}

/**
 * Map of module (path relative to srcDir, e.g. 'ops/rms-norm.ts') → { local: modules it imports by relative path,
 * bare: package specifiers it imports ('rmsnorm/internal', '@tensorflow/tfjs', 'node:fs') }; static and dynamic.
 * @example const g = importGraph('packages/rmsnorm/src'); g.get('index.ts').local
 */
export function importGraph(srcDir) {
  const root = resolve(srcDir);
  const graph = new Map();
  for (const file of sources(root)) {
    const text = readFileSync(file, 'utf8');
    const specs = [...text.matchAll(IMPORT)].filter((m) => m[1] === undefined).map((m) => m[2]);
    specs.push(...[...text.matchAll(DYNAMIC)].map((m) => m[1]));
    const local = new Set();
    const bare = new Set();
    for (const s of specs) {
      if (!s.startsWith('.')) bare.add(s);
      else local.add(relative(root, resolve(dirname(file), s)).replace(/\.js$/, '.ts').replace(/^(?!.*\.ts$)(.*)$/, '$1.ts'));
    }
    graph.set(relative(root, file), { local, bare });
  }
  return graph;
}

/** The import cycles of the graph (strongly connected components of more than one module, or a self-import). */
export function cycles(graph) {
  let next = 0;
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  const visit = (v) => {
    index.set(v, next);
    low.set(v, next++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v).local) {
      if (!graph.has(w)) continue;
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v), index.get(w)));
    }
    if (low.get(v) !== index.get(v)) return;
    const scc = [];
    let w;
    do {
      w = stack.pop();
      onStack.delete(w);
      scc.push(w);
    } while (w !== v);
    if (scc.length > 1 || graph.get(v).local.has(v)) found.push(scc.sort());
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/**
 * The imports that break a rule: every module matching `from` (a path prefix) importing a module under one of
 * `notInto` (path prefixes or exact files). Returns 'a.ts → b.ts' lines.
 */
export function forbidden(graph, from, notInto) {
  const bad = [];
  for (const [m, { local }] of graph) {
    if (!m.startsWith(from)) continue;
    for (const t of local) if (notInto.some((p) => t === p || t.startsWith(p))) bad.push(`${m} → ${t}`);
  }
  return bad;
}
