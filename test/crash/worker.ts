/**
 * One client of the crash harness: it owns one repository and writes to it in a loop (monolithic
 * and chunked pushes, mounts, manifests and indexes with tag moves, deletes), recording in its
 * model what each reply acknowledged. When the server dies mid-request, the request's effect
 * becomes uncertain in the model and the worker stops.
 */
import { deleteBlob, mount, pushChunked, pushMonolithic, resumeUpload } from "./blob-ops.ts";
import { ConnectionError } from "./client.ts";
import type { WorkerContext } from "./context.ts";
import { deleteManifest, deleteTag, pushIndex, pushManifest } from "./manifest-ops.ts";

export type { WorkerContext } from "./context.ts";

/** Runs operations until the server dies; returns normally either way. */
export async function runWorker(ctx: WorkerContext): Promise<void> {
  const ops: [number, (ctx: WorkerContext) => Promise<void>][] = [
    [22, pushMonolithic],
    [14, pushChunked],
    [8, resumeUpload],
    [5, mount],
    [24, pushManifest],
    [5, pushIndex],
    [7, deleteTag],
    [5, deleteManifest],
    [5, deleteBlob],
  ];
  const total = ops.reduce((sum, [weight]) => sum + weight, 0);
  while (!ctx.killed()) {
    const op = weighted(ops, ctx.rng.next() * total);
    try {
      await op(ctx);
    } catch (error) {
      if (error instanceof ConnectionError && ctx.killed()) return;
      ctx.failures.push(`${ctx.model.name}: ${(error as Error).message}`);
      return;
    }
  }
}

function weighted<T>(items: [number, T][], roll: number): T {
  let left = roll;
  for (const [weight, item] of items) {
    left -= weight;
    if (left < 0) return item;
  }
  return (items.at(-1) as [number, T])[1];
}

/** Resumes every open upload to completion (the end of a run). */
export async function finishUploads(ctx: WorkerContext): Promise<void> {
  while (ctx.model.uploads.length > 0 && ctx.failures.length === 0) {
    const before = ctx.model.uploads.length;
    await resumeUpload(ctx);
    if (ctx.model.uploads.length >= before) {
      ctx.failures.push(`${ctx.model.name}: an upload did not complete on resume`);
      return;
    }
  }
}
