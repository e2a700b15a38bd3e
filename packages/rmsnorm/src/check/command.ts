// `rmsnorm check`: the paper's Table 1 measured live (paper mark vs measured) and a self-test of every op against the
// float64 reference. Exit 0 when everything matches, 1 otherwise, 2 on bad usage.
import { parseArgs } from 'node:util';
import { computeInvarianceTable, type InvarianceTable } from './invariance.js';
import { runSelfTest, type SelfTestResult } from './self-test.js';

const USAGE = `usage: rmsnorm check [--json] [--backend auto|js|wasm]

Measures the paper's invariance table (Table 1) live with the float32 kernels and compares each cell with the
paper's mark, then runs every op on a few shapes against the float64 reference (each available backend).
Exit code 0 if everything matches, 1 otherwise.

options:
  --json            print one JSON object { invariance, selfTest, ok } instead of tables
  --backend NAME    backend for the invariance table (default auto)
  -h, --help        this text`;

export interface CheckReport {
  invariance: InvarianceTable;
  selfTest: SelfTestResult;
  ok: boolean;
}

/** Run both checks; no printing. @example const r = runCheck(); r.ok */
export function runCheck(backend: 'auto' | 'js' | 'wasm' = 'auto'): CheckReport {
  const invariance = computeInvarianceTable({ backend });
  const selfTest = runSelfTest();
  return { invariance, selfTest, ok: invariance.allMatch && selfTest.ok };
}

const mark = (b: boolean) => (b ? 'yes' : 'no');

function formatInvariance(t: InvarianceTable): string {
  const width = 24;
  const head = ['norm'.padEnd(10), ...t.columns.map((c) => c.padEnd(width))].join(' ');
  const lines = t.rows.map((row) =>
    [row.norm.padEnd(10), ...row.cells.map((c) => `${`paper ${mark(c.paper)} / ${mark(c.invariant)} ${c.relativeDelta.toExponential(1)}`}${c.matches ? '' : ' MISMATCH'}`.padEnd(width))].join(' '),
  );
  return [
    `Invariance (paper Table 1), y = norm(W x), measured on backend '${t.backend}': batch ${t.batch}, ${t.inputs} → ${t.outputs}, pRMSNorm p = ${t.p}, eps = ${t.eps}`,
    `cell = paper mark / measured invariant? and max |Δy| / max |y| (invariant when ≤ ${t.threshold})`,
    head,
    ...lines,
    t.allMatch ? 'invariance: every cell matches the paper' : 'invariance: MISMATCH with the paper',
  ].join('\n');
}

function formatSelfTest(s: SelfTestResult): string {
  const lines = s.rows.map((r) =>
    `${r.backend.padEnd(5)} ${r.op.padEnd(20)} ${`${r.rows}x${r.cols}`.padEnd(8)} fwd ${r.forwardError.toExponential(1)} (tol ${r.forwardTolerance.atol.toExponential(0)})  bwd ${r.backwardError.toExponential(1)} (tol ${r.backwardTolerance.atol.toExponential(0)})  ${r.ok ? 'ok' : `FAIL ${r.detail ?? ''}`}`,
  );
  return [
    `Self-test against the float64 reference (backends: ${s.backends.join(', ') || 'none'}); error = |Δ| / natural row scale`,
    ...lines,
    s.ok ? `self-test: all ${s.rows.length} cases within tolerance` : 'self-test: FAILED',
  ].join('\n');
}

export async function run(argv: string[]): Promise<number> {
  let values: { json?: boolean; help?: boolean; backend?: string };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' }, backend: { type: 'string' } },
      allowPositionals: false,
    }));
  } catch (err) {
    console.error(`rmsnorm check: ${(err as Error).message}`);
    return 2;
  }
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  const backend = values.backend ?? 'auto';
  if (backend !== 'auto' && backend !== 'js' && backend !== 'wasm') {
    console.error(`rmsnorm check: --backend must be auto, js or wasm, got '${backend}'`);
    return 2;
  }
  const report = runCheck(backend);
  if (values.json) console.log(JSON.stringify(report, null, 2));
  else console.log(`${formatInvariance(report.invariance)}\n\n${formatSelfTest(report.selfTest)}\n\n${report.ok ? 'check: OK' : 'check: FAILED'}`);
  return report.ok ? 0 : 1;
}
