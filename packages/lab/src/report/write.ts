// Write the report directory: results.json, summary.csv, runs.csv and report.html, each atomically (a temporary
// file renamed into place), so an interrupted run never leaves a half-written file behind.

import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { ReproductionResults } from '../experiments/types.js';
import { renderReportHtml } from './html.js';
import { runsCsv, summaryCsv } from './csv.js';

import { writeAtomic as writeFileAtomic } from '../experiments/atomic-write.js';

/** Write `data` to `path` via `path.tmp-<pid>` + rename (atomic on one file system): the shared helper. */
export { writeFileAtomic };

export interface ReportFiles {
  html: string;
  json: string;
  summaryCsv: string;
  runsCsv: string;
}

/**
 * Write results.json, summary.csv, runs.csv and the self-contained report.html into outDir (created if needed).
 * NaN/±Infinity are written to JSON as null (JSON has no NaN).
 * @example
 * const files = writeReport(results, 'reproduction'); console.log(files.html);
 */
export function writeReport(results: ReproductionResults, outDir: string): ReportFiles {
  mkdirSync(outDir, { recursive: true });
  const files: ReportFiles = {
    html: join(outDir, 'report.html'),
    json: join(outDir, 'results.json'),
    summaryCsv: join(outDir, 'summary.csv'),
    runsCsv: join(outDir, 'runs.csv'),
  };
  writeFileAtomic(files.json, JSON.stringify(results, null, 1) + '\n');
  writeFileAtomic(files.summaryCsv, summaryCsv(results));
  writeFileAtomic(files.runsCsv, runsCsv(results));
  writeFileAtomic(files.html, renderReportHtml(results));
  return files;
}
