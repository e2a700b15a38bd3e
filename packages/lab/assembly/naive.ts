// The naive reference kernels for benchmarks only (never used by the library): what a straightforward WebAssembly
// SIMD port looks like — one row at a time, two passes over the row (L1-resident on the second), f32x4 with one
// f32 accumulator per sum, rstd from the f32 sums, and dgamma/dbeta accumulated in f32 straight into the outputs.
// src/bench/scripts/kernel-ab.ts and `rmsnorm bench` time our kernels as a multiple of these on the same data (issue #8).
// Byte addresses into an imported shared memory (like ceiling.ts); cols must be a multiple of 4.

@inline function hsum(v: v128): f32 {
  return f32x4.extract_lane(v, 0) + f32x4.extract_lane(v, 1) + f32x4.extract_lane(v, 2) + f32x4.extract_lane(v, 3);
}

/** RMSNorm forward: rstd = 1/sqrt(Σx²/cols + eps), y = x·rstd·gamma. */
export function rmsForward(x: usize, gamma: usize, y: usize, rstd: usize, rows: i32, cols: i32, eps: f32): void {
  const rowBytes = <usize>cols << 2;
  for (let r: i32 = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const yr = y + <usize>r * rowBytes;
    let acc = f32x4.splat(0);
    for (let o: usize = 0; o < rowBytes; o += 16) {
      const v = v128.load(xr + o);
      acc = f32x4.add(acc, f32x4.mul(v, v));
    }
    const rs: f32 = 1 / Mathf.sqrt(hsum(acc) / <f32>cols + eps);
    store<f32>(rstd + (<usize>r << 2), rs);
    const vr = f32x4.splat(rs);
    for (let o: usize = 0; o < rowBytes; o += 16) {
      v128.store(yr + o, f32x4.mul(f32x4.mul(v128.load(xr + o), vr), v128.load(gamma + o)));
    }
  }
}

/**
 * RMSNorm backward: u = dy·gamma, dx = rstd·u − x·rstd³·Σ(u·x)/cols, dgamma += dy·x·rstd (f32, in place:
 * the caller zeroes dgamma).
 */
export function rmsBackward(
  dy: usize, x: usize, rstd: usize, gamma: usize, dx: usize, dgamma: usize, rows: i32, cols: i32,
): void {
  const rowBytes = <usize>cols << 2;
  for (let r: i32 = 0; r < rows; r++) {
    const off = <usize>r * rowBytes;
    const dyr = dy + off;
    const xr = x + off;
    const dxr = dx + off;
    let acc = f32x4.splat(0);
    for (let o: usize = 0; o < rowBytes; o += 16) {
      acc = f32x4.add(acc, f32x4.mul(f32x4.mul(v128.load(dyr + o), v128.load(gamma + o)), v128.load(xr + o)));
    }
    const rs = load<f32>(rstd + (<usize>r << 2));
    const vr = f32x4.splat(rs);
    const vc = f32x4.splat((rs * rs * rs * hsum(acc)) / <f32>cols);
    for (let o: usize = 0; o < rowBytes; o += 16) {
      const d = v128.load(dyr + o);
      const xv = v128.load(xr + o);
      const g = v128.load(gamma + o);
      v128.store(dgamma + o, f32x4.add(v128.load(dgamma + o), f32x4.mul(d, f32x4.mul(xv, vr))));
      v128.store(dxr + o, f32x4.sub(f32x4.mul(f32x4.mul(d, g), vr), f32x4.mul(xv, vc)));
    }
  }
}

/** LayerNorm forward: mean, then Σ(x − mean)² (two passes), y = (x − mean)·rstd·gamma + beta. */
export function lnForward(
  x: usize, gamma: usize, beta: usize, y: usize, mean: usize, rstd: usize, rows: i32, cols: i32, eps: f32,
): void {
  const rowBytes = <usize>cols << 2;
  for (let r: i32 = 0; r < rows; r++) {
    const xr = x + <usize>r * rowBytes;
    const yr = y + <usize>r * rowBytes;
    let acc = f32x4.splat(0);
    for (let o: usize = 0; o < rowBytes; o += 16) acc = f32x4.add(acc, v128.load(xr + o));
    const mu: f32 = hsum(acc) / <f32>cols;
    const vm = f32x4.splat(mu);
    let acc2 = f32x4.splat(0);
    for (let o: usize = 0; o < rowBytes; o += 16) {
      const d = f32x4.sub(v128.load(xr + o), vm);
      acc2 = f32x4.add(acc2, f32x4.mul(d, d));
    }
    const rs: f32 = 1 / Mathf.sqrt(hsum(acc2) / <f32>cols + eps);
    store<f32>(mean + (<usize>r << 2), mu);
    store<f32>(rstd + (<usize>r << 2), rs);
    const vr = f32x4.splat(rs);
    for (let o: usize = 0; o < rowBytes; o += 16) {
      const h = f32x4.mul(f32x4.sub(v128.load(xr + o), vm), vr);
      v128.store(yr + o, f32x4.add(f32x4.mul(h, v128.load(gamma + o)), v128.load(beta + o)));
    }
  }
}

/**
 * LayerNorm backward: u = dy·gamma, x̂ = (x − mean)·rstd, dx = rstd·(u − Σu/cols − x̂·Σ(u·x̂)/cols),
 * dgamma += dy·x̂, dbeta += dy (f32, in place: the caller zeroes them).
 */
export function lnBackward(
  dy: usize, x: usize, mean: usize, rstd: usize, gamma: usize, dx: usize, dgamma: usize, dbeta: usize, rows: i32,
  cols: i32,
): void {
  const rowBytes = <usize>cols << 2;
  for (let r: i32 = 0; r < rows; r++) {
    const off = <usize>r * rowBytes;
    const dyr = dy + off;
    const xr = x + off;
    const dxr = dx + off;
    const vm = f32x4.splat(load<f32>(mean + (<usize>r << 2)));
    const rs = load<f32>(rstd + (<usize>r << 2));
    const vr = f32x4.splat(rs);
    let au = f32x4.splat(0);
    let aux = au;
    for (let o: usize = 0; o < rowBytes; o += 16) {
      const u = f32x4.mul(v128.load(dyr + o), v128.load(gamma + o));
      au = f32x4.add(au, u);
      aux = f32x4.add(aux, f32x4.mul(u, f32x4.mul(f32x4.sub(v128.load(xr + o), vm), vr)));
    }
    const va = f32x4.splat(hsum(au) / <f32>cols);
    const vb = f32x4.splat(hsum(aux) / <f32>cols);
    for (let o: usize = 0; o < rowBytes; o += 16) {
      const d = v128.load(dyr + o);
      const h = f32x4.mul(f32x4.sub(v128.load(xr + o), vm), vr);
      v128.store(dgamma + o, f32x4.add(v128.load(dgamma + o), f32x4.mul(d, h)));
      v128.store(dbeta + o, f32x4.add(v128.load(dbeta + o), d));
      const u = f32x4.mul(d, v128.load(gamma + o));
      v128.store(dxr + o, f32x4.mul(f32x4.sub(f32x4.sub(u, va), f32x4.mul(h, vb)), vr));
    }
  }
}
