import assert from "node:assert/strict";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { migrations } from "./migrations.ts";
import { SqliteMetaStore } from "./sqlite-meta-store.ts";
import { runMetaStoreSuite } from "./suite.ts";

runMetaStoreSuite("SqliteMetaStore", async () => new SqliteMetaStore({ path: ":memory:" }));

it("SqliteMetaStore migrates once and keeps data across reopen", async () => {
  const path = join(await mkdtemp(join(tmpdir(), "flotilla-meta-")), "meta.db");
  const first = new SqliteMetaStore({ path });
  assert.equal(first.schemaVersion, migrations.at(-1)?.version);
  await first.ensureRepository("a/b");
  await first.close();
  const second = new SqliteMetaStore({ path });
  assert.equal(second.schemaVersion, migrations.at(-1)?.version);
  assert.equal(await second.repositoryExists("a/b"), true);
  await second.close();
});
