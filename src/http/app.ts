/** The HTTP application: request ids and logs, the OCI routes, and one error handler. */
import { randomUUID } from "node:crypto";
import { Hono } from "hono";
import type { FederationExtension } from "../federation/index.ts";
import type { CidContent, IpfsExtension } from "../ipfs/index.ts";
import type { Lifecycle } from "../lifecycle/index.ts";
import type { Logger } from "../log/index.ts";
import type { Mirror } from "../mirror/types.ts";
import { NameInvalidError, OciError, type Registry } from "../registry/index.ts";
import { registerWebRoutes, type WebServices } from "../web/index.ts";
import { rawPath, sentStatus } from "./adapter/node.ts";
import {
  type AuthDeps,
  openAuthMiddleware,
  registerTokenRoutes,
  tokenAuthMiddleware,
} from "./auth/index.ts";
import { handleError, ociErrorBody } from "./errors.ts";
import { defaultLimits, type LimitsOptions, registerLimits } from "./limits.ts";
import { registerAdminStorageRoutes } from "./routes/admin-storage.ts";
import { registerBaseRoutes } from "./routes/base.ts";
import { registerBlobRoutes } from "./routes/blobs.ts";
import { registerFederationApiRoutes } from "./routes/federation-api.ts";
import { registerGatewayRoutes } from "./routes/gateway.ts";
import { registerIpfsRoutes } from "./routes/ipfs.ts";
import { registerManifestRoutes } from "./routes/manifests.ts";
import { registerMirrorRoutes } from "./routes/mirror-api.ts";
import type { HttpApp, HttpContext, HttpEnv } from "./types.ts";

export interface AppOptions {
  /** Decides which address to log as the client's (forwarded headers only from trusted proxies). */
  clientAddress?: (c: HttpContext) => string | undefined;
  /** Docker token authentication; without it every request may do everything. */
  auth?: AuthDeps;
  /** Abuse limits (body sizes, concurrent uploads per client); defaults when absent. */
  limits?: LimitsOptions;
}

export function createApp(
  deps: {
    registry: Registry;
    log: Logger;
    ipfs?: { extension: IpfsExtension; content: CidContent };
    /** The web interface and its JSON API (pages at `/`, API under `/api/v1/`). */
    web?: WebServices;
    /** Mirrored repositories: the admin API, and DENIED for writes into them. */
    mirror?: Mirror;
    /** ActivityPub (WebFinger, NodeInfo, `/ap/*`) and the follows/blocks admin API. */
    federation?: Pick<FederationExtension, "fetch" | "social">;
    /** Garbage collection, retention and quotas: the admin API under `/api/v1`. */
    lifecycle?: Lifecycle;
  },
  options: AppOptions = {},
): HttpApp {
  const app = new Hono<HttpEnv>();
  const log = deps.log.child({ category: "http" });

  app.use(async (c, next) => {
    const requestId = randomUUID();
    const started = performance.now();
    c.set("requestId", requestId);
    c.set("log", log.child({ requestId }));
    const baseHeaders = {
      "X-Request-Id": requestId,
      "Docker-Distribution-API-Version": "registry/2.0",
    };
    c.set("baseHeaders", baseHeaders);
    for (const [name, value] of Object.entries(baseHeaders)) c.header(name, value);
    await next();
    c.get("log").info(
      {
        method: c.req.method,
        path: c.req.path,
        status: sentStatus(c),
        ms: Math.round(performance.now() - started),
        client: options.clientAddress?.(c),
      },
      "request",
    );
  });

  registerLimits(app, options.limits ?? defaultLimits, options.clientAddress);

  const federation = deps.federation;
  if (federation) {
    // Fedify answers its own paths (and verifies signatures) before any registry route.
    app.use(async (c, next) => {
      const response = await federation.fetch(c.req.raw, options.clientAddress?.(c));
      if (!response) return next();
      return response;
    });
    registerFederationApiRoutes(app, { social: federation.social, auth: options.auth });
  }

  // URL parsing quietly resolves `..` and decodes `%2F`; a repository name must not depend on that.
  app.use("/v2/*", async (c, next) => {
    const path = rawPath(c).split("?")[0] ?? "";
    if (path.includes("%") || /\/\.\.?(\/|$)/.test(path) || path.includes("//")) {
      throw new NameInvalidError(path.slice(4, 260), "encoded characters, empty or dot segments");
    }
    await next();
  });

  app.use("/v2/*", options.auth ? tokenAuthMiddleware(options.auth) : openAuthMiddleware());
  app.use("/v2", options.auth ? tokenAuthMiddleware(options.auth) : openAuthMiddleware());
  if (options.auth) {
    const clientAddress = options.clientAddress ?? (() => undefined);
    registerTokenRoutes(app, { ...options.auth, clientAddress });
  }

  if (deps.mirror) registerMirrorRoutes(app, { mirror: deps.mirror, auth: options.auth });
  if (deps.lifecycle)
    registerAdminStorageRoutes(app, { lifecycle: deps.lifecycle, auth: options.auth });
  registerBaseRoutes(app, deps.registry);
  if (deps.ipfs) {
    const { extension, content } = deps.ipfs;
    registerIpfsRoutes(app, { registry: deps.registry, ipfs: extension, content });
    // The gateway has no login: it serves what anyone could pull anyway, nothing private.
    registerGatewayRoutes(app, {
      getBlock: (cid, blockOptions) => extension.publicBlock(cid, blockOptions),
    });
  }
  registerBlobRoutes(app, deps.registry);
  registerManifestRoutes(app, deps.registry);
  if (deps.web) registerWebRoutes(app, deps.web);

  app.all("/v2/*", (c) => {
    const allow = allowedMethods(c.req.path);
    if (!allow) throw new OciError("NAME_UNKNOWN", "no such API endpoint");
    throw new OciError("UNSUPPORTED", `${c.req.method} is not allowed here`, {
      status: 405,
      headers: { Allow: allow },
    });
  });
  app.all("/v2", () => {
    throw new OciError("UNSUPPORTED", "only GET and HEAD are allowed here", {
      status: 405,
      headers: { Allow: "GET, HEAD" },
    });
  });
  app.notFound((c) =>
    c.json(ociErrorBody("NOT_FOUND", "not found", undefined, c.get("requestId") ?? ""), 404),
  );
  app.onError(handleError);
  return app;
}

/** The methods an API path answers to (for 405 responses), or undefined for unknown paths. */
function allowedMethods(path: string): string | undefined {
  if (/^\/v2\/(_catalog)?$/.test(path)) return "GET, HEAD";
  if (/\/blobs\/uploads\/?$/.test(path)) return "POST";
  if (/\/blobs\/uploads\/[^/]+$/.test(path)) return "GET, PATCH, PUT, DELETE";
  if (/\/blobs\/[^/]+$/.test(path)) return "GET, HEAD, DELETE";
  if (/\/manifests\/[^/]*$/.test(path)) return "GET, HEAD, PUT, DELETE";
  if (/\/(tags\/list|referrers\/[^/]+)$/.test(path)) return "GET, HEAD";
  return undefined;
}
