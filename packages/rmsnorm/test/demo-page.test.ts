// `npm run demo` end to end: build the page, serve it on 127.0.0.1 (free port, COOP/COEP), open it in headless
// Chromium (Debian `chromium`, driven by playwright-core) in quick mode, wait for the run, and check what it shows:
// cross-origin isolated with wasm threads, the seeded sample's outputs against the float64 reference computed here,
// the live Table 1 against the paper's marks, positive finite timings, charts drawn, no errors. Saves a screenshot
// to test-output/demo.png and what the page measured to test-output/demo.json (gitignored). Skips without Chromium.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDemo } from '../demo/build.js';
import { startDemoServer } from '../demo/serve.js';
import { layerNormRef, partialK, rmsNormRef } from '../src/reference/index.js';
import { mulberry32, randomNormal } from '../src/check/random.js';
import { compareArrays, describeComparison } from '../src/check/compare.js';
import { tolerance } from './tolerance.js';

const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
// The flags of packages/lab/test/report-browser.test.ts, except --disable-gpu: WebGPU on Chromium's bundled SwiftShader (a
// software adapter) instead, so the page's WebGPU path runs too where it can; without an adapter the page says so.
const ARGS = [
  '--headless', '--no-sandbox', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--enable-unsafe-webgpu', '--enable-features=Vulkan', '--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader',
  '--use-angle=swiftshader',
];
const OUTPUT = join(import.meta.dirname, '..', 'test-output');

/** Paper Table 1 (Zhang & Sennrich 2019; the official README's table), true = invariant, transcribed here. */
const PAPER_TABLE_1: Record<string, boolean[]> = {
  //          W-matrix rescale, W-matrix recentre, W-vector rescale, dataset rescale, dataset recentre, single-case rescale
  LayerNorm: [true, true, false, true, false, true],
  RMSNorm: [true, false, false, true, false, true],
  pRMSNorm: [true, false, false, true, false, true],
};
const COLUMNS = ['W-matrix re-scaling', 'W-matrix re-centering', 'W-vector re-scaling', 'dataset re-scaling', 'dataset re-centering', 'single-case re-scaling'];

interface PageState {
  done: boolean;
  error: string | null;
  env: { crossOriginIsolated: boolean; wasm: boolean; threads: number; tfjsBackend: string; webgpu: string };
  sample: {
    seed: number; rows: number; cols: number; p: number; eps: number; rms: number[]; prms: number[]; ln: number[];
    webgpu: { rms: number[]; prms: number[]; ln: number[] } | null;
  };
  invariance: { rows: Array<{ norm: string; cells: Array<{ transform: string; invariant: boolean }> }> };
  timings: Array<{ rows: number; cols: number; norm: string; impl: string; pass: string; ms: number; median: number; calls: number }>;
}

/** The page's outputs (wasm, and WebGPU when it ran) against the float64 reference on the same seeded input. */
function checkSample(s: PageState['sample']): void {
  const x = randomNormal(mulberry32(s.seed), s.rows * s.cols);
  const gamma = randomNormal(mulberry32(s.seed + 1), s.cols, 1, 0.1);
  const beta = randomNormal(mulberry32(s.seed + 2), s.cols, 0, 0.1);
  const expected = {
    rms: rmsNormRef(x, s.cols, { gamma, eps: s.eps }).y,
    prms: rmsNormRef(x, s.cols, { gamma, eps: s.eps, k: partialK(s.p, s.cols, 'ceil') }).y,
    ln: layerNormRef(x, s.cols, { gamma, beta, eps: s.eps }).y,
  };
  for (const [where, out] of [['wasm', s], ['WebGPU', s.webgpu]] as const) {
    if (out === null) continue;
    for (const key of ['rms', 'prms', 'ln'] as const) {
      assert.equal(out[key].length, x.length, `${where} ${key}: one output per input`);
      // f32 accumulation on both: the wasm rows of the tolerance table (as test/tfjs-webgpu.test.ts)
      const c = compareArrays(out[key], expected[key], tolerance('wasm', key === 'ln' ? 'layerNorm' : 'rmsNorm', 'forward'), s.cols);
      assert.ok(c.ok, describeComparison(`page ${where} ${key}`, c));
    }
  }
}

