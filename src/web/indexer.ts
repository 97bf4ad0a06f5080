/** Keeps the platforms of every pushed manifest, for the repository page and the search filter. */
import type { Logger } from "../log/index.ts";
import { manifestPlatforms, type Registry } from "../registry/index.ts";
import type { WebStore } from "./store.ts";

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
  const platformsOf = (repository: string, digest: string) =>
    manifestPlatforms(deps.registry, repository, digest);

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
