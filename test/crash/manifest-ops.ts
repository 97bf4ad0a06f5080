/** Manifest operations of a crash worker: images and indexes pushed by tag or digest, deletes. */

import { pushMonolithic } from "./blob-ops.ts";
import { errorCode, send, sha256 } from "./client.ts";
import { attempt, blobUrl, count, expect, type WorkerContext } from "./context.ts";

const tagNames = ["latest", "v1", "v2", "stable"];
const layerType = "application/vnd.oci.image.layer.v1.tar";
const configType = "application/vnd.oci.image.config.v1+json";
const manifestType = "application/vnd.oci.image.manifest.v1+json";
const indexType = "application/vnd.oci.image.index.v1+json";

export async function pushManifest(ctx: WorkerContext): Promise<void> {
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

export async function pushIndex(ctx: WorkerContext): Promise<void> {
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

export async function deleteTag(ctx: WorkerContext): Promise<void> {
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

export async function deleteManifest(ctx: WorkerContext): Promise<void> {
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
