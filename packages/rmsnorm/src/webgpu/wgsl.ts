// WGSL sources of the core WebGPU entry (one generator per op family, specialised by string substitution and cached
// by the generated text): RMS family forward (+ fused residual add), RMS family backward (+ dsum), LayerNorm forward
// and backward, and the per-column dgamma/dbeta pass. Storage is f32 or f16 (`enable f16`); every accumulation is
// f32. Formulas: docs/math.md §1, §3, §7; the WebGPU specifics (scaling fallback, rounding) in docs/webgpu.md.

/** Storage type of the activation buffers as WGSL sees it. */
export type WgslStorage = 'f32' | 'f16';

/** Threads per row workgroup: a power of two (the tree halves it); 256 once rows are long enough to keep them busy. */
export function rowWidth(cols: number): number {
  return cols >= 1024 ? 256 : 64;
}

/** Bytes of the uniform block `Params` (8 × 32-bit, std140-compatible). */
export const PARAMS_BYTES = 32;

/** One storage binding of a program, in binding order after the uniform block (binding 0). */
export interface Binding {
  name: string;
  /** 'S' = the activation storage type, 'f32' = statistics and parameters. */
  type: 'S' | 'f32';
  write: boolean;
}

/** Header shared by the row programs: the uniform block, the storage bindings, the workgroup tree sum. */
function header(storage: WgslStorage, bindings: Binding[], width: number): string {
  const decls = bindings.map((b, i) => {
    const t = b.type === 'S' ? 'S' : 'f32';
    return `@group(0) @binding(${i + 1}) var<storage, ${b.write ? 'read_write' : 'read'}> ${b.name} : array<${t}>;`;
  });
  return `${storage === 'f16' ? 'enable f16;\n' : ''}alias S = ${storage};
struct Params { rows : u32, cols : u32, k : u32, nx : u32, div : f32, eps : f32, offset : f32, pad : f32 }
@group(0) @binding(0) var<uniform> P : Params;
${decls.join('\n')}
const W = ${width}u;
var<workgroup> redA : array<vec2<f32>, ${width}>;
var<workgroup> redB : array<vec2<f32>, ${width}>;

// Tree sum of both lanes over the workgroup; every thread must call it (uniform control flow) and gets the totals.
// Results are read back with a plain load + barrier, not workgroupUniformLoad (Dawn-for-Node's SwiftShader aborted
// on it), so no barrier ever sits in data-dependent control flow.
fn sum2(v : vec2<f32>, lid : u32) -> vec2<f32> {
  redA[lid] = v;
  workgroupBarrier();
  for (var s = W / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) { redA[lid] = redA[lid] + redA[lid + s]; }
    workgroupBarrier();
  }
  let t = redA[0];
  workgroupBarrier();
  return t;
}
// Tree sum of .x and max of .y (same calling rules as sum2).
fn sumMax(v : vec2<f32>, lid : u32) -> vec2<f32> {
  redB[lid] = v;
  workgroupBarrier();
  for (var s = W / 2u; s > 0u; s = s >> 1u) {
    if (lid < s) { redB[lid] = vec2<f32>(redB[lid].x + redB[lid + s].x, max(redB[lid].y, redB[lid + s].y)); }
    workgroupBarrier();
  }
  let t = redB[0];
  workgroupBarrier();
  return t;
}

// IEEE finiteness by the bit pattern (WGSL has no isinf/isnan, and comparisons may be folded under fast math).
fn isFiniteF(v : f32) -> bool { return (bitcast<u32>(v) & 0x7f800000u) != 0x7f800000u; }
`;
}

const ROW_ENTRY = `@compute @workgroup_size(W)
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) l : vec3<u32>) {
  let lid = l.x;
  let row = wg.y * P.nx + wg.x;       // 2-D dispatch past 65,535 rows
  // No early return for the spare workgroups of a 2-D dispatch: they run with empty loops (SwiftShader crashed on
  // barriers after a return), and write nothing.
  let valid = row < P.rows;
  let cols = select(0u, P.cols, valid);
  let k = select(0u, P.k, valid);
  let base = select(0u, row * P.cols, valid);`;

/** Switches of the RMS-family forward program. */
export interface RmsForwardShape {
  storage: WgslStorage;
  width: number;
  outside: boolean;
  gamma: boolean;
  beta: boolean;
  /** Fused residual add: reads x and residual, writes sum (to `residual` itself when `inPlace`). */
  add: boolean;
  inPlace: boolean;
}

