/**
 * A few buffers a serving loop reuses: a block is read into one and the buffer comes back once
 * the socket has taken the bytes. Sending a 1 MiB leaf in a fresh buffer each time kept the
 * garbage collector busier than everything else a CAR stream costs.
 */
export class BufferPool {
  readonly #size: number;
  readonly #max: number;
  readonly #free: Buffer[] = [];
  readonly #lent = new Set<Buffer>();
  readonly #waiting: Array<(buffer: Buffer) => void> = [];

  constructor(size: number, max: number) {
    this.#size = size;
    this.#max = max;
  }

  /** A buffer, waiting for one to come back when all `max` are lent. */
  async acquire(): Promise<Buffer> {
    const buffer =
      this.#free.pop() ??
      (this.#lent.size < this.#max
        ? Buffer.allocUnsafeSlow(this.#size)
        : await new Promise<Buffer>((resolve) => this.#waiting.push(resolve)));
    this.#lent.add(buffer);
    return buffer;
  }

  release(buffer: Buffer): void {
    if (!this.#lent.delete(buffer)) return;
    const next = this.#waiting.shift();
    if (next) next(buffer);
    else this.#free.push(buffer);
  }

  /** The lent buffer `bytes` is a view of, if any. */
  owner(bytes: Uint8Array): Buffer | undefined {
    for (const buffer of this.#lent) if (buffer.buffer === bytes.buffer) return buffer;
    return undefined;
  }
}
