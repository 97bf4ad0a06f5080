/**
 * One client of the crash harness: it owns one repository and writes to it in a loop (monolithic
 * and chunked pushes, mounts, manifests and indexes with tag moves, deletes), recording in its
 * model what each reply acknowledged. When the server dies mid-request, the request's effect
 * becomes uncertain in the model and the worker stops.
 */
import {
  ConnectionError,
  describe,
  errorCode,
  type Reply,
  send,
  sha256,
  uploadOffset,
} from "./client.ts";
import type { PendingUpload, RepositoryModel } from "./model.ts";
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

const tagNames = ["latest", "v1", "v2", "stable"];
const layerType = "application/vnd.oci.image.layer.v1.tar";
const configType = "application/vnd.oci.image.config.v1+json";
const manifestType = "application/vnd.oci.image.manifest.v1+json";
const indexType = "application/vnd.oci.image.index.v1+json";

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

function count(ctx: WorkerContext, name: string): void {
  ctx.counters[name] = (ctx.counters[name] ?? 0) + 1;
}

/** Sends a request whose effect the model records as uncertain until a reply says otherwise. */
async function attempt(uncertain: () => void, request: () => Promise<Reply>): Promise<Reply> {
  try {
    return await request();
  } catch (error) {
    uncertain();
    throw error;
  }
}

function expect(ctx: WorkerContext, what: string, reply: Reply, ...statuses: number[]): boolean {
  if (statuses.includes(reply.status)) return true;
  ctx.failures.push(`${ctx.model.name}: ${what} answered ${describe(reply)}`);
  return false;
}

function blobUrl(ctx: WorkerContext, path: string): string {
  return `${ctx.url()}/v2/${ctx.model.name}/${path}`;
}

async function pushMonolithic(ctx: WorkerContext): Promise<void> {
  const data = ctx.rng.chance(0.25)
    ? ctx.rng.pick(ctx.shared)
    : ctx.rng.bytes(ctx.rng.int(64, 64 * 1024));
  const digest = sha256(data);
  const reply = await attempt(
    () => ctx.model.blobWritten(digest, data.length, false),
    () => send(blobUrl(ctx, `blobs/uploads/?digest=${digest}`), { method: "POST", body: data }),
  );
  if (expect(ctx, "monolithic push", reply, 201)) {
    ctx.model.blobWritten(digest, data.length, true);
    count(ctx, "blobs");
  }
}

async function pushChunked(ctx: WorkerContext): Promise<void> {
  const data = ctx.rng.bytes(ctx.rng.int(128 * 1024, 1024 * 1024));
  const start = await send(blobUrl(ctx, "blobs/uploads/"), { method: "POST" });
  if (!expect(ctx, "upload start", start, 202)) return;
  const upload: PendingUpload = {
    location: String(start.headers.location),
    data,
    digest: sha256(data),
    acked: 0,
    sent: 0,
    finishing: false,
  };
  ctx.model.uploads.push(upload);
  await continueUpload(ctx, upload, ctx.rng.int(1, 4));
}

/** Goes on with an upload left by an earlier cycle, from the offset the server reports. */
async function resumeUpload(ctx: WorkerContext): Promise<void> {
  const upload = ctx.model.uploads.find((u) => !u.finishing);
  if (!upload) return pushChunked(ctx);
  const status = await send(`${ctx.url()}${upload.location}`);
  if (!expect(ctx, "upload status", status, 204)) return;
  upload.acked = upload.sent = uploadOffset(status);
  count(ctx, "resumed");
  await continueUpload(ctx, upload, ctx.rng.int(1, 3));
}

