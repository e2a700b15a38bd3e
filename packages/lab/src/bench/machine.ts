// The machine and version fields every benchmark record carries (node, cpu, date, version) plus the load average.
import { readFileSync } from 'node:fs';
import os from 'node:os';

export interface MachineInfo {
  node: string;
  cpu: string;
  cores: number;
  date: string;
  version: string;
  loadavg: number[];
  totalmem_gib: number;
}

/** @example machineInfo().cpu // 'Intel(R) Xeon(R) Processor' */
export function machineInfo(): MachineInfo {
  const cpus = os.cpus();
  let version = 'unknown';
  try {
    version = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    // running from an unusual layout: keep 'unknown'
  }
  return {
    node: process.version,
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    date: new Date().toISOString(),
    version,
    loadavg: os.loadavg().map((l) => Math.round(l * 100) / 100),
    totalmem_gib: Math.round(os.totalmem() / 2 ** 30),
  };
}
