#!/usr/bin/env node
// One-off preparation (NOT run at install): take a class-balanced subset of Fashion-MNIST from Debian's
// dataset-fashion-mnist package and write it, still in the idx format, to data/fashion-mnist/*.gz.
// Needs: apt-get install -y dataset-fashion-mnist. Usage: node scripts/prepare-fashion-mnist.mjs [perClassTrain] [perClassTest]

import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { gunzipSync, gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const SRC = '/usr/share/datasets/fashion-mnist';
const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'data', 'fashion-mnist');
const PER_CLASS = { train: Number(process.argv[2] ?? 600), t10k: Number(process.argv[3] ?? 100) };

function readIdx(path) {
  const buf = gunzipSync(readFileSync(path));
  const dims = buf[3];
  const shape = [];
  for (let i = 0; i < dims; i++) shape.push(buf.readUInt32BE(4 + 4 * i));
  return { shape, data: buf.subarray(4 + 4 * dims) };
}

function writeIdx(path, magicType, shape, data) {
  const head = Buffer.alloc(4 + 4 * shape.length);
  head[2] = magicType; // 0x08 = unsigned byte
  head[3] = shape.length;
  shape.forEach((d, i) => head.writeUInt32BE(d, 4 + 4 * i));
  const gz = gzipSync(Buffer.concat([head, data]), { level: 9 });
  writeFileSync(path, gz);
  return gz.length;
}

mkdirSync(OUT, { recursive: true });
for (const split of ['train', 't10k']) {
  const images = readIdx(join(SRC, `${split}-images-idx3-ubyte.gz`));
  const labels = readIdx(join(SRC, `${split}-labels-idx1-ubyte.gz`));
  const [n, h, w] = images.shape;
  const take = [];
  const count = new Array(10).fill(0);
  // First PER_CLASS examples of each class in file order: deterministic and class-balanced.
  for (let i = 0; i < n; i++) {
    const y = labels.data[i];
    if (count[y] < PER_CLASS[split]) {
      count[y]++;
      take.push(i);
    }
  }
  const px = h * w;
  const x = Buffer.alloc(take.length * px);
  const y = Buffer.alloc(take.length);
  take.forEach((src, dst) => {
    images.data.copy(x, dst * px, src * px, (src + 1) * px);
    y[dst] = labels.data[src];
  });
  const a = writeIdx(join(OUT, `${split}-images-idx3-ubyte.gz`), 0x08, [take.length, h, w], x);
  const b = writeIdx(join(OUT, `${split}-labels-idx1-ubyte.gz`), 0x08, [take.length], y);
  console.log(`${split}: ${take.length} of ${n} examples, images ${a} bytes, labels ${b} bytes`);
}