test('demo page: isolated + threads, outputs = float64 reference, live Table 1 = paper, timings, screenshot', { timeout: 150_000 }, async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} not installed (apt-get install -y chromium)`);
    return;
  }
  const { chromium } = await import('playwright-core');
  const dir = mkdtempSync(join(tmpdir(), 'rmsnorm-demo-'));
  const server = await startDemoServer({ dir: await buildDemo(dir), port: 0 });
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    assert.match(server.url, /^http:\/\/127\.0\.0\.1:\d+\/$/);
    const page = await browser.newPage({ viewport: { width: 1180, height: 900 } });
    const errors: string[] = [];
    page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    const response = await page.goto(`${server.url}?quick`, { waitUntil: 'load' });
    assert.equal(response?.headers()['cross-origin-embedder-policy'], 'require-corp');
    await page.waitForFunction(() => (globalThis as { __demo?: { done: boolean } }).__demo?.done === true, null, { timeout: 120_000 });
    const state = (await page.evaluate(() => (globalThis as unknown as { __demo: unknown }).__demo)) as PageState;
    mkdirSync(OUTPUT, { recursive: true });
    await page.screenshot({ path: join(OUTPUT, 'demo.png'), fullPage: true });
    writeFileSync(join(OUTPUT, 'demo.json'), JSON.stringify({ env: state.env, timings: state.timings, invariance: state.invariance }, null, 1));
    assert.equal(state.error, null);

    assert.equal(state.env.crossOriginIsolated, true, 'COOP/COEP make the page cross-origin isolated');
    assert.equal(state.env.wasm, true);
    assert.ok(state.env.threads >= 2, `wasm threads in use, got ${state.env.threads}`);
    assert.ok(state.env.webgpu.length > 0, 'WebGPU status is reported');
    const gpu = state.env.webgpu.startsWith('ok');
    assert.equal(state.sample.webgpu !== null, gpu, 'the WebGPU sample ran exactly when an adapter was found');
    if (!gpu) t.diagnostic(`WebGPU not checked: ${state.env.webgpu}`);

    checkSample(state.sample);

    assert.deepEqual(state.invariance.rows.map((r) => r.norm), Object.keys(PAPER_TABLE_1));
    for (const row of state.invariance.rows) {
      assert.deepEqual(row.cells.map((c) => c.transform), COLUMNS);
      assert.deepEqual(row.cells.map((c) => c.invariant), PAPER_TABLE_1[row.norm], `${row.norm}: measured marks = paper's Table 1`);
    }
    const shown = await page.$$eval('table.invariance td', (tds) => tds.map((td) => td.getAttribute('data-invariant') === 'true'));
    assert.deepEqual(shown, Object.values(PAPER_TABLE_1).flat(), 'the rendered table shows the measured marks');

    // 2 shapes × 3 norms × 2 passes × (ours, TF.js) + WebGPU on the first shape only (quick mode)
    const impls = new Set(state.timings.map((x) => x.impl));
    assert.equal(impls.size, gpu ? 3 : 2, `ours, TF.js (and WebGPU) timed, got ${[...impls].join(', ')}`);
    assert.equal(state.timings.length, 2 * 3 * 2 * 2 + (gpu ? 3 * 2 : 0));
    for (const x of state.timings) {
      assert.ok(Number.isFinite(x.ms) && x.ms > 0 && x.calls >= 3, `${x.impl} ${x.norm} ${x.pass}: ${x.ms} ms`);
      assert.ok(Number.isFinite(x.median) && x.median >= x.ms, `${x.impl} ${x.norm} ${x.pass}: median ${x.median} >= fastest ${x.ms}`);
    }
    const bars = await page.$$eval('svg.chart rect.bar', (r) => r.length);
    assert.equal(bars, 2 * (2 * 3 + (gpu ? 3 : 0)), 'one bar per timed shape × norm × non-baseline impl, per pass');
    assert.deepEqual(errors, []);
  } finally {
    await browser.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
