/** Blob downloads (with `Range`), deletes, and every way of uploading one. */
import type { Context } from "hono";
import {
  type BlobBody,
  BlobUploadInvalidError,
  checkName,
  type OpenOptions,
  parseDigest,
  RangeInvalidError,
  type Registry,
  uploadHeaders,
} from "../../registry/index.ts";
import { requestBody, sendBody } from "../adapter/node.ts";
import { parseContentRange, parseLength, parseRange } from "../headers.ts";
import type { HttpApp, HttpEnv } from "../types.ts";
import { repositoryFor } from "./repository.ts";

export function registerBlobRoutes(app: HttpApp, registry: Registry): void {
  const { blobs, uploads } = registry;

  const startUpload = async (c: Context<HttpEnv>) => {
    const name = await repositoryFor(c, "push");
    const mount = c.req.query("mount");
    if (mount !== undefined) {
      const source = await mountSource(c, registry, mount, c.req.query("from"));
      const mounted = source ? await blobs.mount(name, mount, source) : undefined;
      if (mounted) return created(c, name, mounted.digest);
    }
    const digest = c.req.query("digest");
    if (digest !== undefined) {
      const committed = await uploads.monolithic(name, digest, requestBody(c), chunkOptions(c));
      return created(c, name, committed.digest);
    }
    const upload = await uploads.start(name);
    return c.body(null, 202, { ...uploadHeaders(upload), "Content-Length": "0" });
  };
  app.post("/v2/:name{.+}/blobs/uploads/", startUpload);
  app.post("/v2/:name{.+}/blobs/uploads", startUpload);

  app.get("/v2/:name{.+}/blobs/uploads/:id", async (c) => {
    const status = await uploads.status(await repositoryFor(c, "push"), c.req.param("id"));
    return c.body(null, 204, uploadHeaders(status));
  });

  app.patch("/v2/:name{.+}/blobs/uploads/:id", async (c) => {
    const status = await uploads.append(
      await repositoryFor(c, "push"),
      c.req.param("id"),
      requestBody(c),
      chunkOptions(c),
    );
    return c.body(null, 202, { ...uploadHeaders(status), "Content-Length": "0" });
  });

  app.put("/v2/:name{.+}/blobs/uploads/:id", async (c) => {
    const name = await repositoryFor(c, "push");
    const digest = c.req.query("digest");
    if (!digest) throw new BlobUploadInvalidError("the digest query parameter is required");
    parseDigest(digest);
    const options = chunkOptions(c);
    const hasBody = (options.length ?? 0) > 0 || c.req.header("transfer-encoding") !== undefined;
    const committed = await uploads.complete(
      name,
      c.req.param("id"),
      digest,
      hasBody ? requestBody(c) : undefined,
      options,
    );
    return created(c, name, committed.digest);
  });

  app.delete("/v2/:name{.+}/blobs/uploads/:id", async (c) => {
    await uploads.cancel(await repositoryFor(c, "push"), c.req.param("id"));
    return c.body(null, 204);
  });

  app.get("/v2/:name{.+}/blobs/:digest", async (c) => {
    const name = await repositoryFor(c, "pull");
    const body = await blobs.open(name, c.req.param("digest"), {
      signal: c.req.raw.signal,
      mode: blobOpenMode(c),
    });
    return sendBlob(c, body);
  });

  app.delete("/v2/:name{.+}/blobs/:digest", async (c) => {
    await blobs.delete(await repositoryFor(c, "delete"), c.req.param("digest"));
    return c.body(null, 202);
  });
}

/**
 * The repository to mount from: `from` when the caller may pull it, or without `from` any
 * repository holding the blob that the caller may pull. Undefined means "upload it instead".
 */
async function mountSource(
  c: Context<HttpEnv>,
  registry: Registry,
  digest: string,
  from: string | undefined,
): Promise<string | undefined> {
  const access = c.get("access");
  if (from !== undefined) {
    checkName(from);
    return (await access.canPull(from)) ? from : undefined;
  }
  for (const holder of await registry.blobs.holders(digest)) {
    if (await access.canPull(holder)) return holder;
  }
  return undefined;
}

function created(c: Context, name: string, digest: string): Response {
  return c.body(null, 201, {
    Location: `/v2/${name}/blobs/${digest}`,
    "Docker-Content-Digest": digest,
    "Content-Length": "0",
  });
}

/** Content-Range / Content-Length of a chunk; garbage in either is refused before any byte is read. */
function chunkOptions(c: Context) {
  const rangeHeader = c.req.header("content-range");
  const lengthHeader = c.req.header("content-length");
  const range = rangeHeader === undefined ? undefined : parseContentRange(rangeHeader);
  if (rangeHeader !== undefined && !range) {
    throw new BlobUploadInvalidError(`invalid Content-Range "${rangeHeader.slice(0, 64)}"`);
  }
  const length = parseLength(lengthHeader);
  if (lengthHeader !== undefined && length === undefined) {
    throw new BlobUploadInvalidError("invalid Content-Length");
  }
  return { range, length };
}

/** How a download takes part in a fetch of a missing blob: ranges wait for it to be stored. */
export function blobOpenMode(c: Context): OpenOptions["mode"] {
  if (c.req.method === "HEAD") return "head";
  return c.req.header("range") ? "wait" : "stream";
}

/** A blob download with its headers, `Range`, `If-None-Match`; shared with pulls by CID. */
export function sendBlob(c: Context<HttpEnv>, body: BlobBody): Promise<Response> {
  const { digest, size } = body;
  const etag = `"${digest}"`;
  const headers: Record<string, string> = {
    "Content-Type": "application/octet-stream",
    "Docker-Content-Digest": digest,
    ETag: etag,
    "Accept-Ranges": "bytes",
    "Cache-Control": "max-age=31536000",
  };
  if (c.req.header("if-none-match") === etag) {
    body.release();
    return sendBody(c, 304, headers, undefined);
  }
  const rangeHeader = c.req.header("range");
  const range = rangeHeader && size !== undefined ? parseRange(rangeHeader, size) : undefined;
  if (range === "unsatisfiable") {
    body.release();
    throw new RangeInvalidError("requested range is outside the blob", {
      "Content-Range": `bytes */${size}`,
    });
  }
  // A fetch of unknown length goes out chunked; its end marks a verified whole.
  if (size !== undefined)
    headers["Content-Length"] = String(range ? range.end - range.start + 1 : size);
  if (range) headers["Content-Range"] = `bytes ${range.start}-${range.end}/${size}`;
  if (c.req.method === "HEAD") body.release();
  return sendBody(c, range ? 206 : 200, headers, (out) => body.write(out, range));
}
