export { SqliteMetaStore, type SqliteMetaStoreOptions } from "./sqlite-meta-store.ts";
export * from "./types.ts";