/** PATCHes the rest of `upload` in `chunks` pieces (slowly, so kills land mid-body), then PUTs. */
async function continueUpload(
  ctx: WorkerContext,
  upload: PendingUpload,
  chunks: number,
): Promise<void> {
  const size = Math.ceil((upload.data.length - upload.acked) / chunks);
  while (upload.acked < upload.data.length) {
    const from = upload.acked;
    const piece = upload.data.subarray(from, Math.min(upload.data.length, from + size));
    const pieces = [];
    for (let at = 0; at < piece.length; at += 64 * 1024)
      pieces.push(piece.subarray(at, at + 64 * 1024));
    upload.sent = from + piece.length;
    const reply = await send(`${ctx.url()}${upload.location}`, {
      method: "PATCH",
      headers: {
        "Content-Range": `${from}-${from + piece.length - 1}`,
        "Content-Type": "application/octet-stream",
      },
      body: pieces,
      pauseMs: ctx.rng.chance(0.5) ? 2 : 0,
    });
    // An offset of 1 reads as `0-0` just like 0; the server then says where it really is.
    if (reply.status === 416 && from === 0) {
      upload.acked = 1;
      continue;
    }
    if (!expect(ctx, `PATCH ${from}+${piece.length}`, reply, 202)) return;
    upload.location = String(reply.headers.location ?? upload.location);
    upload.acked = uploadOffset(reply);
    if (upload.acked !== upload.sent) {
      ctx.failures.push(`${ctx.model.name}: PATCH acknowledged ${upload.acked} of ${upload.sent}`);
      return;
    }
  }
  const separator = upload.location.includes("?") ? "&" : "?";
  const reply = await attempt(
    () => {
      upload.finishing = true;
      ctx.model.blobWritten(upload.digest, upload.data.length, false);
    },
    () =>
      send(`${ctx.url()}${upload.location}${separator}digest=${upload.digest}`, { method: "PUT" }),
  );
  if (!expect(ctx, "upload PUT", reply, 201)) return;
  ctx.model.uploads.splice(ctx.model.uploads.indexOf(upload), 1);
  ctx.model.blobWritten(upload.digest, upload.data.length, true);
  count(ctx, "chunked");
}

async function mount(ctx: WorkerContext): Promise<void> {
  const source = ctx.rng.pick(ctx.others);
  const candidates = source.presentBlobs();
  if (source === ctx.model || candidates.length === 0) return pushMonolithic(ctx);
  const digest = ctx.rng.pick(candidates);
  const size = source.blobs.get(digest)?.size ?? 0;
  const reply = await attempt(
    () => ctx.model.blobWritten(digest, size, false),
    () =>
      send(blobUrl(ctx, `blobs/uploads/?mount=${digest}&from=${source.name}`), { method: "POST" }),
  );
  // 202: the source deleted it meanwhile, and the registry offers an upload instead.
  if (!expect(ctx, "mount", reply, 201, 202)) return;
  if (reply.status === 202) {
    const cancel = await send(`${ctx.url()}${reply.headers.location}`, { method: "DELETE" });
    expect(ctx, "cancel upload", cancel, 204);
    return;
  }
  ctx.model.blobWritten(digest, size, true);
  count(ctx, "mounts");
}

async function pushManifest(ctx: WorkerContext): Promise<void> {
  const blobs = ctx.model.presentBlobs();
  if (blobs.length < 2) return pushMonolithic(ctx);
  const descriptor = (digest: string, mediaType: string) => ({
    mediaType,
    digest,
    size: ctx.model.blobs.get(digest)?.size ?? 0,
  });
  const layers = Array.from({ length: ctx.rng.int(1, 3) }, () =>
    descriptor(ctx.rng.pick(blobs), layerType),
  );
  const manifest = {
    schemaVersion: 2,
    mediaType: manifestType,
    config: descriptor(ctx.rng.pick(blobs), configType),
    layers,
    annotations: { n: String(ctx.rng.int(0, 1e9)) },
  };
  const used = [manifest.config.digest, ...layers.map((l) => l.digest)];
  await putManifest(ctx, Buffer.from(JSON.stringify(manifest)), manifestType, [], used);
}

