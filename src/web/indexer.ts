/** Keeps the platforms of every pushed manifest, for the repository page and the search filter. */
import { Writable } from "node:stream";
import type { Logger } from "../log/index.ts";
import type { Registry } from "../registry/index.ts";
import type { WebStore } from "./store.ts";

const imageConfigTypes = new Set([
  "application/vnd.oci.image.config.v1+json",
  "application/vnd.docker.container.image.v1+json",
]);
/** Image configs are small; anything larger is not one we read. */
const maxConfigBytes = 1024 * 1024;

interface PlatformFields {
  os?: unknown;
  architecture?: unknown;
  variant?: unknown;
}

export function platformName(fields: PlatformFields): string | undefined {
  const { os, architecture, variant } = fields;
  if (typeof os !== "string" || typeof architecture !== "string") return undefined;
  // buildx puts attestations in indexes as unknown/unknown: not a platform anyone pulls.
  if (os === "unknown" || architecture === "unknown" || !os || !architecture) return undefined;
  const name = [os, architecture, typeof variant === "string" ? variant : ""]
    .filter(Boolean)
    .join("/");
  return name.length <= 100 ? name : undefined;
}

export interface PlatformIndexer {
  /** Reads a manifest and stores its platforms; failures are logged, never thrown. */
  index(repository: string, digest: string): Promise<void>;
  /** Indexes manifests stored before the web module existed (once per database). */
  backfill(): Promise<number>;
  stop(): void;
}

export function createPlatformIndexer(deps: {
  registry: Registry;
  store: WebStore;
  listManifests(): Array<{ repository: string; digest: string }>;
  log: Logger;
}): PlatformIndexer {
  const platformsOf = async (repository: string, digest: string): Promise<string[]> => {
    const manifest = await deps.registry.manifests.get(repository, digest);
    const parsed = JSON.parse(new TextDecoder().decode(manifest.bytes)) as {
      config?: { mediaType?: string; digest?: string; size?: number };
      manifests?: Array<{ platform?: PlatformFields }>;
    };
    if (Array.isArray(parsed.manifests)) {
      return parsed.manifests
        .map((entry) => (entry.platform ? platformName(entry.platform) : undefined))
        .filter((p): p is string => p !== undefined);
    }
    const config = parsed.config;
    if (!config?.digest || !imageConfigTypes.has(config.mediaType ?? "")) return [];
    if ((config.size ?? 0) > maxConfigBytes) return [];
    const bytes = await readBlob(deps.registry, repository, config.digest);
    const platform = platformName(JSON.parse(new TextDecoder().decode(bytes)) as PlatformFields);
    return platform ? [platform] : [];
  };

  const index = async (repository: string, digest: string) => {
    try {
      deps.store.putPlatforms(repository, digest, await platformsOf(repository, digest));
    } catch (error) {
      deps.log.warn({ err: error, repository, digest }, "cannot read the platforms of a manifest");
    }
  };

  const off = deps.registry.events.on("manifest.pushed", (event) =>
    index(event.repository, event.digest),
  );

  return {
    index,
    async backfill() {
      if (deps.store.setting("platforms-indexed")) return 0;
      const manifests = deps.listManifests();
      for (const { repository, digest } of manifests) await index(repository, digest);
      deps.store.setSetting("platforms-indexed", String(Date.now()));
      return manifests.length;
    },
    stop: off,
  };
}

/**
 * A small blob of the repository, whole. Through the registry's blob service, so a mirrored
 * image's config comes from its origin when its bytes are not here yet.
 */
async function readBlob(
  registry: Registry,
  repository: string,
  digest: string,
): Promise<Uint8Array> {
  const body = await registry.blobs.open(repository, digest);
  const chunks: Buffer[] = [];
  let total = 0;
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      total += chunk.length;
      if (total > maxConfigBytes) return done(new Error("image config too large"));
      chunks.push(chunk);
      done();
    },
  });
  await body.write(sink);
  return Buffer.concat(chunks);
}
