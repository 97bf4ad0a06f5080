/**
 * The IPFS extension as the registry sees it: it imports every committed blob and manifest (in the
 * background, one at a time, so pushes do not wait), keeps `digest ↔ CID` in the metadata
 * database, and runs the node that serves and fetches blocks.
 */
import { join } from "node:path";
import { setImmediate as yieldToIo } from "node:timers/promises";
import type { CID } from "multiformats/cid";
import type { Logger } from "../log/index.ts";
import type { SqliteDatabase } from "../meta/index.ts";
import type { RegistryEvents } from "../registry/index.ts";
import type { BlobReader } from "../storage/index.ts";
import type { FetchedLeaves } from "./blob-source.ts";
import { BlockNotSharedError, ZeroCopyBlockstore } from "./blockstore.ts";
import { FsBlobRangeReader } from "./fs-range-reader.ts";
import { ImportQueue } from "./import-queue.ts";
import { dagOfLeaves, importBlob, sha256DigestOfRawCid } from "./importer.ts";
import { createIpfsNode, type IpfsNode } from "./node.ts";
import { SqliteCidIndex } from "./sqlite-cid-index.ts";
import type { CidIndex, ImportedDag, ReadIntoOptions } from "./types.ts";

/** A fetched DAG waits this long for its blob's commit (which a failed disk write would stop). */
const fetchedDagMs = 10 * 60_000;

export interface IpfsExtensionDeps {
  blobs: BlobReader & { blobPath(digest: string): string };
  database: SqliteDatabase;
  events: RegistryEvents;
  log: Logger;
  /** Whether anyone may pull a repository; content held only by others is not shared. */
  isPublic: (repository: string) => Promise<boolean>;
}

export interface IpfsExtensionOptions {
  dataDir: string;
  peers: string[];
  listen: string[];
  publicNetwork: boolean;
  /** This instance's public base URL: peers fetch blocks from its gateway there. */
  gatewayUrl?: string;
  /** `config.outbound`: fetching blocks from peers' gateways follows these rules. */
  outbound?: { allowPrivateAddresses: boolean; timeoutMs: number };
}

export interface IpfsExtension {
  node: IpfsNode;
  index: CidIndex;
  blockstore: ZeroCopyBlockstore;
  /** The CID of a blob or manifest this instance holds, importing it first if needed. */
  cidOf(digest: string): Promise<CID | undefined>;
  /**
   * A local block for the public gateway, only when the blob it belongs to may be pulled by anyone
   * (`isPublic(repository)` for some repository holding it); otherwise undefined, as if absent.
   */
  publicBlock(cid: CID, options?: ReadIntoOptions): Promise<Uint8Array | undefined>;
  /** Whether some repository anyone may pull holds this blob or manifest. */
  isShared(digest: string): Promise<boolean>;
  /**
   * A blob's DAG as a fetch from peers took it, the bytes having matched the digest: when the blob
   * is committed, this is recorded as its import (if laid out as Flotilla imports) instead of
   * reading and hashing the blob again.
   */
  fetched(digest: string, root: CID, leaves: FetchedLeaves): void;
  /** Resolves when every import queued so far has finished (tests, benchmarks). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

export async function startIpfs(
  deps: IpfsExtensionDeps,
  options: IpfsExtensionOptions,
): Promise<IpfsExtension> {
  const log = deps.log.child({ category: "ipfs" });
  const index = new SqliteCidIndex(deps.database);
  const blockstore = await ZeroCopyBlockstore.create(
    { index, blobs: new FsBlobRangeReader({ blobPath: (d) => deps.blobs.blobPath(d) }) },
    { fallbackDir: join(options.dataDir, "ipfs", "blocks"), shareable: (cid) => shareable(cid) },
  );
  /** Whether a block of ours belongs to a blob or manifest that anyone may pull. */
  async function shareable(cid: CID): Promise<boolean> {
    // A leaf names its blob in the index; a raw CID of its own is a single-block blob.
    const digest =
      (await index.leaf(cid))?.digest ??
      (await index.digestOf(cid)) ??
      owningDigestOfNode(deps.database, cid) ??
      sha256DigestOfRawCid(cid);
    return digest !== undefined && (await isShared(digest));
  }
  const isShared = async (digest: string) => {
    const holders = deps.database
      .sql(
        `SELECT repository FROM repository_blobs WHERE digest = ?
         UNION SELECT repository FROM manifests WHERE digest = ? LIMIT 100`,
      )
      .all(digest, digest)
      .map((row) => String(row.repository));
    for (const repository of holders) if (await deps.isPublic(repository)) return true;
    return false;
  };
  const importNow = async (digest: string): Promise<CID | undefined> => {
    const known = await index.rootOf(digest);
    if (known) return known;
    const stat = await deps.blobs.stat(digest);
    if (!stat || !digest.startsWith("sha256:")) return undefined;
    const started = performance.now();
    const dag = await importBlob(politely(await deps.blobs.open(digest)), stat.size);
    // The bytes may have been purged while they were read: then the import is not recorded.
    if (!(await deps.blobs.stat(digest))) return undefined;
    await index.putImport(digest, dag);
    log.debug(
      { digest, cid: dag.cid.toString(), ms: Math.round(performance.now() - started) },
      "imported",
    );
    return dag.cid;
  };
  const queue = new ImportQueue(importNow, (err, digest) =>
    log.error({ err, digest }, "import failed"),
  );
  const node = await createIpfsNode({
    blockstore,
    datastoreDir: join(options.dataDir, "ipfs", "datastore"),
    listen: options.listen,
    peers: options.peers,
    publicNetwork: options.publicNetwork,
    gatewayUrl: options.gatewayUrl,
    outbound: options.outbound,
    logger: deps.log,
    // A blob still waiting for its background import is imported at once when a peer asks.
    resolveDigest: async (digest) => ((await isShared(digest)) ? queue.now(digest) : undefined),
  });

