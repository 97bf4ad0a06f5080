import { runCidIndexSuite } from "./cid-index-suite.ts";
import { MemoryCidIndex } from "./memory-cid-index.ts";

runCidIndexSuite("memory", async () => new MemoryCidIndex());
