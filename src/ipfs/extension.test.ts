/** The extension's bookkeeping around the registry's events: imports and their removal. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable } from "node:stream";
import { after, before, describe, it } from "node:test";
import { setTimeout as sleep } from "node:timers/promises";
import { silentLogger } from "../log/index.ts";
import { SqliteDatabase, SqliteMetaStore } from "../meta/index.ts";
import { createRegistry, type Registry } from "../registry/index.ts";
import { FsBlobStore } from "../storage/index.ts";
import { type IpfsExtension, startIpfs } from "./extension.ts";
import { patternBytes } from "./test-support.ts";

describe("IPFS extension and registry events", { timeout: 60_000 }, () => {
  let dir: string;
  let database: SqliteDatabase;
  let blobs: FsBlobStore;
  let registry: Registry;
  let ipfs: IpfsExtension;

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), "flotilla-ipfs-ext-"));
    database = new SqliteDatabase(join(dir, "meta.db"));
    const meta = new SqliteMetaStore({ database });
    blobs = await FsBlobStore.create({ root: dir });
    const log = silentLogger();
    registry = createRegistry(
      { blobs, meta, log },
      { maxManifestBytes: 1 << 20, manifestCacheBytes: 1 << 20 },
    );
    ipfs = await startIpfs(
      { blobs, database, events: registry.events, log, isPublic: async () => true },
      { dataDir: dir, peers: [], listen: ["/ip4/127.0.0.1/tcp/0"], publicNetwork: false },
    );
  });

  after(async () => {
    await ipfs.stop();
    database.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function push(bytes: Buffer): Promise<string> {
    const digest = `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
    await registry.uploads.monolithic("a/app", digest, Readable.from([bytes]));
    return digest;
  }

  it("imports a committed blob, and drops the import when GC purges the blob", async () => {
    const digest = await push(patternBytes(3 * (1 << 20) + 7, "purge-me"));
    await ipfs.idle();
    const root = await ipfs.index.rootOf(digest);
    assert.ok(root, "imported");
    assert.ok(await ipfs.publicBlock(root), "the root node is served");

    await blobs.deleteBlob(digest);
    registry.events.emit("blob.purged", { digest });
    for (let i = 0; (await ipfs.index.rootOf(digest)) && i < 200; i++) await sleep(10);
    assert.equal(await ipfs.index.rootOf(digest), undefined, "the CID index forgot the blob");
    assert.equal(await ipfs.index.node(root), undefined, "its dag-pb nodes went too");
    assert.equal(await ipfs.publicBlock(root), undefined);
  });

  it("does not import a blob purged while it waited in the queue", async () => {
    const digest = await push(patternBytes(2 * (1 << 20), "purged-early"));
    await blobs.deleteBlob(digest);
    registry.events.emit("blob.purged", { digest });
    await ipfs.idle();
    assert.equal(await ipfs.index.rootOf(digest), undefined);
  });
});
