/** Slows and then refuses repeated failed logins, per account and per client address. */

export interface LoginLimiterOptions {
  /** Failures within the window after which an account is refused. */
  maxPerAccount: number;
  /** Failures within the window after which an address is refused. */
  maxPerAddress: number;
  windowMs: number;
}

interface Counter {
  failures: number;
  since: number;
}

export class LoginLimiter {
  readonly #options: LoginLimiterOptions;
  readonly #accounts = new Map<string, Counter>();
  readonly #addresses = new Map<string, Counter>();

  constructor(options: Partial<LoginLimiterOptions> = {}) {
    this.#options = { maxPerAccount: 10, maxPerAddress: 50, windowMs: 15 * 60_000, ...options };
  }

  /** Whether an attempt may proceed, and how long to hold it back first. */
  check(
    account: string,
    address: string,
    now = Date.now(),
  ): { allowed: boolean; delayMs: number; retryAfterSeconds: number } {
    const a = this.#current(this.#accounts, account, now);
    const b = this.#current(this.#addresses, address, now);
    const blockedUntil = Math.max(
      a.failures >= this.#options.maxPerAccount ? a.since + this.#options.windowMs : 0,
      b.failures >= this.#options.maxPerAddress ? b.since + this.#options.windowMs : 0,
    );
    if (blockedUntil > now) {
      return {
        allowed: false,
        delayMs: 0,
        retryAfterSeconds: Math.ceil((blockedUntil - now) / 1000),
      };
    }
    const failures = Math.max(a.failures, b.failures);
    const delayMs = failures < 3 ? 0 : Math.min(250 * 2 ** (failures - 3), 4000);
    return { allowed: true, delayMs, retryAfterSeconds: 0 };
  }

  fail(account: string, address: string, now = Date.now()): void {
    for (const [map, key] of [
      [this.#accounts, account],
      [this.#addresses, address],
    ] as const) {
      const counter = this.#current(map, key, now);
      map.set(key, {
        failures: counter.failures + 1,
        since: counter.failures ? counter.since : now,
      });
    }
    this.#prune(now);
  }

  succeed(account: string): void {
    this.#accounts.delete(account);
  }

  #current(map: Map<string, Counter>, key: string, now: number): Counter {
    const counter = map.get(key);
    if (!counter || now - counter.since > this.#options.windowMs)
      return { failures: 0, since: now };
    return counter;
  }

  /** Keeps memory bounded under a flood of distinct names or addresses. */
  #prune(now: number): void {
    for (const map of [this.#accounts, this.#addresses]) {
      if (map.size < 10_000) continue;
      for (const [key, counter] of map) {
        if (now - counter.since > this.#options.windowMs) map.delete(key);
      }
    }
  }
}
