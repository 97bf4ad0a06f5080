/**
 * A small fake origin registry on loopback for mirror tests: manifests by tag and digest, tag
 * lists in pages of two, blobs, an anonymous token challenge, and switches for hostile behaviour.
 */
import { createHash } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export const types = {
  manifest: "application/vnd.oci.image.manifest.v1+json",
  index: "application/vnd.oci.image.index.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layer: "application/vnd.oci.image.layer.v1.tar",
};

export function sha256(bytes: Uint8Array | string): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

export interface FakeImage {
  digest: string;
  bytes: Buffer;
  mediaType: string;
  blobs: Map<string, Buffer>;
}

/** An image manifest with a config and one layer, unique by `seed`. */
export function fakeImage(seed: string, annotations?: Record<string, string>): FakeImage {
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", seed }));
  const layer = Buffer.from(`layer bytes of ${seed} `.repeat(50));
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: types.manifest,
      config: { mediaType: types.config, digest: sha256(config), size: config.length },
      layers: [{ mediaType: types.layer, digest: sha256(layer), size: layer.length }],
      ...(annotations ? { annotations } : {}),
    }),
  );
  return {
    digest: sha256(bytes),
    bytes,
    mediaType: types.manifest,
    blobs: new Map([
      [sha256(config), config],
      [sha256(layer), layer],
    ]),
  };
}

/** An index over the given images. */
export function fakeIndex(children: FakeImage[]): FakeImage {
  const bytes = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: types.index,
      manifests: children.map((c, i) => ({
        mediaType: c.mediaType,
        digest: c.digest,
        size: c.bytes.length,
        platform: { architecture: i === 0 ? "amd64" : "arm64", os: "linux" },
      })),
    }),
  );
  return { digest: sha256(bytes), bytes, mediaType: types.index, blobs: new Map() };
}

export interface FakeOrigin {
  url: string;
  port: number;
  /** Repository name → tag → manifest. */
  tags: Map<string, Map<string, FakeImage>>;
  manifests: Map<string, FakeImage>;
  blobs: Map<string, Buffer>;
  /** Requests seen, as `METHOD path`. */
  seen: string[];
  /** Require an anonymous bearer token from `/token` (a Flotilla or Distribution with auth). */
  requireToken: boolean;
  /** Hostile switches. */
  hostile: {
    /** Serve these bytes for any manifest instead of the real ones. */
    manifestBytes?: Buffer;
    /** Answer manifest requests with a redirect here. */
    redirectManifestsTo?: string;
    /** Never answer manifest requests. */
    silentManifests?: boolean;
  };
  add(repository: string, tag: string, image: FakeImage, children?: FakeImage[]): void;
  close(): Promise<void>;
}

export async function startFakeOrigin(): Promise<FakeOrigin> {
  const token = "anonymous-token";
  const origin: FakeOrigin = {
    url: "",
    port: 0,
    tags: new Map(),
    manifests: new Map(),
    blobs: new Map(),
    seen: [],
    requireToken: false,
    hostile: {},
    add(repository, tag, image, children = []) {
      for (const child of [...children, image]) {
        origin.manifests.set(child.digest, child);
        for (const [d, b] of child.blobs) origin.blobs.set(d, b);
      }
      const tags = origin.tags.get(repository) ?? new Map<string, FakeImage>();
      origin.tags.set(repository, tags);
      tags.set(tag, image);
    },
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  const server: Server = createServer((req, res) => handle(origin, token, req, res));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  origin.port = (server.address() as AddressInfo).port;
  origin.url = `http://127.0.0.1:${origin.port}`;
  return origin;
}

function handle(origin: FakeOrigin, token: string, req: IncomingMessage, res: ServerResponse) {
  const url = new URL(req.url ?? "/", origin.url);
  origin.seen.push(`${req.method} ${url.pathname}`);
  if (url.pathname === "/token") {
    res.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ token }));
    return;
  }
  if (origin.requireToken && req.headers.authorization !== `Bearer ${token}`) {
    // A body longer than small blobs, as real registries send: the challenge must still be seen.
    const body = JSON.stringify({
      errors: [{ code: "UNAUTHORIZED", message: "authentication required", detail: null }],
    });
    res
      .writeHead(401, {
        "www-authenticate": `Bearer realm="${origin.url}/token",service="fake",scope="repository:x:pull"`,
        "content-length": Buffer.byteLength(body),
      })
      .end(body);
    return;
  }
  const match = /^\/v2\/(.+)\/(manifests|blobs|tags)\/(.+)$/.exec(url.pathname);
  if (!match) return void res.writeHead(404).end();
  const [, name, kind, reference] = match as unknown as [string, string, string, string];
  const tags = origin.tags.get(name);
  if (!tags) return void res.writeHead(404).end();
  if (kind === "tags") {
    const all = [...tags.keys()].sort();
    const last = url.searchParams.get("last");
    const page = all.filter((t) => !last || t > last).slice(0, 2);
    const headers: Record<string, string> = { "content-type": "application/json" };
    if (page.length === 2 && all.at(-1) !== page[1])
      headers.link = `</v2/${name}/tags/list?n=2&last=${page[1]}>; rel="next"`;
    res.writeHead(200, headers).end(JSON.stringify({ name, tags: page }));
    return;
  }
  if (kind === "manifests") {
    if (origin.hostile.silentManifests) return;
    if (origin.hostile.redirectManifestsTo) {
      res.writeHead(302, { location: origin.hostile.redirectManifestsTo }).end();
      return;
    }
    const image = tags.get(reference) ?? origin.manifests.get(reference);
    if (!image) return void res.writeHead(404).end();
    const bytes = origin.hostile.manifestBytes ?? image.bytes;
    res
      .writeHead(200, { "content-type": image.mediaType, "content-length": bytes.length })
      .end(bytes);
    return;
  }
  const blob = origin.blobs.get(reference);
  if (!blob) return void res.writeHead(404).end();
  res.writeHead(200, { "content-length": blob.length }).end(blob);
}
