/**
 * Fetching a file's blocks from a peer's trustless gateway over HTTP: the peer tells its gateway
 * URL over libp2p, blocks come over HTTP and are checked against their CIDs; a gateway that lies
 * or is not allowed by the outbound rules leaves bitswap to do the work.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { createServer, type Server } from "node:http";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { CID } from "multiformats/cid";
import { silentLogger } from "../log/index.ts";
import { ZeroCopyBlockstore } from "./blockstore.ts";
import { carHeader, carSection, walkDag } from "./car.ts";
import { FsBlobRangeReader } from "./fs-range-reader.ts";
import { parseGatewayUrl } from "./gateway-urls.ts";
import { importBlob } from "./importer.ts";
import { MemoryCidIndex } from "./memory-cid-index.ts";
import { createIpfsNode, type IpfsNode } from "./node.ts";
import { type TempBlobs, tempBlobs } from "./test-support.ts";

const MiB = 1 << 20;

interface Gateway {
  server: Server;
  url: string;
  requests: string[];
  /** Zero the bytes of raw answers; zero the nth block (0: the root) of CAR answers. */
  lieRaw: boolean;
  lieCarAt: number | undefined;
}

/** A minimal trustless gateway over a blockstore: `?format=raw`, and CAR (DFS, with dups). */
async function startGateway(blockstore: Pick<ZeroCopyBlockstore, "get">): Promise<Gateway> {
  const gateway: Gateway = {
    server: createServer(),
    url: "",
    requests: [],
    lieRaw: false,
    lieCarAt: undefined,
  };
  const getBlock = async (cid: CID) => {
    const parts: Uint8Array[] = [];
    for await (const part of blockstore.get(cid)) parts.push(part);
    return Buffer.concat(parts);
  };
  gateway.server.on("request", async (req, res) => {
    gateway.requests.push(req.url ?? "");
    const match = /^\/ipfs\/([^/?]+)\?format=(raw|car)/.exec(req.url ?? "");
    try {
      const cid = CID.parse(match?.[1] ?? "");
      const bytes = await getBlock(cid);
      if (match?.[2] === "raw") {
        res.writeHead(200, { "content-type": "application/vnd.ipld.raw" });
        res.end(gateway.lieRaw ? Buffer.alloc(bytes.length) : bytes);
        return;
      }
      res.writeHead(200, { "content-type": "application/vnd.ipld.car; version=1; dups=y" });
      res.write(carHeader(cid));
      let n = 0;
      for await (const block of walkDag({ cid, bytes }, getBlock, { dups: true })) {
        const sent =
          n++ === gateway.lieCarAt ? { ...block, bytes: Buffer.alloc(block.bytes.length) } : block;
        for (const part of carSection(sent)) res.write(part);
      }
      res.end();
    } catch {
      if (!res.headersSent) res.writeHead(404);
      res.end();
    }
  });
  await new Promise<void>((resolve) => gateway.server.listen(0, "127.0.0.1", resolve));
  const address = gateway.server.address();
  gateway.url = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  return gateway;
}

interface Side {
  node: IpfsNode;
  index: MemoryCidIndex;
  blobs: TempBlobs;
  blockstore: ZeroCopyBlockstore;
}

async function startSide(
  name: string,
  options: { peers?: string[]; gatewayUrl?: string; allowPrivate?: boolean },
): Promise<Side> {
  const blobs = await tempBlobs();
  const index = new MemoryCidIndex();
  const blockstore = await ZeroCopyBlockstore.create(
    { index, blobs: new FsBlobRangeReader({ blobPath: blobs.blobPath }) },
    { fallbackDir: join(blobs.dir, "ipfs", "blocks") },
  );
  const node = await createIpfsNode({
    blockstore,
    datastoreDir: join(blobs.dir, "ipfs", `datastore-${name}`),
    listen: ["/ip4/127.0.0.1/tcp/0"],
    peers: options.peers ?? [],
    logger: silentLogger(),
    blockTimeoutMs: 5000,
    gatewayUrl: options.gatewayUrl,
    outbound: { allowPrivateAddresses: options.allowPrivate ?? false, timeoutMs: 5000 },
  });
  return { node, index, blobs, blockstore };
}

async function sha256Of(source: AsyncIterable<Uint8Array>): Promise<string> {
  const hash = createHash("sha256");
  for await (const part of source) hash.update(part);
  return `sha256:${hash.digest("hex")}`;
}

