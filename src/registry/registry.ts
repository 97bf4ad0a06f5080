/** Builds the registry's domain services from a blob store and a metadata store. */
import type { Logger } from "../log/index.ts";
import type { MetaStore } from "../meta/index.ts";
import type { BlobStore } from "../storage/index.ts";
import { BlobService } from "./blobs.ts";
import { RegistryEvents } from "./events.ts";
import { ManifestService } from "./manifests.ts";
import { UploadService } from "./uploads.ts";

export interface Registry {
  blobs: BlobService;
  uploads: UploadService;
  manifests: ManifestService;
  events: RegistryEvents;
}

export interface RegistryOptions {
  maxManifestBytes: number;
  manifestCacheBytes: number;
}

export function createRegistry(
  deps: { blobs: BlobStore; meta: MetaStore; log: Logger },
  options: RegistryOptions,
): Registry {
  const events = new RegistryEvents((error, event) =>
    deps.log.error({ err: error, event }, "event listener failed"),
  );
  const shared = { ...deps, events };
  return {
    blobs: new BlobService({ ...shared, log: deps.log.child({ category: "registry.blobs" }) }),
    uploads: new UploadService({
      ...shared,
      log: deps.log.child({ category: "registry.uploads" }),
    }),
    manifests: new ManifestService(
      { ...shared, log: deps.log.child({ category: "registry.manifests" }) },
      { maxManifestBytes: options.maxManifestBytes, cacheBytes: options.manifestCacheBytes },
    ),
    events,
  };
}
