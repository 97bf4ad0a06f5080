/** Blob operations of a crash worker: monolithic and chunked pushes, resumes, mounts, deletes. */
import { errorCode, send, sha256, uploadOffset } from "./client.ts";
import { attempt, blobUrl, count, expect, type WorkerContext } from "./context.ts";
import type { PendingUpload } from "./model.ts";

export async function pushMonolithic(ctx: WorkerContext): Promise<void> {
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

export async function pushChunked(ctx: WorkerContext): Promise<void> {
  const upload = await startUpload(ctx);
  if (upload) await continueUpload(ctx, upload, ctx.rng.int(1, 4));
}

/**
 * Starts an upload and sends its first 64 KiB without finishing it: the harness leaves one open
 * this way for the expiry check when the kills happened to leave none.
 */
export async function leaveUploadOpen(ctx: WorkerContext): Promise<PendingUpload | undefined> {
  const upload = await startUpload(ctx);
  if (!upload) return undefined;
  const piece = upload.data.subarray(0, 64 * 1024);
  const reply = await send(`${ctx.url()}${upload.location}`, {
    method: "PATCH",
    headers: {
      "Content-Range": `0-${piece.length - 1}`,
      "Content-Type": "application/octet-stream",
    },
    body: [piece],
  });
  if (!expect(ctx, "PATCH of an upload left open", reply, 202)) return undefined;
  upload.location = String(reply.headers.location ?? upload.location);
  upload.acked = upload.sent = uploadOffset(reply);
  return upload;
}

async function startUpload(ctx: WorkerContext): Promise<PendingUpload | undefined> {
  const data = ctx.rng.bytes(ctx.rng.int(128 * 1024, 1024 * 1024));
  const start = await send(blobUrl(ctx, "blobs/uploads/"), { method: "POST" });
  if (!expect(ctx, "upload start", start, 202)) return undefined;
  const upload: PendingUpload = {
    location: String(start.headers.location),
    data,
    digest: sha256(data),
    acked: 0,
    sent: 0,
    finishing: false,
  };
  ctx.model.uploads.push(upload);
  return upload;
}

/** Goes on with an upload left by an earlier cycle, from the offset the server reports. */
export async function resumeUpload(ctx: WorkerContext): Promise<void> {
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

export async function mount(ctx: WorkerContext): Promise<void> {
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

export async function deleteBlob(ctx: WorkerContext): Promise<void> {
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
