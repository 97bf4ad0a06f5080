/** The web interface: server-rendered pages, search and the JSON API, as one extension. */
import { WebServices } from "./context.ts";
import { createPlatformIndexer, type PlatformIndexer } from "./indexer.ts";
import type { WebDeps, WebOptions } from "./types.ts";

export { WebServices } from "./context.ts";
export { registerWebRoutes } from "./routes/index.ts";
export type * from "./types.ts";

export interface Web {
  services: WebServices;
  indexer: PlatformIndexer;
  stop(): void;
}

/** Builds the web services and starts keeping platforms of pushed manifests. */
export function createWeb(deps: WebDeps, options: WebOptions): Web {
  const services = new WebServices(deps, options);
  const indexer = createPlatformIndexer({
    registry: deps.registry,
    store: services.store,
    listManifests: () => services.store.allManifests(),
    log: deps.log.child({ category: "web.indexer" }),
  });
  indexer
    .backfill()
    .then((count) => {
      if (count) deps.log.info({ category: "web", count }, "platforms indexed");
    })
    .catch((error) => deps.log.error({ category: "web", err: error }, "platform backfill failed"));
  return { services, indexer, stop: () => indexer.stop() };
}
