import type { Context } from "hono";
/** Manifests by tag or digest, tags list and referrers. */
import { ManifestTooLargeError, type Registry } from "../../registry/index.ts";
import { readLimited } from "../adapter/node.ts";
import { parseAccept } from "../headers.ts";
import { pageOf, setNextLink } from "../pagination.ts";
import type { HttpApp } from "../types.ts";
import { repositoryFor } from "./repository.ts";

export function registerManifestRoutes(app: HttpApp, registry: Registry): void {
  const { manifests } = registry;

  app.get("/v2/:name{.+}/manifests/:reference", async (c) => {
    const name = await repositoryFor(c, "pull");
    const manifest = await manifests.get(
      name,
      c.req.param("reference"),
      parseAccept(c.req.header("accept")),
    );
    return sendManifest(c, manifest);
  });

  app.put("/v2/:name{.+}/manifests/:reference", async (c) => {
    const name = await repositoryFor(c, "push");
    const limit = manifests.maxManifestBytes;
    const bytes = await readLimited(c, limit, () => new ManifestTooLargeError(limit));
    const stored = await manifests.put(
      name,
      c.req.param("reference"),
      bytes,
      c.req.header("content-type"),
    );
    c.header("Location", `/v2/${name}/manifests/${stored.digest}`);
    c.header("Docker-Content-Digest", stored.digest);
    if (stored.subject) c.header("OCI-Subject", stored.subject);
    return c.body(null, 201);
  });

  app.delete("/v2/:name{.+}/manifests/:reference", async (c) => {
    await manifests.delete(await repositoryFor(c, "delete"), c.req.param("reference"));
    return c.body(null, 202);
  });

  app.get("/v2/:name{.+}/tags/list", async (c) => {
    const name = await repositoryFor(c, "pull");
    const page = pageOf(c);
    const tags = await manifests.tags(name, page);
    setNextLink(c, `/v2/${name}/tags/list`, page, tags);
    return c.json({ name, tags });
  });

  app.get("/v2/:name{.+}/referrers/:digest", async (c) => {
    const name = await repositoryFor(c, "pull");
    const artifactType = c.req.query("artifactType") || undefined;
    const index = await manifests.referrers(name, c.req.param("digest"), artifactType);
    if (artifactType !== undefined) c.header("OCI-Filters-Applied", "artifactType");
    return c.json(index, 200, { "Content-Type": index.mediaType });
  });
}

/** A manifest response with its headers, `If-None-Match` and HEAD; shared with pulls by CID. */
export function sendManifest(
  c: Context,
  manifest: { digest: string; mediaType: string; bytes: Uint8Array },
): Response {
  const headers = {
    "Content-Type": manifest.mediaType,
    "Docker-Content-Digest": manifest.digest,
    ETag: `"${manifest.digest}"`,
    "Content-Length": String(manifest.bytes.byteLength),
  };
  if (c.req.header("if-none-match") === headers.ETag) return c.body(null, 304, headers);
  if (c.req.method === "HEAD") return c.body(null, 200, headers);
  return c.body(manifest.bytes as Uint8Array<ArrayBuffer>, 200, headers);
}
