// Terminal output of `rmsnorm bench`: one aligned table per shape, then the headline ratios the project targets
// (ours vs ceiling, µs per small call, ours vs ONNX Runtime and TF.js, RMS vs LN, pRMS vs RMS).
import type { BenchRecord } from './record.js';
import { speedupOverLn } from './stats.js';

/** ms → a short human string: µs below 1 ms, else ms. @example formatMs(0.0043) // '4.30 µs' */
export function formatMs(ms: number): string {
  if (!Number.isFinite(ms)) return '—';
  if (ms < 1) return `${(ms * 1000).toPrecision(3)} µs`;
  return ms < 1000 ? `${ms.toPrecision(3)} ms` : `${(ms / 1000).toPrecision(3)} s`;
}

function num(v: number | null, digits = 1): string {
  return v === null || !Number.isFinite(v) ? '—' : v.toFixed(digits);
}

/** Columns padded to their widest cell; numeric-looking columns right-aligned. */
export function alignTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  const right = header.map((_, i) => rows.every((r) => /^[-—\d.,%+ µsm×x]*$/.test(r[i])));
  const fmt = (r: string[]) => r.map((c, i) => (right[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join('  ').trimEnd();
  return [fmt(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(fmt)].join('\n');
}

const OP_ORDER = ['rmsNorm', 'pRmsNorm', 'layerNorm', 'copy', 'triad'];
const DIR_ORDER = ['forward', 'backward', 'full'];
const key = (r: BenchRecord) => `${r.impl}|${r.backend}|${r.threads}|${r.direction}`;

/** The LN record matching r (same impl/backend/threads/direction and shape). */
function lnFor(records: readonly BenchRecord[], r: BenchRecord): BenchRecord | undefined {
  return records.find((l) => l.op === 'layerNorm' && l.rows === r.rows && l.cols === r.cols && key(l) === key(r));
}

/** One block per shape: op, direction, impl, backend, threads, p50, p20–p80, GB/s, ceiling, %, speed-up over LN. */
export function formatTables(records: readonly BenchRecord[]): string {
  const shapes = [...new Set(records.map((r) => `${r.rows}x${r.cols}`))];
  const blocks: string[] = [];
  for (const shape of shapes) {
    const rs = records
      .filter((r) => `${r.rows}x${r.cols}` === shape)
      .sort((a, b) =>
        OP_ORDER.indexOf(a.op) - OP_ORDER.indexOf(b.op) ||
        DIR_ORDER.indexOf(a.direction) - DIR_ORDER.indexOf(b.direction) ||
        a.impl.localeCompare(b.impl) || a.backend.localeCompare(b.backend) || a.threads - b.threads);
    const repeated = rs.some((r) => (r.repeats ?? 1) > 1);
    const rows = rs.map((r) => {
      const ln = r.op === 'rmsNorm' || r.op === 'pRmsNorm' ? lnFor(records, r) : undefined;
      return [
        r.op, r.direction, r.impl, r.backend, String(r.threads), formatMs(r.ms_p50),
        `${formatMs(r.ms_p20)} – ${formatMs(r.ms_p80)}`, ...(repeated ? [r.spread_pct === null ? '—' : `${r.spread_pct.toFixed(0)}%`] : []),
        num(r.gbps), num(r.ceiling_gbps),
        r.pct_of_ceiling === null ? '—' : `${r.pct_of_ceiling.toFixed(0)}%`,
        ln === undefined ? '' : `${speedupOverLn(r.ms_p50, ln.ms_p50).toFixed(0)}%`,
      ];
    });
    const n = rs[0]?.repeats ?? 1;
    blocks.push(`== ${shape.replace('x', ' × ')}${repeated ? ` (median of ${n} rounds; spread = (max − min)/median of the rounds' p50)` : ''} ==\n` + alignTable(
      ['op', 'dir', 'impl', 'backend', 'thr', 'p50', 'p20 – p80', ...(repeated ? ['spread'] : []), 'GB/s', 'ceil GB/s', '% ceil', 'vs LN'],
      rows,
    ));
  }
  return blocks.join('\n\n');
}

function find(records: readonly BenchRecord[], q: Partial<BenchRecord>): BenchRecord | undefined {
  return records.find((r) => Object.entries(q).every(([k, v]) => r[k as keyof BenchRecord] === v));
}

/** Our fastest record at one thread (the peers run on one thread) for (shape, op, direction). */
function oursBest(records: readonly BenchRecord[], rows: number, cols: number, op: string, direction: string) {
  return records
    .filter((r) => r.impl.startsWith('rmsnorm-') && r.threads === 1 && r.rows === rows && r.cols === cols && r.op === op && r.direction === direction)
    .sort((a, b) => a.ms_p50 - b.ms_p50)[0];
}

const label = (r: BenchRecord) => `${r.impl}${r.backend !== r.impl.replace('rmsnorm-', '') ? `(${r.backend})` : ''}/${r.threads}t`;
const ratio = (a: number, b: number) => `${(a / b).toFixed(a / b < 10 ? 2 : 0)}×`;

/** The headline ratios after the table (lines of text). */
export function formatHeadline(records: readonly BenchRecord[]): string {
  const out: string[] = ['== headline (ratios measured side by side in this run) =='];
  const shapes = [...new Map(records.map((r) => [`${r.rows}x${r.cols}`, [r.rows, r.cols] as const])).values()];
  const ours = records.filter((r) => r.impl.startsWith('rmsnorm-'));
  for (const [rows, cols, where] of [[256, 1024, 'in cache'], [16384, 1024, 'DRAM']] as const) {
    const at = ours.filter((r) => r.rows === rows && r.cols === cols && r.backend !== 'wasm+copy' && (r.op === 'rmsNorm' || r.op === 'layerNorm'));
    if (at.length === 0) continue;
    out.push(`% of the ceiling at ${rows}×${cols} (${where}; the loop timed in the row's own process, same threads and bytes; copy loop for forward, triad for backward):`);
    for (const r of at) out.push(`  ${r.op.padEnd(9)} ${r.direction.padEnd(8)} ${label(r).padEnd(28)} ${num(r.pct_of_ceiling, 0).padStart(3)}% (${num(r.gbps)} of ${num(r.ceiling_gbps)} GB/s)`);
  }
  const ceil = shapes.map(([rows, cols]) => {
    const g = (impl: string, direction: string, threads: number) =>
      find(records, { rows, cols, impl, direction: direction as BenchRecord['direction'], threads })?.gbps;
    const f = (v: number | undefined) => (v === undefined ? '—' : v.toFixed(0));
    return `  ${`${rows}×${cols}`.padEnd(11)} copy ${f(g('ceiling-copy', 'forward', 1))} / ${f(g('ceiling-copy', 'forward', 2))}` +
      `   triad ${f(g('ceiling-triad', 'backward', 1))} / ${f(g('ceiling-triad', 'backward', 2))}`;
  });
  if (records.some((r) => r.impl.startsWith('ceiling-'))) out.push('Ceiling GB/s, 1 / 2 threads (forward footprint copy, backward footprint triad):', ...ceil);
  const naive: string[] = [];
  for (const [rows, cols] of shapes) {
    for (const op of ['rmsNorm', 'layerNorm']) {
      for (const direction of ['forward', 'backward'] as const) {
        const q = { rows, cols, op, direction, threads: 1 };
        const n = find(records, { ...q, impl: 'naive-f32x4' });
        const w = find(records, { ...q, impl: 'rmsnorm-wasm', backend: 'wasm' });
        if (n !== undefined && w !== undefined) {
          naive.push(`  ${`${rows}×${cols}`.padEnd(11)} ${op.padEnd(9)} ${direction.padEnd(8)} ${ratio(n.ms_p50, w.ms_p50).padStart(6)}` +
            `  (ours ${num(w.pct_of_ceiling, 0)}% of ceiling, naive ${num(n.pct_of_ceiling, 0)}%)`);
        }
      }
    }
  }
  if (naive.length > 0) {
    out.push('Ours / naive two-pass f32x4 kernel (T_naive / T_ours, same process and zero-copy buffers, 1 thread; > 1: ours faster):', ...naive);
  }
  const small = ours.filter((r) => r.rows === 32 && r.cols === 768 && r.op === 'rmsNorm' && r.direction === 'forward');
  if (small.length > 0) {
    out.push('RMSNorm forward at 32×768, µs per call:');
    for (const r of small) out.push(`  ${label(r).padEnd(28)} ${(r.ms_p50 * 1000).toFixed(2)} µs`);
  }
  const vsPeers: string[] = [];
  for (const [rows, cols] of shapes) {
    for (const op of ['rmsNorm', 'layerNorm']) {
      const fwd = oursBest(records, rows, cols, op, 'forward');
      const bwd = oursBest(records, rows, cols, op, 'backward');
      if (fwd === undefined) continue;
      const ortImpl = op === 'rmsNorm' ? 'ort-RMSNormalization-23' : 'ort-LayerNormalization-17';
      const ort = find(records, { rows, cols, op, impl: ortImpl, direction: 'forward' });
      const tfw = find(records, { rows, cols, op, impl: 'tfjs-wasm-composite', direction: 'forward' });
      const tff = find(records, { rows, cols, op, impl: 'tfjs-wasm-composite', direction: 'full' });
      const parts = [`${`${rows}×${cols}`.padEnd(11)} ${op.padEnd(9)} ${label(fwd).padEnd(28)}`];
      if (ort !== undefined) parts.push(`ORT fwd ${ratio(ort.ms_p50, fwd.ms_p50)}`);
      if (tfw !== undefined) parts.push(`TF.js-wasm fwd ${ratio(tfw.ms_p50, fwd.ms_p50)}`);
      if (tff !== undefined && bwd !== undefined) parts.push(`TF.js-wasm fwd+bwd ${ratio(tff.ms_p50, fwd.ms_p50 + bwd.ms_p50)}`);
      if (parts.length > 1) vsPeers.push('  ' + parts[0] + ' ' + parts.slice(1).join(', '));
    }
  }
  if (vsPeers.length > 0) {
    out.push('Speed-up of ours (fastest of our backends at 1 thread, p50) over peers, T_peer / T_ours (peers end to end, Float32Array in and out):', ...vsPeers);
  }
  const rmsVsLn: string[] = [];
  const prmsVsRms: string[] = [];
  const groups = [...new Map(records.filter((r) => r.op === 'rmsNorm').map((r) => [`${r.impl}|${r.backend}|${r.threads}`, r])).values()];
  for (const [rows, cols] of shapes) {
    for (const g of groups) {
      const q = { rows, cols, impl: g.impl, backend: g.backend, threads: g.threads };
      const t = (op: string, direction: string) => find(records, { ...q, op, direction: direction as BenchRecord['direction'] })?.ms_p50;
      const both = (op: string) => {
        const f = t(op, 'forward');
        const b = t(op, 'backward');
        const full = t(op, 'full');
        return full !== undefined ? full : f !== undefined && b !== undefined ? f + b : undefined;
      };
      const rms = both('rmsNorm');
      const ln = both('layerNorm');
      const name = `${`${rows}×${cols}`.padEnd(11)} ${label(g).padEnd(34)}`;
      if (rms !== undefined && ln !== undefined) rmsVsLn.push(`  ${name} ${speedupOverLn(rms, ln).toFixed(0).padStart(4)}%`);
      if (g.impl === 'tfjs-wasm-composite' && rms !== undefined) {
        const stock = find(records, { rows, cols, op: 'layerNorm', impl: 'tfjs-wasm-layers-layerNormalization', direction: 'full' });
        if (stock !== undefined) {
          rmsVsLn.push(`  ${`${rows}×${cols}`.padEnd(11)} ${'tfjs RMS composite vs stock layer'.padEnd(34)} ${speedupOverLn(rms, stock.ms_p50).toFixed(0).padStart(4)}%`);
        }
      }
      const rf = t('rmsNorm', 'forward');
      const pf = t('pRmsNorm', 'forward');
      if (rf !== undefined && pf !== undefined) prmsVsRms.push(`  ${name} ${speedupOverLn(pf, rf).toFixed(0).padStart(4)}%`);
    }
  }
  if (rmsVsLn.length > 0) out.push("RMSNorm vs LayerNorm, forward+backward, the paper's (T_LN − T_RMS)/T_LN:", ...rmsVsLn);
  if (prmsVsRms.length > 0) out.push('pRMSNorm vs RMSNorm, forward, (T_RMS − T_pRMS)/T_RMS:', ...prmsVsRms);
  return out.join('\n');
}

/**
 * `--check-isolated`: each of our rows next to the same configuration timed alone in a fresh process, wall-clock
 * p50 and (when known) process CPU time per call, in the run and alone: on a loaded machine the CPU columns still
 * compare like with like when the wall-clock ones are dominated by time spent descheduled.
 */
export function formatIsolated(records: readonly BenchRecord[], cpuAlone?: ReadonlyMap<BenchRecord, number>): string {
  const checked = records.filter((r) => r.impl.startsWith('rmsnorm-') && r.isolated_ms_p50 !== undefined);
  const ratioCell = (q: number | null) => (q === null ? '—' : `${q.toFixed(2)}×`);
  const rows = checked.map((r) => {
    const alone = r.isolated_ms_p50;
    const q = alone === null ? null : r.ms_p50 / alone;
    const cpu = cpuAlone?.get(r);
    const cq = cpu === undefined || r.cpu_ms_p50 === null ? null : r.cpu_ms_p50 / cpu;
    return [
      `${r.rows}×${r.cols}`, r.op, r.direction, r.backend, String(r.threads), formatMs(r.ms_p50),
      alone === null ? 'failed' : formatMs(alone), ratioCell(q),
      r.cpu_ms_p50 === null ? '—' : formatMs(r.cpu_ms_p50), cpu === undefined ? '—' : formatMs(cpu), ratioCell(cq),
      q !== null && Math.abs(q - 1) > 0.1 ? 'off by > 10 %' : '',
    ];
  });
  const within = checked.filter((r) => r.isolated_ms_p50 !== null && Math.abs(r.ms_p50 / r.isolated_ms_p50 - 1) <= 0.1).length;
  const cpuKnown = checked.filter((r) => r.cpu_ms_p50 !== null && cpuAlone?.get(r) !== undefined);
  const cpuWithin = cpuKnown.filter((r) => Math.abs(r.cpu_ms_p50! / cpuAlone!.get(r)! - 1) <= 0.1).length;
  return '== our rows (each timed in its own fresh process, with its ceiling loop) vs the same configuration alone in ' +
    'another fresh process run right beside it (--check-isolated) ==\n' +
    alignTable(['shape', 'op', 'dir', 'backend', 'thr', 'in run', 'alone', 'run/alone', 'CPU in run', 'CPU alone', 'CPU run/alone', ''], rows) +
    `\n${within} of ${checked.length} rows within 10 % (wall clock, p50)` +
    // On a loaded machine wall clock mostly measures time descheduled; process CPU time still compares the two.
    (cpuKnown.length > 0 ? `\n${cpuWithin} of ${cpuKnown.length} rows within 10 % in process CPU time per call` : '');
}
