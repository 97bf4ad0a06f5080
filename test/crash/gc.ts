/**
 * Garbage collection beside the workers: `POST /api/v1/admin/gc` in a loop with no grace window,
 * so sweeps race pushes and kills land mid-sweep. GC may remove any blob link no manifest refers
 * to; the models learn that through `mayHaveCollected`.
 */
import { ConnectionError, describe, send } from "./client.ts";
import { only, type RepositoryModel } from "./model.ts";
import type { Rng } from "./rng.ts";

export interface GcLoopContext {
  url: () => string;
  rng: Rng;
  killed: () => boolean;
  failures: string[];
  counters: Record<string, number>;
}

/** What the instance needs for GC to act at once: no grace window, no schedule of its own. */
export const gcEnv = { FLOTILLA_GC_GRACE_MINUTES: "0", FLOTILLA_GC_INTERVAL_HOURS: "0" };

/** Runs collections until the server dies. */
export async function runGcLoop(ctx: GcLoopContext): Promise<void> {
  const bump = (name: string, by = 1) => {
    ctx.counters[name] = (ctx.counters[name] ?? 0) + by;
  };
  while (!ctx.killed()) {
    await new Promise((resolve) => setTimeout(resolve, ctx.rng.int(10, 250)));
    if (ctx.killed()) return;
    let reply: Awaited<ReturnType<typeof send>>;
    try {
      reply = await send(`${ctx.url()}/api/v1/admin/gc`, { method: "POST" });
    } catch (error) {
      if (error instanceof ConnectionError && ctx.killed()) {
        bump("killsDuringGc");
        return;
      }
      ctx.failures.push(`gc: ${(error as Error).message}`);
      return;
    }
    if (reply.status === 503) continue;
    if (reply.status !== 200) {
      ctx.failures.push(`gc answered ${describe(reply)}`);
      return;
    }
    const report = JSON.parse(reply.body.toString("utf8")) as Record<string, number>;
    bump("gcRuns");
    for (const kind of ["links", "blobs", "files", "manifests", "uploads"]) {
      bump(`gc.${kind}`, Number(report[kind] ?? 0));
    }
  }
}

/** A collection may have unlinked every blob no manifest that may exist refers to. */
export function mayHaveCollected(model: RepositoryModel): void {
  const referenced = new Set<string>();
  for (const fact of model.manifests.values()) {
    // Only a manifest surely there protects its blobs; one whose push or delete the kill cut
    // short may be gone, and its blobs with it.
    if (only(fact.possible, true)) for (const digest of fact.blobs) referenced.add(digest);
  }
  for (const [digest, fact] of model.blobs) {
    if (!referenced.has(digest)) fact.possible.add(false);
  }
}
