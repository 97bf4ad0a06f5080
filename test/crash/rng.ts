/** A small seeded PRNG (mulberry32), so a failing crash run replays from its printed seed. */
export class Rng {
  #state: number;

  constructor(seed: number) {
    this.#state = seed >>> 0;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let x = Math.imul(this.#state ^ (this.#state >>> 15), 1 | this.#state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  chance(p: number): boolean {
    return this.next() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new Error("pick from an empty list");
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** A new generator seeded from this one (one per worker, so workers do not share a stream). */
  fork(): Rng {
    return new Rng(Math.floor(this.next() * 2 ** 32));
  }

  /** `size` pseudo-random bytes (xorshift32; fast enough for megabytes). */
  bytes(size: number): Buffer {
    const out = Buffer.allocUnsafe(size);
    let x = Math.floor(this.next() * 2 ** 32) | 1;
    let i = 0;
    for (; i + 4 <= size; i += 4) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      out.writeInt32LE(x | 0, i);
    }
    for (; i < size; i++) out[i] = this.int(0, 255);
    return out;
  }
}

/** A fresh seed for runs that do not name one. */
export function randomSeed(): number {
  return Math.floor(Math.random() * 2 ** 31);
}
