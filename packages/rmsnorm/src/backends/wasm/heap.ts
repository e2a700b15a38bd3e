// The host-side allocator of the wasm memory: first-fit free list of 64-byte-aligned blocks above the module's static
// data, growing the memory on demand, plus the bookkeeping that tells whether a Float32Array lives in that memory.

const ALIGN = 64; // a cache line: SIMD loads of a block never straddle lines at its start

function alignUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

export class WasmHeap {
  /** Free ranges [start, end), sorted by start, never adjacent (coalesced). */
  private readonly free: Array<[number, number]> = [];
  private readonly sizes = new Map<number, number>();
  /** Every ArrayBuffer/SharedArrayBuffer this memory has exposed: views on an older one are still resident when the
   *  memory is shared (growth does not move it); for a private memory they are detached (length 0). */
  private readonly known = new WeakSet<object>();
  private buffer!: ArrayBufferLike;
  f32!: Float32Array;
  f64!: Float64Array;

  constructor(
    readonly memory: WebAssembly.Memory,
    base: number,
    private readonly page: number,
  ) {
    this.refresh();
    const start = alignUp(Math.max(base, 1024), ALIGN); // never hand out address 0: kernels read 0 as "absent"
    this.free.push([start, this.buffer.byteLength]);
  }

  /** Re-derive the whole-memory views if the memory grew (its buffer object changes on growth). */
  refresh(): void {
    const b = this.memory.buffer;
    if (b !== this.buffer) {
      this.buffer = b;
      this.known.add(b);
      this.f32 = new Float32Array(b);
      this.f64 = new Float64Array(b);
    }
  }

  /** Whether a typed array is a view into this memory (so its byteOffset is a wasm pointer). */
  isResident(a: ArrayBufferView): boolean {
    return a.buffer === this.buffer || (this.known.has(a.buffer) && a.buffer.byteLength > 0);
  }

  /** Bytes currently mapped. */
  get byteLength(): number {
    return this.buffer.byteLength;
  }

  // Live user blocks (allocFloat32), sorted by start: views are vetted against them, so a view of a freed block (whose
  // memory may belong to a newer buffer by now) or one made by hand on the memory (address 0 is static data) is
  // refused. Binary search over a few numbers: negligible per call.
  private readonly liveStarts: number[] = [];
  private readonly liveEnds: number[] = [];

  /** Record [ptr, ptr + bytes) as a user buffer handed out. */
  markLive(ptr: number, bytes: number): void {
    const i = this.liveIndex(ptr) + 1;
    this.liveStarts.splice(i, 0, ptr);
    this.liveEnds.splice(i, 0, ptr + bytes);
  }

  /** Forget the user buffer starting at ptr (it was freed). */
  markFreed(ptr: number): void {
    const i = this.liveIndex(ptr);
    if (i >= 0 && this.liveStarts[i] === ptr) {
      this.liveStarts.splice(i, 1);
      this.liveEnds.splice(i, 1);
    }
  }

  /** Index of the last live block starting at or before `ptr` (−1 if none). */
  private liveIndex(ptr: number): number {
    let lo = 0;
    let hi = this.liveStarts.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      if (this.liveStarts[mid] <= ptr) lo = mid + 1;
      else hi = mid - 1;
    }
    return hi;
  }

  /** Whether the byte range [start, end) lies inside one live user block. */
  isLive(start: number, end: number): boolean {
    const i = this.liveIndex(start);
    return i >= 0 && end <= this.liveEnds[i];
  }

  /** Whether `buffer` is (or, for a shared memory, was before growth) this memory's buffer. */
  owns(buffer: ArrayBufferLike): boolean {
    return buffer === this.buffer || this.known.has(buffer);
  }

  /** A block of at least `bytes` bytes (64-byte aligned, contents unspecified). May grow the memory. */
  alloc(bytes: number): number {
    const size = alignUp(Math.max(bytes, 1), ALIGN);
    for (let i = 0; i < this.free.length; i++) {
      const [start, end] = this.free[i];
      if (end - start >= size) {
        if (end - start === size) this.free.splice(i, 1);
        else this.free[i][0] = start + size;
        this.sizes.set(start, size);
        return start;
      }
    }
    this.grow(size);
    return this.alloc(size);
  }

  /** Give a block back (coalescing with its free neighbours). */
  release(ptr: number): void {
    const size = this.sizes.get(ptr);
    if (size === undefined) throw new RangeError(`wasm heap: no block starts at ${ptr}`);
    this.sizes.delete(ptr);
    this.insertFree(ptr, ptr + size);
  }

  /** Size in bytes of the block at ptr, or undefined. */
  sizeOf(ptr: number): number | undefined {
    return this.sizes.get(ptr);
  }

  private insertFree(start: number, end: number): void {
    let i = 0;
    while (i < this.free.length && this.free[i][0] < start) i++;
    this.free.splice(i, 0, [start, end]);
    if (i + 1 < this.free.length && this.free[i][1] === this.free[i + 1][0]) {
      this.free[i][1] = this.free[i + 1][1];
      this.free.splice(i + 1, 1);
    }
    if (i > 0 && this.free[i - 1][1] === this.free[i][0]) {
      this.free[i - 1][1] = this.free[i][1];
      this.free.splice(i, 1);
    }
  }

  /** Grow by at least `bytes` (and at least 1/8 of the current size, so repeated growth stays rare). */
  private grow(bytes: number): void {
    const oldEnd = this.buffer.byteLength;
    const want = Math.max(bytes, Math.floor(oldEnd / 8));
    const pages = Math.ceil(want / this.page);
    try {
      this.memory.grow(pages);
    } catch {
      throw new RangeError(`wasm heap: cannot grow memory by ${pages} pages of 64 KiB (now ${oldEnd} bytes)`);
    }
    this.refresh();
    this.insertFree(oldEnd, this.buffer.byteLength);
  }
}

/** A reusable block that only grows (scratch for copy-in/out, per-thread workspaces, job arguments). */
export class GrowingBlock {
  ptr = 0;
  bytes = 0;

  /** `heap`: ours (WasmHeap) or a foreign memory's (ForeignHeap): only alloc/release are used. */
  ensure(heap: Pick<WasmHeap, 'alloc' | 'release'>, bytes: number): number {
    if (bytes > this.bytes) {
      const size = Math.max(bytes, Math.floor(this.bytes * 1.5));
      if (this.ptr !== 0) heap.release(this.ptr);
      this.ptr = 0;
      this.bytes = 0;
      this.ptr = heap.alloc(size);
      this.bytes = size;
    }
    return this.ptr;
  }
}
