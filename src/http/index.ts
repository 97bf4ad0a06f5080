export { type AppOptions, createApp } from "./app.ts";
export { type AuthDeps, TokenSigner } from "./auth/index.ts";
export { listen, type RunningServer, type ServerOptions } from "./server.ts";
export { clientAddressResolver } from "./trust-proxy.ts";
export type { HttpApp } from "./types.ts";
