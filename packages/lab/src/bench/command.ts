// `rmsnorm bench`: our kernels vs TF.js, ONNX Runtime and the memory-copy ceiling (bench.ts: each configuration of
// ours in its own fresh child process with its ceiling loop; the peers round-robin in this process). Prints a table
// and headline ratios; --out writes the records (the one schema of record.ts) as JSON + CSV, rewritten after every
// shape so an interrupted run keeps what it measured.
import { BENCH_USAGE, parseBenchArgs, UsageError, type BenchOptions } from './args.js';
import { recordKey, runBench } from './bench.js';
import { machineInfo } from './machine.js';
import { toJson, writeResults, type BenchRecord } from './record.js';
import { formatHeadline, formatIsolated, formatTables } from './table.js';

const log = (msg: string) => process.stderr.write(msg + '\n');

/** `rmsnorm bench [options]` → exit code (0 ok, 2 bad usage). */
export async function run(argv: string[]): Promise<number> {
  let o: BenchOptions;
  try {
    o = parseBenchArgs(argv);
  } catch (err) {
    if (err instanceof UsageError) {
      console.error(`rmsnorm bench: ${err.message} (see rmsnorm bench --help)`);
      return 2;
    }
    throw err;
  }
  if (o.help) {
    console.log(BENCH_USAGE);
    return 0;
  }
  if (o.webgpu) {
    const { runWebGpuBench } = await import('./webgpu.js');
    await runWebGpuBench(argv.includes('--shapes') ? o.shapes : [[1024, 4096], [16384, 1024]], (l) => console.log(l));
    return 0;
  }
  const started = Date.now();
  const before = machineInfo();
  let versions: Record<string, string> = {};
  const meta = (notes: readonly string[], complete: boolean) => {
    const now = machineInfo();
    return {
      command: `rmsnorm bench ${argv.join(' ')}`.trim(),
      machine: { node: before.node, cpu: before.cpu, cores: before.cores, totalmem_gib: before.totalmem_gib },
      peer_versions: versions,
      loadavg_before: before.loadavg,
      loadavg_after: now.loadavg,
      seconds: Math.round((Date.now() - started) / 1000),
      complete,
      notes,
    };
  };
  const save = (records: readonly BenchRecord[], notes: readonly string[], complete: boolean) =>
    o.out === null ? [] : writeResults(o.out, records, meta(notes, complete));
  const result = await runBench(o, (r, n, v) => {
    versions = v;
    save(r, n, false);
  }, log);
  const { notes, records } = result;
  versions = result.versions;
  // --check-isolated: each row's alone children ran beside its own (bench.ts timeRowAndAlone)
  const cpuAlone = new Map<BenchRecord, number>();
  for (const r of records) {
    const cpu = result.aloneCpu.get(recordKey(r));
    if (cpu !== undefined) cpuAlone.set(r, cpu);
  }
  const m = meta(notes, true);
  if (o.json) {
    process.stdout.write(toJson(records, m));
  } else {
    console.log(formatTables(records));
    console.log('');
    console.log(formatHeadline(records));
    if (o.checkIsolated) {
      console.log('');
      console.log(formatIsolated(records, cpuAlone));
    }
    for (const note of notes) console.log(`note: ${note}`);
    console.log(`(${m.seconds} s; load average ${m.loadavg_before.join(' ')} → ${m.loadavg_after.join(' ')}; ` +
      `${before.cpu}, ${before.cores} cores, Node ${before.node})`);
  }
  const written = save(records, notes, true);
  if (written.length > 0) log(`wrote ${written.join(' and ')}`);
  return 0;
}
