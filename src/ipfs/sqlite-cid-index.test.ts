import { SqliteDatabase } from "../meta/index.ts";
import { SqliteCidIndex } from "./sqlite-cid-index.ts";
import { runCidIndexSuite } from "./suite.ts";

runCidIndexSuite("sqlite", async () => new SqliteCidIndex(new SqliteDatabase(":memory:")));
