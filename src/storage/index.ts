export { drained, sendFileRange, TruncatedFileError } from "./file-sender.ts";
export { FsBlobStore, type FsBlobStoreOptions } from "./fs-blob-store.ts";
export * from "./types.ts";
