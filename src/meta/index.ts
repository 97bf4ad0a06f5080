export * from "./account-types.ts";
export * from "./lifecycle-types.ts";
export { SqliteAccountStore } from "./sqlite-account-store.ts";
export { SqliteDatabase } from "./sqlite-database.ts";
export { SqliteLifecycleStore } from "./sqlite-lifecycle-store.ts";
export { SqliteMetaStore, type SqliteMetaStoreOptions } from "./sqlite-meta-store.ts";
export * from "./types.ts";
