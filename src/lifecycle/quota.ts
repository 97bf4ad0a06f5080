/**
 * Namespace quotas: the bytes of distinct blobs linked into any repository of a namespace, each
 * blob counted once however many repositories hold it. Enforced where blobs get linked (upload
 * completion, mount) in the same transaction as the link.
 */
import { namespaceOf } from "../accounts/index.ts";
import type { QuotaMeta } from "../meta/index.ts";
import type { QuotaGate } from "../registry/index.ts";
import { QuotaExceededError } from "./types.ts";

export interface QuotaUsage {
  namespace: string;
  used: number;
  /** Undefined: no quota. */
  limit?: number;
}

export class QuotaService implements QuotaGate {
  readonly #store: QuotaMeta;

  constructor(store: QuotaMeta) {
    this.#store = store;
  }

  /** Sets a namespace's quota in bytes; undefined removes it. */
  async set(namespace: string, bytes: number | undefined): Promise<void> {
    if (bytes !== undefined && (!Number.isSafeInteger(bytes) || bytes < 0)) {
      throw new RangeError("a quota is a whole number of bytes, 0 or more");
    }
    await this.#store.setQuota(namespace, bytes);
  }

  async usage(namespace: string): Promise<QuotaUsage> {
    const limit = await this.#store.getQuota(namespace);
    const used = await this.#store.namespaceUsage(namespace);
    return limit === undefined ? { namespace, used } : { namespace, used, limit };
  }

  /** Every namespace that has a quota or holds blobs. */
  async all(): Promise<QuotaUsage[]> {
    const rows = new Map<string, QuotaUsage>();
    for (const u of await this.#store.allNamespaceUsage()) {
      rows.set(u.namespace, { namespace: u.namespace, used: u.bytes });
    }
    for (const q of await this.#store.listQuotas()) {
      rows.set(q.namespace, {
        namespace: q.namespace,
        used: rows.get(q.namespace)?.used ?? 0,
        limit: q.bytes,
      });
    }
    return [...rows.values()].sort((a, b) => a.namespace.localeCompare(b.namespace));
  }

  async remaining(repository: string): Promise<number | undefined> {
    const namespace = namespaceOf(repository);
    const limit = await this.#store.getQuota(namespace);
    if (limit === undefined) return undefined;
    return limit - (await this.#store.namespaceUsage(namespace));
  }

  async check(repository: string, size: number, digest?: string): Promise<void> {
    const namespace = namespaceOf(repository);
    const limit = await this.#store.getQuota(namespace);
    if (limit === undefined) return;
    if (digest && (await this.#store.namespaceHasBlob(namespace, digest))) return;
    const used = (await this.#store.namespaceUsage(namespace)) + size;
    if (used > limit) throw new QuotaExceededError(namespace, used, limit);
  }

  async link(repository: string, digest: string, size: number): Promise<void> {
    const namespace = namespaceOf(repository);
    const result = await this.#store.linkBlobWithinQuota(repository, namespace, digest, size);
    if (!result.ok) throw new QuotaExceededError(namespace, result.used, result.limit);
  }
}
