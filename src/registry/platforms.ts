/** The platforms (`os/architecture[/variant]`) a manifest serves, read from its index or config. */
import { Writable } from "node:stream";
import type { BlobService } from "./blobs.ts";
import type { ManifestService } from "./manifests.ts";

const imageConfigTypes = new Set([
  "application/vnd.oci.image.config.v1+json",
  "application/vnd.docker.container.image.v1+json",
]);
/** Image configs are small; anything larger is not one we read. */
const maxConfigBytes = 1024 * 1024;

export interface PlatformFields {
  os?: unknown;
  architecture?: unknown;
  variant?: unknown;
}

/** `os/architecture[/variant]`, or undefined for missing fields and attestation entries. */
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

/**
 * An index's entries' platforms, or an image's one platform from its config blob. The config is
 * read through the blob service, so a mirrored image's comes from its origin when not here yet.
 */
export async function manifestPlatforms(
  registry: { manifests: ManifestService; blobs: BlobService },
  repository: string,
  digest: string,
): Promise<string[]> {
  const manifest = await registry.manifests.get(repository, digest);
  const parsed = JSON.parse(new TextDecoder().decode(manifest.bytes)) as {
    config?: { mediaType?: string; digest?: string; size?: number };
    manifests?: Array<{ platform?: PlatformFields }>;
  };
  if (Array.isArray(parsed.manifests)) {
    const names = parsed.manifests
      .map((entry) => (entry.platform ? platformName(entry.platform) : undefined))
      .filter((p): p is string => p !== undefined);
    return [...new Set(names)];
  }
  const config = parsed.config;
  if (!config?.digest || !imageConfigTypes.has(config.mediaType ?? "")) return [];
  if ((config.size ?? 0) > maxConfigBytes) return [];
  const bytes = await readSmallBlob(registry.blobs, repository, config.digest);
  const platform = platformName(JSON.parse(new TextDecoder().decode(bytes)) as PlatformFields);
  return platform ? [platform] : [];
}

async function readSmallBlob(
  blobs: BlobService,
  repository: string,
  digest: string,
): Promise<Uint8Array> {
  const body = await blobs.open(repository, digest);
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
