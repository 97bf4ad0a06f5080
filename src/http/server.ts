/** Puts the app on a socket: HTTP or HTTPS, timeouts for slow clients, graceful close. */
import { readFileSync } from "node:fs";
import type { Server } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { createAdaptorServer } from "@hono/node-server";
import {
  applyServerLimits,
  defaultLimits,
  type LimitsOptions,
  serverLimitOptions,
} from "./limits.ts";
import type { HttpApp } from "./types.ts";

export interface ServerOptions {
  port: number;
  host: string;
  tls?: { cert?: string; key?: string };
  headersTimeoutSeconds: number;
  idleTimeoutSeconds: number;
  limits?: LimitsOptions;
}

export interface RunningServer {
  server: Server;
  port: number;
  /** Stops accepting, lets requests in flight finish for up to `graceMs`, then cuts the rest. */
  close(graceMs: number): Promise<void>;
}

export async function listen(app: HttpApp, options: ServerOptions): Promise<RunningServer> {
  const tls =
    options.tls?.cert && options.tls.key
      ? { cert: readFileSync(options.tls.cert), key: readFileSync(options.tls.key) }
      : undefined;
  const limits = options.limits ?? defaultLimits;
  const server = createAdaptorServer({
    fetch: app.fetch,
    serverOptions: { ...tls, ...serverLimitOptions(limits) },
    ...(tls ? { createServer: createHttpsServer } : {}),
  }) as Server;
  applyServerLimits(server, limits);
  // Uploads of gigabytes take longer than Node's 5-minute whole-request limit; an idle timeout
  // still drops clients that stop sending.
  server.requestTimeout = 0;
  server.headersTimeout = options.headersTimeoutSeconds * 1000;
  server.keepAliveTimeout = 5000;
  server.timeout = options.idleTimeoutSeconds * 1000;
  server.maxHeadersCount = 200;

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : options.port;

  return {
    server,
    port,
    close: (graceMs) =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(() => server.closeAllConnections(), graceMs);
        timer.unref();
        server.close(() => {
          clearTimeout(timer);
          resolve();
        });
        server.closeIdleConnections();
      }),
  };
}
