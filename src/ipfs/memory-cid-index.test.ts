import { MemoryCidIndex } from "./memory-cid-index.ts";
import { runCidIndexSuite } from "./suite.ts";

runCidIndexSuite("memory", async () => new MemoryCidIndex());
