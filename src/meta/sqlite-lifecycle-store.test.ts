import { runLifecycleStoreSuite } from "./lifecycle-suite.ts";
import { SqliteLifecycleStore } from "./sqlite-lifecycle-store.ts";
import { SqliteMetaStore } from "./sqlite-meta-store.ts";

runLifecycleStoreSuite("SqliteLifecycleStore", async () => {
  const meta = new SqliteMetaStore({ path: ":memory:" });
  return { meta, store: new SqliteLifecycleStore(meta.database) };
});
