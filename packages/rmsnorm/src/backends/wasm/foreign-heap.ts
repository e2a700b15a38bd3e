// The heap of a memory owned by another module (tfjs-backend-wasm's Emscripten heap): our kernels run on that memory,
// and the few blocks they need (job arguments, backward workspace) come from its own allocator (malloc/free), so
// tensors living there are read and written in place. Same surface as WasmHeap as far as job.ts uses it.

const ALIGN = 64; // as WasmHeap: blocks start on a cache line (malloc only guarantees 8 or 16)

export class ForeignHeap {
  /** Aligned block start → the pointer malloc returned (to free). */
  private readonly raw = new Map<number, number>();
  private readonly sizes = new Map<number, number>();
  private buffer!: ArrayBufferLike;
  f32!: Float32Array;
  f64!: Float64Array;

  constructor(
    readonly memory: WebAssembly.Memory,
    private readonly malloc: (bytes: number) => number,
    private readonly free: (ptr: number) => void,
  ) {
    this.refresh();
  }

  /** Re-derive the whole-memory views after growth (a non-shared memory's buffer is replaced, the old one detached). */
  refresh(): void {
    const b = this.memory.buffer;
    if (b !== this.buffer) {
      this.buffer = b;
      this.f32 = new Float32Array(b);
      this.f64 = new Float64Array(b);
    }
  }

  /** Whether a typed array is a live view into this memory (so its byteOffset is a pointer valid here). */
  isResident(a: ArrayBufferView): boolean {
    return a.buffer === this.memory.buffer;
  }

  /** Bytes currently mapped. */
  get byteLength(): number {
    return this.memory.buffer.byteLength;
  }

  /** A 64-byte-aligned block of at least `bytes` bytes from the owner's allocator. May grow the memory. */
  alloc(bytes: number): number {
    const ptr = this.malloc(bytes + ALIGN) >>> 0;
    if (ptr === 0) throw new RangeError(`wasm heap (foreign): malloc(${bytes + ALIGN}) failed`);
    const start = Math.ceil(ptr / ALIGN) * ALIGN; // within the ALIGN spare bytes
    this.raw.set(start, ptr);
    this.sizes.set(start, bytes);
    this.refresh();
    return start;
  }

  /** Give a block from alloc back to the owner's allocator. */
  release(ptr: number): void {
    const raw = this.raw.get(ptr);
    if (raw === undefined) throw new RangeError(`wasm heap (foreign): no block starts at ${ptr}`);
    this.raw.delete(ptr);
    this.sizes.delete(ptr);
    this.free(raw);
  }

  /** Size in bytes of the block at ptr, or undefined. */
  sizeOf(ptr: number): number | undefined {
    return this.sizes.get(ptr);
  }
}