/** Bindings of the RMS-family forward program, in order. */
export function rmsForwardBindings(s: RmsForwardShape): Binding[] {
  const b: Binding[] = [{ name: 'x', type: 'S', write: false }];
  if (s.add) b.push({ name: 'residual', type: 'S', write: s.inPlace });
  if (s.add && !s.inPlace) b.push({ name: 'sum', type: 'S', write: true });
  b.push({ name: 'y', type: 'S', write: true }, { name: 'rstd', type: 'f32', write: true });
  if (s.gamma) b.push({ name: 'gamma', type: 'f32', write: false });
  if (s.beta) b.push({ name: 'beta', type: 'f32', write: false });
  return b;
}

/**
 * RMSNorm / pRMSNorm / L2-Norm forward (and addRmsNorm): one workgroup per row.
 *   pass 1: v = x (or sum = S(x + residual), stored), acc += v² for i < k;
 *   rstd = 1/sqrt(Σ/div + eps) or 1/(sqrt(Σ/div) + eps);
 *   pass 2: y = v·rstd·(offset + gamma) + beta.
 * Σv² is accumulated in f32: ample for any f16 row (Σ of 4096 values of 6e4² ≈ 1.5e13, far below f32's 3.4e38 —
 * the overflow that breaks f16 accumulation). f32 rows whose Σv² over- or underflows f32 are summed again scaled
 * by a power of two (below), the f32 analogue of the core ops' f64 sums.
 */
export function rmsForwardWgsl(s: RmsForwardShape): string {
  const sumName = s.inPlace ? 'residual' : 'sum';
  const load = s.add ? `${sumName}[base + i]` : 'x[base + i]';
  const gain = s.gamma ? '(P.offset + gamma[j])' : '1.0';
  const rstdOf = (ms: string, eps: string) => (s.outside ? `1.0 / (sqrt(${ms}) + ${eps})` : `1.0 / sqrt(${ms} + ${eps})`);
  return `${header(s.storage, rmsForwardBindings(s), s.width)}
${ROW_ENTRY}
  var acc = vec2<f32>(0.0, 0.0);
  for (var i = lid; i < cols; i = i + W) {
    ${s.add ? `let v16 = x[base + i] + residual[base + i];   // rounded once to the storage type (§7)
    ${sumName}[base + i] = v16;
    let v = f32(v16);` : 'let v = f32(x[base + i]);'}
    if (i < k) { acc = vec2<f32>(acc.x + v * v, max(acc.y, abs(v))); }
  }
  let t = sumMax(acc, lid);
  // Rows whose Σv² leaves the f32 range (|x| beyond ~1e18 or below ~1e-18; never for f16 storage) are summed again
  // on v·sc, sc = 2^−⌊log2 max|v|⌋ (exact): rstd = sc/sqrt(Σ(v·sc)²/div + eps·sc²). For ordinary rows the loop runs
  // 0 times; the reduction after it always runs (barriers need uniform control flow).
  let rescue = (!isFiniteF(t.x) || t.x < 1e-30) && t.y > 0.0 && isFiniteF(t.y);
  let sc = select(1.0, exp2(clamp(-floor(log2(t.y)), -126.0, 126.0)), rescue);
  var acc2 = 0.0;
  for (var i = lid; i < select(0u, k, rescue); i = i + W) { let v = f32(${load}) * sc; acc2 = acc2 + v * v; }
  let ss2 = sum2(vec2<f32>(acc2, 0.0), lid).x;
  let es = P.eps * ${s.outside ? 'sc' : 'sc * sc'};
  let useScaled = rescue && isFiniteF(es);
  let scale = select(1.0, sc, useScaled);   // y = (v·scale)·rs, rstd = rs·scale
  let rs = select(${rstdOf('t.x / P.div', 'P.eps')}, ${rstdOf('ss2 / P.div', 'es')}, useScaled);
  if (lid == 0u && valid) { rstd[row] = rs * scale; }
  for (var j = lid; j < cols; j = j + W) {
    let i = j;
    var o = (f32(${load}) * scale) * rs * ${gain};
    ${s.beta ? 'o = o + beta[j];' : ''}
    y[base + j] = S(o);
  }
}
`;
}

/** Switches of the RMS-family backward program (dx only; dgamma/dbeta come from the column program). */
export interface RmsBackwardShape {
  storage: WgslStorage;
  width: number;
  outside: boolean;
  gamma: boolean;
  /** addRmsNormBackward's dsum input (dx = dsum + …). */
  dsum: boolean;
  /** dx is written into dy (or dsum) itself. */
  inPlace: 'none' | 'dy' | 'dsum';
}

