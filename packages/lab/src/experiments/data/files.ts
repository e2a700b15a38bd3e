// Locate and read the datasets shipped under data/ (gzip'd). Works from src/ (tsx) and dist/ (compiled): both sit
// one level below the package root, so data/ is three directories up from src/experiments/data/.

import { readFileSync, existsSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';

/** Absolute path of the package's data/ directory. */
export function dataDir(): string {
  return fileURLToPath(new URL('../../../data/', import.meta.url));
}

/** Read data/<relative>, gunzipping when it ends in .gz. Throws a clear error when the file is not shipped. */
export function readDataFile(relative: string): Buffer {
  const path = join(dataDir(), relative);
  if (!existsSync(path)) {
    throw new Error(`dataset file missing: ${path} (it ships with the package; see data/README files and scripts/prepare-*.mjs)`);
  }
  const raw = readFileSync(path);
  return relative.endsWith('.gz') ? gunzipSync(raw) : raw;
}

/** Parse an idx file (the MNIST format): big-endian dims after a 4-byte magic whose 4th byte is the rank. */
export function parseIdx(buf: Buffer): { shape: number[]; data: Uint8Array } {
  if (buf[0] !== 0 || buf[1] !== 0 || buf[2] !== 0x08) {
    throw new RangeError(`idx: expected unsigned-byte magic 0x0000 08 xx, got ${buf.subarray(0, 4).toString('hex')}`);
  }
  const rank = buf[3] as number;
  const shape: number[] = [];
  for (let i = 0; i < rank; i++) shape.push(buf.readUInt32BE(4 + 4 * i));
  const data = new Uint8Array(buf.buffer, buf.byteOffset + 4 + 4 * rank, buf.length - 4 - 4 * rank);
  const expected = shape.reduce((a, b) => a * b, 1);
  if (data.length !== expected) throw new RangeError(`idx: shape ${shape.join('x')} needs ${expected} bytes, got ${data.length}`);
  return { shape, data };
}
