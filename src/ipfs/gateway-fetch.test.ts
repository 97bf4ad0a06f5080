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
  /** Replace every block with zeros of the same length. */
  lie: boolean;
}

/** A minimal trustless gateway over a blockstore: `/ipfs/<cid>?format=raw` only. */
async function startGateway(blockstore: ZeroCopyBlockstore): Promise<Gateway> {
  const gateway: Gateway = { server: createServer(), url: "", requests: [], lie: false };
  gateway.server.on("request", async (req, res) => {
    gateway.requests.push(req.url ?? "");
    const match = /^\/ipfs\/([^/?]+)\?format=raw$/.exec(req.url ?? "");
    try {
      const cid = CID.parse(match?.[1] ?? "");
      const parts: Uint8Array[] = [];
      for await (const part of blockstore.get(cid)) parts.push(part);
      const bytes = Buffer.concat(parts);
      res.writeHead(200, { "content-type": "application/vnd.ipld.raw" });
      res.end(gateway.lie ? Buffer.alloc(bytes.length) : bytes);
    } catch {
      res.writeHead(404).end();
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
    const gateway = await startGateway(proxy as ZeroCopyBlockstore);
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

  it("takes every block of a configured peer's file from its gateway, verified", async () => {
    const { a, gateway } = await startServing();
    const b = await startSide(`b${sides.length}`, { peers: [a.node.multiaddrs()[0] as string] });
    sides.push(b);
    const { digest, cid } = await importOn(a, 5 * MiB + 123, "gateway-file");
    assert.equal(await sha256Of(b.node.fetch(cid)), digest);
    // Root plus six leaves, all over HTTP even though private addresses are off: A is configured.
    assert.equal(gateway.requests.length, 7);
    assert.ok(gateway.requests.every((url) => url.endsWith("?format=raw")));
  });

  it("falls back to bitswap when the gateway sends bytes that do not match the CID", async () => {
    const { a, gateway } = await startServing();
    const b = await startSide(`b${sides.length}`, { peers: [a.node.multiaddrs()[0] as string] });
    sides.push(b);
    const { digest, cid } = await importOn(a, 3 * MiB + 5, "lying-gateway");
    gateway.lie = true;
    assert.equal(await sha256Of(b.node.fetch(cid)), digest);
    assert.equal(gateway.requests.length, 1, "a lying gateway is dropped after one block");
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
    assert.equal(gateway.requests.length, 4, "allowed by outbound.allowPrivateAddresses");
  });
});