export function rmsBackwardBindings(s: RmsBackwardShape): Binding[] {
  const b: Binding[] = [{ name: 'dy', type: 'S', write: s.inPlace === 'dy' }, { name: 'x', type: 'S', write: false },
    { name: 'rstd', type: 'f32', write: false }];
  if (s.gamma) b.push({ name: 'gamma', type: 'f32', write: false });
  if (s.dsum) b.push({ name: 'dsum', type: 'S', write: s.inPlace === 'dsum' });
  if (s.inPlace === 'none') b.push({ name: 'dx', type: 'S', write: true });
  return b;
}

/**
 * RMS-family dx, one workgroup per row, with u = gain·dy, x̂ = x·rstd, dot = Σ_{i<cols} u_i x̂_i:
 *   inside:  dx_j = rstd·u_j − [j<k]·x̂_j·rstd·dot/div
 *   outside: dx_j = rstd·u_j − [j<k]·x̂_j·dot/(div·ρ), ρ = sqrt(Σ_{i<k} x²/div) = sqrt(Σ_{i<k} x̂²/div)/rstd,
 *            the term dropped when ρ = 0 (as the reference does);
 * plus dsum_j for addRmsNormBackward. Sums use x̂ (O(1) whatever the scale of x), so they cannot overflow.
 */
export function rmsBackwardWgsl(s: RmsBackwardShape): string {
  const gain = s.gamma ? '(P.offset + gamma[j])' : '1.0';
  const dx = s.inPlace === 'none' ? 'dx' : s.inPlace;
  return `${header(s.storage, rmsBackwardBindings(s), s.width)}
${ROW_ENTRY}
  let r = rstd[min(row, P.rows - 1u)];
  var acc = vec2<f32>(0.0, 0.0);
  for (var j = lid; j < cols; j = j + W) {
    let xh = f32(x[base + j]) * r;
    acc.x = acc.x + ${gain} * f32(dy[base + j]) * xh;
    ${s.outside ? 'if (j < k) { acc.y = acc.y + xh * xh; }' : ''}
  }
  let t = sum2(acc, lid);
  ${s.outside
    ? 'let c = select(t.x * r / (P.div * sqrt(t.y / P.div)), 0.0, t.y == 0.0);'
    : 'let c = r * t.x / P.div;'}
  for (var j = lid; j < cols; j = j + W) {
    var o = ${gain} * f32(dy[base + j]) * r;
    // c == 0 skips x̂·c, so x̂ = 0·inf (eps 0, zero row) cannot turn a dropped term into NaN.
    if (j < k && c != 0.0) { o = o - f32(x[base + j]) * r * c; }
    ${s.dsum ? 'o = o + f32(dsum[base + j]);' : ''}
    ${dx}[base + j] = S(o);
  }
}
`;
}

/** Switches of the LayerNorm forward program. */
export interface LnForwardShape {
  storage: WgslStorage;
  width: number;
  gamma: boolean;
  beta: boolean;
}

export function lnForwardBindings(s: LnForwardShape): Binding[] {
  const b: Binding[] = [{ name: 'x', type: 'S', write: false }, { name: 'y', type: 'S', write: true },
    { name: 'mean', type: 'f32', write: true }, { name: 'rstd', type: 'f32', write: true }];
  if (s.gamma) b.push({ name: 'gamma', type: 'f32', write: false });
  if (s.beta) b.push({ name: 'beta', type: 'f32', write: false });
  return b;
}

/**
 * LayerNorm forward, one workgroup per row: mean = Σx/cols; var = Σ(x − mean)²/cols (two-pass, population);
 * rstd = 1/sqrt(var + eps); y = (x − mean)·rstd·gamma + beta.
 */
export function lnForwardWgsl(s: LnForwardShape): string {
  return `${header(s.storage, lnForwardBindings(s), s.width)}
${ROW_ENTRY}
  let n = f32(P.cols);
  // One pass of Σd and Σd² with d = x − x₀ (x₀ = the row's first value): var = E[d²] − E[d]² loses only
  // ≈ (x₀ − mean)²/var ulps, where the unshifted E[x²] − mean² would lose mean²/var.
  let x0 = f32(x[base]);
  var a = vec2<f32>(0.0, 0.0);
  for (var j = lid; j < cols; j = j + W) { let d = f32(x[base + j]) - x0; a = a + vec2<f32>(d, d * d); }
  let t = sum2(a, lid) / n;
  let m = x0 + t.x;
  let r = 1.0 / sqrt(max(t.y - t.x * t.x, 0.0) + P.eps);
  if (lid == 0u && valid) { mean[row] = m; rstd[row] = r; }
  for (var j = lid; j < cols; j = j + W) {
    var o = (f32(x[base + j]) - m) * r${s.gamma ? ' * gamma[j]' : ''};
    ${s.beta ? 'o = o + beta[j];' : ''}
    y[base + j] = S(o);
  }
}
`;
}

