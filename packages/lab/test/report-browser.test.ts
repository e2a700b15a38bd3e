// Open a rendered report.html in headless Chromium (Debian package `chromium`, driven by playwright-core) and check
// that it shows charts and tables, logs no console errors and makes no network request. Skips without Chromium.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeReport } from '../src/report/index.js';
import { syntheticResults } from './report-fixture.js';

// CHROMIUM_PATH overrides the Debian location (e.g. to check the skip path).
const CHROMIUM = process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium';
const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

test('report.html renders in Chromium: charts with paths, tables, no console errors, no network', async (t) => {
  if (!existsSync(CHROMIUM)) {
    t.skip(`${CHROMIUM} not installed (apt-get install -y chromium)`);
    return;
  }
  const { chromium } = await import('playwright-core');
  const dir = mkdtempSync(join(tmpdir(), 'rmsnorm-report-browser-'));
  const browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS });
  try {
    const files = writeReport(syntheticResults(), dir);
    const url = pathToFileURL(files.html).href;
    const page = await browser.newPage({ viewport: { width: 1480, height: 1000 } });
    const errors: string[] = [];
    const requests: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('request', (r) => {
      if (r.url() !== url) requests.push(r.url());
    });
    await page.goto(url, { waitUntil: 'load' });
    const counts = await page.evaluate(() => ({
      charts: document.querySelectorAll('svg.chart').length,
      seriesPaths: document.querySelectorAll('svg.chart path.series').length,
      summaryTables: document.querySelectorAll('table.summary').length,
      claimRows: document.querySelectorAll('table.claims tbody tr').length,
      invarianceRows: document.querySelectorAll('table.invariance tbody tr').length,
      kernelRows: ['kernel-correctness', 'gradient-laws', 'kernel-speed'].map((c) => document.querySelectorAll(`table.${c} tbody tr`).length),
      // A chart's bounding box must be laid out (non-zero), i.e. the inline SVG is actually rendered.
      firstChartWidth: document.querySelector('svg.chart')?.getBoundingClientRect().width ?? 0,
      title: document.title,
    }));
    assert.equal(counts.charts, 9);
    assert.ok(counts.seriesPaths >= 6 * 5 + 3 * 3, `expected ≥ 39 series paths, got ${counts.seriesPaths}`);
    assert.equal(counts.summaryTables, 3);
    assert.equal(counts.claimRows, 3);
    assert.equal(counts.invarianceRows, 2);
    assert.deepEqual(counts.kernelRows, [2, 2, 2], 'kernel-check tables: ops, gradient laws, backend × shape');
    assert.ok(counts.firstChartWidth > 100);
    assert.match(counts.title, /RMSNorm reproduction report/);
    assert.deepEqual(errors, []);
    assert.deepEqual(requests, []);
    if (process.env['REPORT_SCREENSHOT'] !== undefined) await page.screenshot({ path: process.env['REPORT_SCREENSHOT'], fullPage: true });
  } finally {
    await browser.close();
    rmSync(dir, { recursive: true, force: true });
  }
});