  const enqueue = (digest: string) => queue.add(digest);

  /**
   * DAGs of blobs fetched from peers, their leaves checked against their CIDs on the way and the
   * whole against the blob's digest, waiting for the blob's commit.
   */
  const fetchedDags = new Map<string, { dag: ImportedDag; at: number }>();
  const fetched = (digest: string, root: CID, leaves: FetchedLeaves) => {
    const now = Date.now();
    for (const [key, entry] of fetchedDags)
      if (entry.at < now - fetchedDagMs) fetchedDags.delete(key);
    // As importNow: blobs with other digests are not imported.
    if (!digest.startsWith("sha256:")) return;
    const size = leaves.reduce((sum, leaf) => sum + leaf.length, 0);
    // Rebuilt from the leaves the way an import lays them out: only the same root says the DAG is
    // the one an import would record (another chunking gets imported as usual).
    const dag = dagOfLeaves(leaves, size);
    if (dag?.cid.equals(root)) fetchedDags.set(digest, { dag, at: now });
  };
  /** Records a fetched blob's DAG as its import; false when it has to be imported after all. */
  const recordFetched = async (digest: string): Promise<boolean> => {
    const entry = fetchedDags.get(digest);
    fetchedDags.delete(digest);
    if (!entry) return false;
    if (await index.rootOf(digest)) return true;
    if ((await deps.blobs.stat(digest))?.size !== entry.dag.size) return false;
    await index.putImport(digest, entry.dag);
    log.debug({ digest, cid: entry.dag.cid.toString() }, "recorded the DAG fetched from peers");
    return true;
  };

  deps.events.on("blob.committed", ({ digest }) =>
    recordFetched(digest).then(
      (recorded) => {
        if (!recorded) enqueue(digest);
      },
      (err) => {
        log.warn({ err, digest }, "could not record a fetched DAG; importing instead");
        enqueue(digest);
      },
    ),
  );
  deps.events.on("manifest.pushed", ({ digest }) => enqueue(digest));
  // GC removed the bytes: the leaves would point into nothing, so the import goes too.
  deps.events.on("blob.purged", async ({ digest }) => {
    queue.forget(digest);
    await index.deleteImport(digest);
    log.debug({ digest }, "import dropped with its blob");
  });

  // Content committed while the extension was off, or just before a crash, is imported now.
  const missing = deps.database
    .sql(
      `SELECT digest FROM blobs WHERE digest NOT IN (SELECT digest FROM ipfs_roots)
       UNION SELECT DISTINCT digest FROM manifests WHERE digest NOT IN (SELECT digest FROM ipfs_roots)`,
    )
    .all()
    .map((row) => String(row.digest));
  if (missing.length) log.info({ count: missing.length }, "importing content not yet in IPFS");
  for (const digest of missing) enqueue(digest);

  return {
    node,
    index,
    blockstore,
    cidOf: (digest) => queue.now(digest),
    async publicBlock(cid, options = {}) {
      // The blockstore's get refuses a block that is not shared (as not found).
      if (!(await blockstore.isLocal(cid, options))) return undefined;
      const parts: Uint8Array[] = [];
      try {
        for await (const part of blockstore.get(cid, options)) parts.push(part);
      } catch (error) {
        if (error instanceof BlockNotSharedError) return undefined;
        throw error;
      }
      return parts.length === 1 ? parts[0] : Buffer.concat(parts);
    },
    isShared,
    fetched,
    idle: () => queue.idle(),
    async stop() {
      await queue.stop();
      await node.stop();
    },
  };
}

/** The blob a dag-pb node was imported from (nodes are keyed like the index keys them). */
function owningDigestOfNode(database: SqliteDatabase, cid: CID): string | undefined {
  const key = `${cid.code}:${Buffer.from(cid.multihash.bytes).toString("base64")}`;
  const row = database.sql("SELECT digest FROM ipfs_nodes WHERE key = ? LIMIT 1").get(key);
  return row ? String(row.digest) : undefined;
}

/**
 * A blob's bytes in pieces of at most 1 MiB, letting pending I/O (requests of a push going on)
 * run between pieces: hashing a 4 MiB read at once holds the event loop for about 10 ms.
 */
async function* politely(source: AsyncIterable<Uint8Array>): AsyncGenerator<Uint8Array> {
  const piece = 1 << 20;
  for await (const chunk of source) {
    for (let at = 0; at < chunk.length; at += piece) {
      yield chunk.subarray(at, at + piece);
      await yieldToIo();
    }
  }
}
