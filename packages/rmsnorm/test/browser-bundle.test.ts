// `rmsnorm` and `rmsnorm/tfjs` bundle for browsers: esbuild (platform=browser) from the sources, failing on any Node
// built-in or `@tensorflow/tfjs-backend-wasm` (an optional peer) imported by our code; `rmsnorm/tfjs/node` is the
// control that must trip the check. Then, when Debian's chromium is installed (.ci/run), one bundle runs in headless
// Chromium: core rmsNorm on our wasm backend and the tfjs op + RMSNormalization layer on tfjs's cpu backend, each
// against the float64 reference. Threads (cross-origin isolation) are not exercised here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { relative, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type Plugin } from 'esbuild';
import { tolerance } from './tolerance.js';

const SRC = fileURLToPath(new URL('../src/', import.meta.url));
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const BUILTINS = new Set(builtinModules);

/** Records (and keeps external) every import from our sources that a browser bundle cannot contain. */
function browserGuard(found: string[]): Plugin {
  return {
    name: 'browser-guard',
    setup(b) {
      b.onResolve({ filter: /.*/ }, (args) => {
        if (!args.importer.startsWith(SRC) || args.importer.includes(`${sep}node_modules${sep}`)) return undefined;
        const p = args.path;
        const nodeOnly = p.startsWith('node:') || BUILTINS.has(p) || BUILTINS.has(p.split('/')[0]);
        if (nodeOnly || p === '@tensorflow/tfjs-backend-wasm' || p.startsWith('@tensorflow/tfjs-backend-wasm/')) {
          found.push(`${p} (imported by src/${relative(SRC, args.importer)})`);
          return { path: p, external: true };
        }
        return undefined;
      });
    },
  };
}

async function bundleEntry(entry: string): Promise<string[]> {
  const found: string[] = [];
  await build({
    entryPoints: [SRC + entry],
    bundle: true,
    platform: 'browser',
    format: 'esm',
    write: false,
    logLevel: 'silent',
    external: ['@tensorflow/tfjs'], // the peer; its own browser build is tfjs's business
    plugins: [browserGuard(found)],
  });
  return found;
}

test('rmsnorm (src/index.ts) bundles for the browser with no Node built-in', async () => {
  assert.deepEqual(await bundleEntry('index.ts'), []);
});

test('rmsnorm/tfjs (src/tfjs/index.ts) bundles for the browser with no Node built-in and no tfjs-backend-wasm', async () => {
  assert.deepEqual(await bundleEntry('tfjs/index.ts'), []);
});

test('control: rmsnorm/tfjs/node (Node helpers) trips the same check', async () => {
  const found = await bundleEntry('tfjs/node.ts');
  assert.ok(found.some((f) => f.startsWith('node:')), `expected a node: import, got ${found.join(', ')}`);
  assert.ok(found.some((f) => f.startsWith('@tensorflow/tfjs-backend-wasm')), `expected tfjs-backend-wasm, got ${found.join(', ')}`);
});

/** Page script: runs in Chromium, leaves its measurements on window.__result (or the error on window.__error). */
const PAGE_ENTRY = `
import * as tf from '@tensorflow/tfjs';
import { initWasm, availableBackends, rmsNorm, reference } from './index.ts';
import { rmsNorm as tfRmsNorm, rmsNormalization } from './tfjs/index.ts';

// max |Δ| relative to the output's scale (max |y|): the tolerance table's atol is per row scale
const maxDiff = (a, b) => { let m = 0, s = 0; for (let i = 0; i < a.length; i++) { m = Math.max(m, Math.abs(a[i] - b[i])); s = Math.max(s, Math.abs(b[i])); } return m / s; };
(async () => {
  const rows = 8, cols = 64;
  const x = Float32Array.from({ length: rows * cols }, (_, i) => Math.sin(i * 0.37) * 3 + 0.5);
  const gamma = Float32Array.from({ length: cols }, (_, j) => 0.5 + j / cols);
  await initWasm();
  const backends = availableBackends();
  const ref = reference.rmsNormRef(x, cols, { gamma });
  const refPlain = reference.rmsNormRef(x, cols, {});
  const core = rmsNorm(x, cols, { gamma, backend: 'wasm' });
  await tf.setBackend('cpu');
  const op = await tfRmsNorm(tf.tensor2d(x, [rows, cols]), tf.tensor1d(gamma)).data();
  const layer = rmsNormalization({ axis: -1, epsilon: 1e-6 });
  const viaLayer = await layer.apply(tf.tensor2d(x, [rows, cols])).data();
  window.__result = {
    backends, tfBackend: tf.getBackend(),
    wasm: maxDiff(core.y, ref.y), tfOp: maxDiff(op, ref.y), tfLayer: maxDiff(viaLayer, refPlain.y),
  };
})().catch((e) => { window.__error = String(e && e.stack || e); });
`;

test('the browser bundle runs in headless Chromium: core wasm, tfjs op and layer on cpu match the float64 reference', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} not installed (apt-get install -y chromium)`);
    return;
  }
  const out = await build({
    stdin: { contents: PAGE_ENTRY, resolveDir: SRC, loader: 'ts', sourcefile: 'page.ts' },
    bundle: true,
    platform: 'browser',
    format: 'iife',
    write: false,
    logLevel: 'silent',
  });
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--headless', '--no-sandbox', '--disable-gpu'] });
  try {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.setContent('<!doctype html><title>rmsnorm bundle</title><body></body>');
    await page.addScriptTag({ content: out.outputFiles[0].text });
    await page.waitForFunction('window.__result || window.__error', undefined, { timeout: 60_000 });
    const { result, error } = await page.evaluate(() => ({
      result: (window as unknown as { __result?: Record<string, unknown> }).__result,
      error: (window as unknown as { __error?: string }).__error,
    }));
    assert.equal(error, undefined, `page error: ${error}`);
    assert.deepEqual(errors, []);
    const r = result as { backends: string[]; tfBackend: string; wasm: number; tfOp: number; tfLayer: number };
    assert.ok(r.backends.includes('wasm'), `wasm backend available in Chromium (got ${r.backends.join(', ')})`);
    assert.equal(r.tfBackend, 'cpu');
    const fwd = tolerance('wasm', 'rmsNorm', 'forward');
    const bound = fwd.atol + fwd.rtol; // |Δ| ≤ atol·scale + rtol·|y| ≤ (atol + rtol)·max|y|
    assert.ok(r.wasm <= bound, `core wasm: max |Δ|/max|y| ${r.wasm} > ${bound}`);
    assert.ok(r.tfOp <= bound, `tfjs op: max |Δ|/max|y| ${r.tfOp} > ${bound}`);
    assert.ok(r.tfLayer <= bound, `RMSNormalization layer: max |Δ|/max|y| ${r.tfLayer} > ${bound}`);
  } finally {
    await browser.close();
  }
});
