/**
 * Measures import throughput and a bitswap transfer between two processes on loopback, with
 * peak RSS of both sides. Run: `node src/ipfs/bench-transfer.ts [MiB] [window]`.
 */
import { type ChildProcess, fork } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { join } from "node:path";
import { CID } from "multiformats/cid";
import { silentLogger } from "../log/index.ts";
import { ZeroCopyBlockstore } from "./blockstore.ts";
import { FsBlobRangeReader } from "./fs-range-reader.ts";
import { importBlob } from "./importer.ts";
import { MemoryCidIndex } from "./memory-cid-index.ts";
import { createIpfsNode } from "./node.ts";
import { tempBlobs } from "./test-support.ts";

const MiB = 1 << 20;

async function startNode(dir: string, peers: string[], blobPath: (d: string) => string) {
  const index = new MemoryCidIndex();
  const blockstore = await ZeroCopyBlockstore.create(
    { index, blobs: new FsBlobRangeReader({ blobPath }) },
    { fallbackDir: join(dir, "blocks") },
  );
  const window = Number(process.argv[3] ?? 16);
  const node = await createIpfsNode({
    blockstore,
    datastoreDir: join(dir, "datastore"),
    listen: ["/ip4/127.0.0.1/tcp/0"],
    peers,
    logger: silentLogger(),
    fetchWindow: window,
  });
  return { node, index };
}

/** The serving side: writes and imports a blob, then serves it until told to stop. */
async function serve(size: number): Promise<void> {
  const blobs = await tempBlobs();
  const digest = await blobs.write(size, "bench");
  const { node, index } = await startNode(join(blobs.dir, "a"), [], blobs.blobPath);
  const started = performance.now();
  const dag = await importBlob(
    createReadStream(blobs.blobPath(digest), { highWaterMark: MiB }),
    size,
  );
  const importSeconds = (performance.now() - started) / 1000;
  await index.putImport(digest, dag);
  process.send?.({
    address: node.multiaddrs()[0],
    cid: dag.cid.toString(),
    digest,
    importMiBps: size / MiB / importSeconds,
  });
  process.once("disconnect", () => process.exit(1));
  process.once("message", async () => {
    await node.stop();
    await blobs.remove();
    process.send?.({ maxRssMiB: process.resourceUsage().maxRSS / 1024 });
    process.exit(0);
  });
}

function nextMessage<T>(child: ChildProcess): Promise<T> {
  return new Promise((resolve) => child.once("message", (message) => resolve(message as T)));
}

async function main(): Promise<void> {
  const size = Number(process.argv[2] ?? 256) * MiB;
  if (process.env.FLOTILLA_BENCH_ROLE === "serve") return serve(size);
  const child = fork(process.argv[1] as string, process.argv.slice(2), {
    env: { ...process.env, FLOTILLA_BENCH_ROLE: "serve" },
  });
  const served = await nextMessage<{
    address: string;
    cid: string;
    digest: string;
    importMiBps: number;
  }>(child);
  const blobs = await tempBlobs();
  const { node } = await startNode(join(blobs.dir, "b"), [served.address], blobs.blobPath);
  const started = performance.now();
  const hash = createHash("sha256");
  let received = 0;
  for await (const part of node.fetch(CID.parse(served.cid))) {
    hash.update(part);
    received += part.length;
    if (received % (32 * MiB) === 0) {
      const elapsed = (performance.now() - started) / 1000;
      console.error(`${received / MiB} MiB in ${elapsed.toFixed(1)} s`);
    }
  }
  const seconds = (performance.now() - started) / 1000;
  const ok = `sha256:${hash.digest("hex")}` === served.digest && received === size;
  child.send("stop");
  const serverRss = await nextMessage<{ maxRssMiB: number }>(child);
  await node.stop();
  await blobs.remove();
  console.log(
    JSON.stringify({
      sizeMiB: size / MiB,
      window: Number(process.argv[3] ?? 16),
      importMiBps: Math.round(served.importMiBps),
      transferMiBps: Math.round((size / MiB / seconds) * 10) / 10,
      verified: ok,
      servingPeakRssMiB: Math.round(serverRss.maxRssMiB),
      fetchingPeakRssMiB: Math.round(process.resourceUsage().maxRSS / 1024),
    }),
  );
}

await main();
