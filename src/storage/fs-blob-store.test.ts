import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { FsBlobStore } from "./fs-blob-store.ts";
import { runBlobStoreSuite } from "./suite.ts";

runBlobStoreSuite("FsBlobStore", async () =>
  FsBlobStore.create({ root: await mkdtemp(join(tmpdir(), "flotilla-blobs-")) }),
);
