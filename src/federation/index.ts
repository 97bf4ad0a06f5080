/** Federation over ActivityPub (Fedify 2): actors, follows, posts on push, stars, boosts, reports. */
export type { FederationDeps, FederationOptions } from "./core.ts";
export { type FederationExtension, openFederation, startFederation } from "./extension.ts";
export { isFederationPath } from "./guard.ts";
export * from "./types.ts";