describe("gateway URLs peers tell", () => {
  it("parses only http(s) base URLs without credentials", () => {
    assert.equal(parseGatewayUrl("http://127.0.0.1:5000")?.href, "http://127.0.0.1:5000/");
    assert.equal(parseGatewayUrl("https://x.example/base")?.href, "https://x.example/base/");
    assert.equal(parseGatewayUrl("file:///etc/passwd"), undefined);
    assert.equal(parseGatewayUrl("http://user:pw@x.example/"), undefined);
    assert.equal(parseGatewayUrl("not a url"), undefined);
  });
});

describe("a peer's gateway, fetched over HTTP", { timeout: 60_000 }, () => {
  const sides: Side[] = [];
  const gateways: Gateway[] = [];

  after(async () => {
    for (const gateway of gateways) gateway.server.close();
    for (const side of sides) {
      await side.node.stop();
      await side.blobs.remove();
    }
  });

  /** A with its gateway; the gateway server is started first so A can advertise its URL. */
  async function startServing(): Promise<{ a: Side; gateway: Gateway }> {
    let blockstoreOfA: ZeroCopyBlockstore | undefined;
    const proxy: Pick<ZeroCopyBlockstore, "get"> = {
      get: (cid, options) => {
        if (!blockstoreOfA) throw new Error("not ready");
        return blockstoreOfA.get(cid, options);
      },
    };
    const gateway = await startGateway(proxy);
    const a = await startSide(`a${sides.length}`, { gatewayUrl: gateway.url });
    blockstoreOfA = a.blockstore;
    sides.push(a);
    gateways.push(gateway);
    return { a, gateway };
  }

  async function importOn(side: Side, size: number, seed: string) {
    const digest = await side.blobs.write(size, seed);
    const dag = await importBlob(createReadStream(side.blobs.blobPath(digest)), size);
    await side.index.putImport(digest, dag);
    return { digest, cid: dag.cid };
  }

  it("takes a configured peer's file as one CAR stream from its gateway, every block verified", async () => {
    const { a, gateway } = await startServing();
    const b = await startSide(`b${sides.length}`, { peers: [a.node.multiaddrs()[0] as string] });
    sides.push(b);
    const { digest, cid } = await importOn(a, 5 * MiB + 123, "gateway-file");
    assert.equal(await sha256Of(b.node.fetch(cid)), digest);
    // One request for the root and its six leaves, although private addresses are off: A is
    // a configured peer.
    assert.deepEqual(gateway.requests, [`/ipfs/${cid}?format=car&car-dups=y`]);
  });

  it("takes the blocks after a wrong one in the CAR stream one by one", async () => {
    const { a, gateway } = await startServing();
    const b = await startSide(`b${sides.length}`, { peers: [a.node.multiaddrs()[0] as string] });
    sides.push(b);
    const { digest, cid } = await importOn(a, 5 * MiB + 7, "lying-car");
    gateway.lieCarAt = 3;
    assert.equal(await sha256Of(b.node.fetch(cid)), digest);
    const raw = gateway.requests.filter((url) => url.endsWith("?format=raw"));
    // Root and two leaves came in the stream; leaves 3 to 6 (1-based) came one by one.
    assert.equal(gateway.requests.length - raw.length, 1);
    assert.equal(raw.length, 4);
  });

  it("falls back to bitswap when the gateway's blocks do not match their CIDs", async () => {
    const { a, gateway } = await startServing();
    const b = await startSide(`b${sides.length}`, { peers: [a.node.multiaddrs()[0] as string] });
    sides.push(b);
    const { digest, cid } = await importOn(a, 3 * MiB + 5, "lying-gateway");
    gateway.lieCarAt = 0;
    gateway.lieRaw = true;
    assert.equal(await sha256Of(b.node.fetch(cid)), digest);
    assert.equal(gateway.requests.length, 2, "one CAR, one raw block, then the gateway is dropped");
  });

  it("does not fetch from an unconfigured peer's private address unless outbound allows it", async () => {
    const { a, gateway } = await startServing();
    const { digest, cid } = await importOn(a, 2 * MiB + 1, "unconfigured");
    const strict = await startSide(`b${sides.length}`, {});
    sides.push(strict);
    await strict.node.connect(a.node.multiaddrs()[0] as string);
    assert.equal(await sha256Of(strict.node.fetch(cid)), digest, "bitswap still works");
    assert.equal(gateway.requests.length, 0, "loopback refused for a peer nobody configured");

    const open = await startSide(`b${sides.length}`, { allowPrivate: true });
    sides.push(open);
    await open.node.connect(a.node.multiaddrs()[0] as string);
    assert.equal(await sha256Of(open.node.fetch(cid)), digest);
    assert.equal(gateway.requests.length, 1, "allowed by outbound.allowPrivateAddresses");
  });
});
