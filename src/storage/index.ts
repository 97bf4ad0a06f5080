export { FsBlobStore, type FsBlobStoreOptions } from "./fs-blob-store.ts";
export * from "./types.ts";
