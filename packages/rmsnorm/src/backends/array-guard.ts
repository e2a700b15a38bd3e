// One hook through which a backend that hands out memory (wasm: allocFloat32 blocks) vets every array the op layer
// accepts, on every backend: a view of that memory that no live block contains (freed by freeFloat32, or made by
// hand on the memory's buffer) is rejected before any kernel reads or writes it. Dependencies point one way: the op
// layer calls guardView, the backend registers the check.

/** Throws a RangeError naming `name` when `view` must not be used; returns otherwise. */
export type ViewGuard = (name: string, view: ArrayBufferView) => void;

let guard: ViewGuard | null = null;

/** Install the check (the wasm backend does, on import). */
export function registerViewGuard(check: ViewGuard): void {
  guard = check;
}

/** Vet one array of a call (cheap when no backend memory was handed out: one null check). */
export function guardView(name: string, view: ArrayBufferView): void {
  if (guard !== null) guard(name, view);
}
