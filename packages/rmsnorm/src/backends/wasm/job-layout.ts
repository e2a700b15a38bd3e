// The one definition of the wasm job layout, read by both sides: the host (src/backends/wasm/job.ts) writes a job's
// f64 argument slots with these indices, and the AssemblyScript kernels (assembly/_job.ts re-exports this file)
// read them. Plain untyped constants on purpose: the same text is valid TypeScript and AssemblyScript (integers
// compile to i32 there), so the two sides cannot drift apart.

// f64 argument slots at `args` (index × 8 bytes)
export const OP = 0;
export const ROWS = 1;
export const COLS = 2;
export const K = 3;
export const DIVISOR = 4;
export const EPS = 5;
export const EPS_OUTSIDE = 6;
export const GAMMA_OFFSET = 7;
export const P0 = 8; // first pointer slot; meaning per op below (up to 12 pointers)
export const WS = 20; // per-part workspace base (backward)
export const WS_STRIDE = 21; // bytes between parts' workspaces
export const DGAMMA = 22; // 0 = not wanted
export const DBETA = 23; // 0 = not wanted
export const DTYPE = 24; // activation storage of the fused/16-bit ops: DT_F32, DT_F16, DT_BF16
export const CHANNELS = 25; // channels-last ops: channels per position (x is [ROWS = blocks, COLS, CHANNELS])
// f32 row backward (OP_RMS_BWD, OP_LN_BWD): 1 = keep adding into the dgamma/dbeta sums already in part 0's workspace
// (the next row chunk of one plain-array job, src/backends/wasm/job.ts), 0 = start them from zero
export const ACCUMULATE = 26;
export const SLOTS = 27;

// op codes
export const OP_RMS_FWD = 1; // P0.. = x, gamma, beta, y, rstd
export const OP_RMS_BWD = 2; // P0.. = dy, x, rstd, gamma, dx
export const OP_LN_FWD = 3; // P0.. = x, gamma, beta, y, mean, rstd
export const OP_LN_BWD = 4; // P0.. = dy, x, mean, rstd, gamma, dx
// Fused residual add and 16-bit storage (assembly/_add-rms-norm.ts; storage in slot DTYPE). The 16-bit rmsNorm is
// the fused op with no residual (pointer 0) and no sum output.
export const OP_ADD_RMS_FWD = 5; // P0.. = x, residual, gamma, beta, sum, y, rstd
export const OP_ADD_RMS_BWD = 6; // P0.. = dy, dsum, sum, rstd, gamma, dx (dsum 0 = none)
// LayerNorm on 16-bit storage (assembly/_layer-norm16.ts; DT_F16 or DT_BF16 in slot DTYPE): the pointer order of
// OP_LN_FWD / OP_LN_BWD, with x, y, dy, dx holding 16-bit patterns.
export const OP_LN16_FWD = 7; // P0.. = x, gamma, beta, y, mean, rstd
export const OP_LN16_BWD = 8; // P0.. = dy, x, mean, rstd, gamma, dx
// Channels-last layout (assembly/_channels.ts): x is [ROWS = blocks, COLS, CHANNELS], statistics per (block, channel),
// gamma/beta/dgamma/dbeta per channel; the pointer order of the row ops. Parts of a job are block ranges.
export const OP_RMS_CH_FWD = 9; // P0.. = x, gamma, beta, y, rstd
export const OP_RMS_CH_BWD = 10; // P0.. = dy, x, rstd, gamma, dx
export const OP_LN_CH_FWD = 11; // P0.. = x, gamma, beta, y, mean, rstd
export const OP_LN_CH_BWD = 12; // P0.. = dy, x, mean, rstd, gamma, dx

// storage codes (slot DTYPE)
export const DT_F32 = 0;
export const DT_F16 = 1;
export const DT_BF16 = 2;

// Per-part backward workspace: WS_BYTES_PER_COL bytes per column (rounded up to 4 columns: f64 dgamma and dbeta sums,
// f32 dgamma and dbeta block accumulators), then WS_EXTRA bytes of per-row splats, the whole rounded up to WS_ALIGN.
export const WS_BYTES_PER_COL = 24;
export const WS_EXTRA = 512;
export const WS_ALIGN = 64;
// Channels-last ops (forward too): CH_WS_BYTES_PER_CHANNEL bytes per channel (rounded up to 4 channels): f64 dgamma
// and dbeta sums (reduceParams reads them as for the row ops), three f64 per-channel sums of one block, six f32
// per-channel factors (assembly/_channels.ts), then WS_EXTRA, rounded up to WS_ALIGN.
export const CH_WS_BYTES_PER_CHANNEL = 64;
