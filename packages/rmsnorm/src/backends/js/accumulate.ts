// Parameter-gradient accumulation shared by the js kernels: f64 sums in the caller's workspace, then one f32 store.

/** Zero the f64 accumulators for dgamma (workspace[0..cols)) and dbeta (workspace[cols..2cols)). */
export function clearAccumulators(workspace: Float64Array, cols: number): void {
  workspace.fill(0, 0, 2 * cols);
}

/** Store the accumulated sums into the caller's dgamma/dbeta (either may be null). */
export function storeAccumulators(
  workspace: Float64Array,
  cols: number,
  dgamma: Float32Array | null,
  dbeta: Float32Array | null,
): void {
  if (dgamma !== null) for (let j = 0; j < cols; j++) dgamma[j] = workspace[j];
  if (dbeta !== null) for (let j = 0; j < cols; j++) dbeta[j] = workspace[cols + j];
}

/** ws[cols + j] += dy_j over one row: the dbeta sums when no dgamma is wanted (4-way unrolled). */
export function addDbetaRow(dy: Float32Array, ws: Float64Array, base: number, cols: number): void {
  let j = 0;
  for (const c4 = cols - 3; j < c4; j += 4) {
    const i = base + j;
    ws[cols + j] += dy[i];
    ws[cols + j + 1] += dy[i + 1];
    ws[cols + j + 2] += dy[i + 2];
    ws[cols + j + 3] += dy[i + 3];
  }
  for (; j < cols; j++) ws[cols + j] += dy[base + j];
}
