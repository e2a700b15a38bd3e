// The one benchmark record schema (every benchmark of the app writes it) and its CSV/JSON writers and readers.
// Every benchmark in the project (kernels, peers, ceiling, training steps) writes rows of this shape.
import { writeFileSync } from 'node:fs';

/** One measured configuration. Times are ms per call; gbps counts bytes read + written per call. */
export interface BenchRecord {
  op: string;
  direction: 'forward' | 'backward' | 'full';
  impl: string;
  backend: string;
  threads: number;
  rows: number;
  cols: number;
  /** pRMSNorm fraction; 1 for RMSNorm; null where it has no meaning (LayerNorm, ceiling loops). */
  p: number | null;
  ms_p20: number;
  ms_p50: number;
  ms_p80: number;
  gbps: number;
  /** The matching copy ceiling (same threads, same bytes per call); null if none was measured. */
  ceiling_gbps: number | null;
  pct_of_ceiling: number | null;
  node: string;
  cpu: string;
  date: string;
  version: string;
  // Added fields (the schema is only ever extended, at the end):
  /** Full rounds (`--repeat`) whose per-round p20/p50/p80 this record's values are the medians of. */
  repeats: number;
  /** (max − min) / median of the per-round p50s, in percent; null with one round. */
  spread_pct: number | null;
  /** Process CPU time (all threads) per call, ms, median over samples (and rounds): far below ms_p50 means the
   *  process was descheduled (a loaded machine); above the isolated run's, other threads of ours were busy. */
  cpu_ms_p50: number | null;
  /** p50 of the same configuration timed alone in a fresh process (`--check-isolated`); null when not checked. */
  isolated_ms_p50: number | null;
}

/** Column order of the CSV (= the schema's order). */
export const RECORD_FIELDS = [
  'op', 'direction', 'impl', 'backend', 'threads', 'rows', 'cols', 'p', 'ms_p20', 'ms_p50', 'ms_p80',
  'gbps', 'ceiling_gbps', 'pct_of_ceiling', 'node', 'cpu', 'date', 'version',
  'repeats', 'spread_pct', 'cpu_ms_p50', 'isolated_ms_p50',
] as const satisfies readonly (keyof BenchRecord)[];

const NUMERIC = new Set<string>([
  'threads', 'rows', 'cols', 'p', 'ms_p20', 'ms_p50', 'ms_p80', 'gbps', 'ceiling_gbps', 'pct_of_ceiling',
  'repeats', 'spread_pct', 'cpu_ms_p50', 'isolated_ms_p50',
]);

function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const s = String(value);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/**
 * Records as RFC 4180 CSV with a header row; null is an empty cell.
 * @example toCsv([rec]) // 'op,direction,impl,…\nrmsNorm,forward,rmsnorm-js,…\n'
 */
export function toCsv(records: readonly BenchRecord[]): string {
  const lines = [RECORD_FIELDS.join(',')];
  for (const r of records) lines.push(RECORD_FIELDS.map((f) => csvCell(r[f])).join(','));
  return lines.join('\n') + '\n';
}

/** Split CSV text into rows of cells (quotes, doubled quotes, commas and newlines inside quotes). */
function parseCsvRows(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(cell);
      cell = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += ch;
  }
  if (cell !== '' || row.length > 0) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

/** Parse CSV written by toCsv back into records (numbers as numbers, empty cells as null). */
export function fromCsv(text: string): BenchRecord[] {
  const [header, ...rows] = parseCsvRows(text);
  if (header === undefined) return [];
  return rows.map((cells) => {
    const rec: Record<string, unknown> = {};
    header.forEach((name, i) => {
      const cell = cells[i] ?? '';
      rec[name] = NUMERIC.has(name) ? (cell === '' ? null : Number(cell)) : cell;
    });
    return rec as unknown as BenchRecord;
  });
}

/** JSON document `{ schema, …meta (command, machine, …), records }`, one record per line (readable diffs). */
export function toJson(records: readonly BenchRecord[], meta: Record<string, unknown> = {}): string {
  const head = JSON.stringify({ schema: RECORD_FIELDS, ...meta }, null, 1).replace(/\n}$/, '');
  const body = records.map((r) => JSON.stringify(r)).join(',\n');
  return `${head},\n "records": [\n${body}\n ]\n}\n`;
}

export function fromJson(text: string): BenchRecord[] {
  const doc = JSON.parse(text) as { records?: BenchRecord[] } | BenchRecord[];
  return Array.isArray(doc) ? doc : (doc.records ?? []);
}

/**
 * Where `--out FILE` writes: FILE.json and FILE.csv for a bare name; a name ending in .json or .csv writes that file
 * and its sibling with the other extension (so `--out r.csv` writes r.csv and r.json).
 * @example outPaths('bench/results/run') // { json: 'bench/results/run.json', csv: 'bench/results/run.csv' }
 */
export function outPaths(file: string): { json: string; csv: string } {
  const base = file.replace(/\.(json|csv)$/i, '');
  return { json: `${base}.json`, csv: `${base}.csv` };
}

export function writeResults(file: string, records: readonly BenchRecord[], meta: Record<string, unknown>): string[] {
  const { json, csv } = outPaths(file);
  writeFileSync(json, toJson(records, meta));
  writeFileSync(csv, toCsv(records));
  return [json, csv];
}
