import assert from "node:assert/strict";
import { mkdir, mkdtemp, readdir, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { it } from "node:test";
import { FsBlobStore } from "./fs-blob-store.ts";

it("a start removes putBlob temporaries of dead processes, never a live one's", async () => {
  const root = await mkdtemp(join(tmpdir(), "flotilla-fs-tmp-"));
  try {
    await mkdir(join(root, "uploads"), { recursive: true });
    // Above Linux's pid_max: no process has it. The test process itself is alive.
    const dead = "put-4194305-abc";
    const live = `put-${process.pid}-def`;
    const upload = "0b7e7a63-3c1f-4c36-9d61-3c3d1f7a2b11";
    for (const name of [dead, live, upload]) await writeFile(join(root, "uploads", name), "x");
    await FsBlobStore.create({ root });
    assert.deepEqual((await readdir(join(root, "uploads"))).sort(), [upload, live].sort());
  } finally {
    await rm(root, { recursive: true, force: true });
  }
});
