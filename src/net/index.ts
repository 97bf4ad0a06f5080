/** Outbound HTTP: the guarded fetcher every fetch of Flotilla's own goes through. */
export { forbiddenAddressReason } from "./address-policy.ts";
export { createGuardedFetcher, type GuardedFetchDeps, GuardedFetchError } from "./guarded-fetch.ts";
export * from "./types.ts";
