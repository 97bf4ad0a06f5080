/** What a crash worker's operations share: the context, and the bookkeeping around requests. */
import { describe, type Reply } from "./client.ts";
import type { RepositoryModel } from "./model.ts";
import type { Rng } from "./rng.ts";

export interface WorkerContext {
  url: () => string;
  rng: Rng;
  model: RepositoryModel;
  /** Every worker's model, for mounts from other repositories. */
  others: RepositoryModel[];
  /** Layers every worker pushes into its own repository, concurrently. */
  shared: Buffer[];
  /** True once the harness killed the server: connection errors are then expected. */
  killed: () => boolean;
  /** Unexpected replies; the run fails if any. */
  failures: string[];
  counters: Record<string, number>;
  /** Garbage collection runs beside the workers: blob links may vanish under them. */
  gc?: boolean;
}

export function count(ctx: WorkerContext, name: string): void {
  ctx.counters[name] = (ctx.counters[name] ?? 0) + 1;
}

/** Sends a request whose effect the model records as uncertain until a reply says otherwise. */
export async function attempt(
  uncertain: () => void,
  request: () => Promise<Reply>,
): Promise<Reply> {
  try {
    return await request();
  } catch (error) {
    uncertain();
    throw error;
  }
}

export function expect(
  ctx: WorkerContext,
  what: string,
  reply: Reply,
  ...statuses: number[]
): boolean {
  if (statuses.includes(reply.status)) return true;
  ctx.failures.push(`${ctx.model.name}: ${what} answered ${describe(reply)}`);
  return false;
}

export function blobUrl(ctx: WorkerContext, path: string): string {
  return `${ctx.url()}/v2/${ctx.model.name}/${path}`;
}
