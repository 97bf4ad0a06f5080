export * from "./account-types.ts";
export { SqliteAccountStore } from "./sqlite-account-store.ts";
export { SqliteDatabase } from "./sqlite-database.ts";
export { SqliteMetaStore, type SqliteMetaStoreOptions } from "./sqlite-meta-store.ts";
export * from "./types.ts";