async function pushIndex(ctx: WorkerContext): Promise<void> {
  const present = ctx.model
    .presentManifests()
    .filter((d) => ctx.model.manifests.get(d)?.mediaType === manifestType);
  if (present.length === 0) return pushManifest(ctx);
  const children = [
    ...new Set(Array.from({ length: ctx.rng.int(1, 2) }, () => ctx.rng.pick(present))),
  ];
  const index = {
    schemaVersion: 2,
    mediaType: indexType,
    manifests: children.map((digest) => ({
      mediaType: manifestType,
      digest,
      size: ctx.model.manifests.get(digest)?.bytes.length ?? 0,
      platform: { architecture: "amd64", os: "linux" },
    })),
  };
  await putManifest(ctx, Buffer.from(JSON.stringify(index)), indexType, children, []);
}

async function putManifest(
  ctx: WorkerContext,
  bytes: Buffer,
  mediaType: string,
  children: string[],
  blobs: string[],
) {
  const digest = sha256(bytes);
  const tag = ctx.rng.chance(0.8) ? ctx.rng.pick(tagNames) : undefined;
  const fact = { bytes, mediaType, children, blobs };
  const reply = await attempt(
    () => ctx.model.manifestWritten(digest, fact, tag, false),
    () =>
      send(blobUrl(ctx, `manifests/${tag ?? digest}`), {
        method: "PUT",
        headers: { "Content-Type": mediaType },
        body: bytes,
      }),
  );
  if (ctx.gc && reply.status === 400 && errorCode(reply) === "MANIFEST_BLOB_UNKNOWN") {
    // A collection unlinked a layer no manifest referred to yet: the client pushes it again.
    for (const blob of blobs) ctx.model.blobs.get(blob)?.possible.add(false);
    count(ctx, "gcRaces");
    return;
  }
  if (!expect(ctx, `manifest PUT ${tag ?? digest}`, reply, 201)) return;
  ctx.model.manifestWritten(digest, fact, tag, true);
  count(ctx, tag ? "tagMoves" : "manifests");
}

async function deleteTag(ctx: WorkerContext): Promise<void> {
  const tags = [...ctx.model.tags]
    .filter(([, t]) => t.size === 1 && !t.has(null))
    .map(([tag]) => tag);
  if (tags.length === 0) return pushManifest(ctx);
  const tag = ctx.rng.pick(tags);
  const reply = await attempt(
    () => ctx.model.tagDeleted(tag, false),
    () => send(blobUrl(ctx, `manifests/${tag}`), { method: "DELETE" }),
  );
  if (expect(ctx, `DELETE tag ${tag}`, reply, 202)) ctx.model.tagDeleted(tag, true);
  count(ctx, "deletes");
}

async function deleteManifest(ctx: WorkerContext): Promise<void> {
  const candidates = ctx.model.presentManifests().filter((d) => !ctx.model.isChild(d));
  if (candidates.length === 0) return pushManifest(ctx);
  const digest = ctx.rng.pick(candidates);
  const reply = await attempt(
    () => ctx.model.manifestDeleted(digest, false),
    () => send(blobUrl(ctx, `manifests/${digest}`), { method: "DELETE" }),
  );
  if (expect(ctx, `DELETE manifest ${digest}`, reply, 202)) ctx.model.manifestDeleted(digest, true);
  count(ctx, "deletes");
}

async function deleteBlob(ctx: WorkerContext): Promise<void> {
  const blobs = ctx.model.presentBlobs();
  if (blobs.length < 6) return pushMonolithic(ctx);
  const digest = ctx.rng.pick(blobs);
  const reply = await attempt(
    () => ctx.model.blobDeleted(digest, false),
    () => send(blobUrl(ctx, `blobs/${digest}`), { method: "DELETE" }),
  );
  if (ctx.gc && reply.status === 404 && errorCode(reply) === "BLOB_UNKNOWN") {
    ctx.model.blobDeleted(digest, true);
    count(ctx, "gcRaces");
    return;
  }
  if (expect(ctx, `DELETE blob ${digest}`, reply, 202)) ctx.model.blobDeleted(digest, true);
  count(ctx, "deletes");
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