export interface LnBackwardShape {
  storage: WgslStorage;
  width: number;
  gamma: boolean;
  inPlace: boolean;
}

export function lnBackwardBindings(s: LnBackwardShape): Binding[] {
  const b: Binding[] = [{ name: 'dy', type: 'S', write: s.inPlace }, { name: 'x', type: 'S', write: false },
    { name: 'mean', type: 'f32', write: false }, { name: 'rstd', type: 'f32', write: false }];
  if (s.gamma) b.push({ name: 'gamma', type: 'f32', write: false });
  if (!s.inPlace) b.push({ name: 'dx', type: 'S', write: true });
  return b;
}

/** LayerNorm dx = rstd·(u − mean(u) − x̂·mean(u ⊙ x̂)), u = gamma ⊙ dy, x̂ = (x − mean)·rstd; one workgroup per row. */
export function lnBackwardWgsl(s: LnBackwardShape): string {
  const gain = s.gamma ? 'gamma[j]' : '1.0';
  return `${header(s.storage, lnBackwardBindings(s), s.width)}
${ROW_ENTRY}
  let m = mean[min(row, P.rows - 1u)];
  let r = rstd[min(row, P.rows - 1u)];
  var acc = vec2<f32>(0.0, 0.0);
  for (var j = lid; j < cols; j = j + W) {
    let u = ${gain} * f32(dy[base + j]);
    acc = acc + vec2<f32>(u, u * (f32(x[base + j]) - m) * r);
  }
  let t = sum2(acc, lid) / f32(P.cols);
  for (var j = lid; j < cols; j = j + W) {
    let xh = (f32(x[base + j]) - m) * r;
    ${s.inPlace ? 'dy' : 'dx'}[base + j] = S(r * (${gain} * f32(dy[base + j]) - t.x - xh * t.y));
  }
}
`;
}

/** Columns per workgroup of the column program (one thread per column). */
export const COL_TILE = 64;

export interface ColumnShape {
  storage: WgslStorage;
  dgamma: boolean;
  dbeta: boolean;
  /** LayerNorm (x̂ = (x − mean)·rstd) instead of the RMS family (x̂ = x·rstd). */
  withMean: boolean;
}

export function columnBindings(s: ColumnShape): Binding[] {
  const b: Binding[] = [{ name: 'dy', type: 'S', write: false }];
  if (s.dgamma) {
    b.push({ name: 'x', type: 'S', write: false });
    if (s.withMean) b.push({ name: 'mean', type: 'f32', write: false });
    b.push({ name: 'rstd', type: 'f32', write: false }, { name: 'dgamma', type: 'f32', write: true });
  }
  if (s.dbeta) b.push({ name: 'dbeta', type: 'f32', write: true });
  return b;
}

/**
 * dgamma_j = Σ_rows dy·x̂ and dbeta_j = Σ_rows dy without atomics: one thread per column walks down the rows
 * (adjacent threads read adjacent columns: coalesced), f32 accumulation, no workgroup memory or barriers. A
 * two-stage version (row-block partials, then their sum) would keep a large GPU busier when cols is small.
 */
export function columnWgsl(s: ColumnShape): string {
  const xhat = s.withMean ? '(f32(x[i]) - mean[r]) * rstd[r]' : 'f32(x[i]) * rstd[r]';
  return `${s.storage === 'f16' ? 'enable f16;\n' : ''}alias S = ${s.storage};
struct Params { rows : u32, cols : u32, k : u32, nx : u32, div : f32, eps : f32, offset : f32, pad : f32 }
@group(0) @binding(0) var<uniform> P : Params;
${columnBindings(s).map((b, i) => `@group(0) @binding(${i + 1}) var<storage, ${b.write ? 'read_write' : 'read'}> ${b.name} : array<${b.type === 'S' ? 'S' : 'f32'}>;`).join('\n')}
@compute @workgroup_size(${COL_TILE})
fn main(@builtin(workgroup_id) wg : vec3<u32>, @builtin(local_invocation_id) l : vec3<u32>) {
  let col = (wg.y * P.nx + wg.x) * ${COL_TILE}u + l.x;
  if (col >= P.cols) { return; }
  var acc = vec2<f32>(0.0, 0.0);
  for (var r = 0u; r < P.rows; r = r + 1u) {
    let i = r * P.cols + col;
    let d = f32(dy[i]);
    acc = acc + vec2<f32>(${s.dgamma ? `d * ${xhat}` : '0.0'}, d);
  }
  ${s.dgamma ? 'dgamma[col] = acc.x;' : ''}
  ${s.dbeta ? 'dbeta[col] = acc.y;' : ''}
}
`;
}
