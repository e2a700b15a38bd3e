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
