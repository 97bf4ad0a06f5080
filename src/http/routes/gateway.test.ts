import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { describe, it } from "node:test";
import { CarReader } from "@ipld/car";
import * as dagPb from "@ipld/dag-pb";
import { Hono } from "hono";
import { UnixFS } from "ipfs-unixfs";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import * as Digest from "multiformats/hashes/digest";
import { sha256 } from "multiformats/hashes/sha2";
import { blockMatches } from "../../ipfs/blockstore.ts";
import { type ImportOptions, importBlob } from "../../ipfs/importer.ts";
import { patternBytes, unevenPieces } from "../../ipfs/test-support.ts";
import type { ImportedDag } from "../../ipfs/types.ts";
import { handleError } from "../errors.ts";
import type { HttpEnv } from "../types.ts";
import { registerGatewayRoutes } from "./gateway.ts";

const MiB = 1 << 20;
const rawType = "application/vnd.ipld.raw";
const carType = "application/vnd.ipld.car";
const blocks = new Map<string, Uint8Array>();
let lookups = 0;

const app = new Hono<HttpEnv>();
registerGatewayRoutes(app, {
  async getBlock(cid) {
    lookups++;
    return blocks.get(cid.toString());
  },
});
app.onError(handleError);

/** Imports `bytes` and puts its nodes and leaves (sliced from the blob) into `blocks`. */
async function add(bytes: Uint8Array, layout?: ImportOptions["layout"]): Promise<ImportedDag> {
  const dag = await importBlob(unevenPieces(bytes), bytes.length, { layout });
  if (dag.leaves.length === 0) blocks.set(dag.cid.toString(), bytes);
  for (const node of dag.nodes) blocks.set(node.cid.toString(), node.bytes);
  for (const leaf of dag.leaves) {
    blocks.set(leaf.cid.toString(), bytes.subarray(leaf.offset, leaf.offset + leaf.length));
  }
  return dag;
}

function put(code: number, bytes: Uint8Array): CID {
  const cid = CID.createV1(
    code,
    Digest.create(sha256.code, createHash("sha256").update(bytes).digest()),
  );
  blocks.set(cid.toString(), bytes);
  return cid;
}

function fileNode(links: CID[]): Uint8Array {
  const Data = new UnixFS({ type: "file", blockSizes: links.map(() => 1n) }).marshal();
  return dagPb.encode(dagPb.prepare({ Data, Links: links.map((Hash) => ({ Hash, Tsize: 1 })) }));
}

interface ErrorBody {
  errors: Array<{ code: string; message: string }>;
}

async function errorOf(response: Response) {
  return ((await response.json()) as ErrorBody).errors[0];
}

function get(path: string, headers: Record<string, string> = {}, method = "GET") {
  return app.request(path, { method, headers });
}

/** Parses a CAR response, checks every block against its CID, and returns the blocks in order. */
async function readCar(response: Response, root: CID) {
  assert.equal(response.status, 200);
  assert.equal(response.headers.get("content-type"), `${carType}; version=1; order=dfs; dups=n`);
  const reader = await CarReader.fromBytes(new Uint8Array(await response.arrayBuffer()));
  assert.deepEqual((await reader.getRoots()).map(String), [root.toString()]);
  const all = [];
  for await (const block of reader.blocks()) {
    assert.ok(blockMatches(block.cid, block.bytes), `${block.cid} verifies`);
    all.push(block);
  }
  return all;
}

function leafBytes(all: Array<{ cid: CID; bytes: Uint8Array }>): Buffer {
  return Buffer.concat(all.filter((block) => block.cid.code === raw.code).map((b) => b.bytes));
}

const big = patternBytes(3 * MiB + 1, "gateway-big");
const small = patternBytes(MiB, "gateway-small");
const bigDag = await add(big);
const smallDag = await add(small);

describe("trustless gateway: raw blocks", () => {
  it("serves a single-block blob whose bytes hash to the CID", async () => {
    const response = await get(`/ipfs/${smallDag.cid}`, { Accept: rawType });
    assert.equal(response.status, 200);
    const body = new Uint8Array(await response.arrayBuffer());
    assert.ok(blockMatches(smallDag.cid, body));
    assert.ok(Buffer.from(body).equals(small));
    assert.equal(response.headers.get("content-type"), rawType);
    assert.equal(response.headers.get("content-length"), String(MiB));
    assert.equal(response.headers.get("etag"), `"${smallDag.cid}.raw"`);
    assert.equal(response.headers.get("cache-control"), "public, max-age=29030400, immutable");
    assert.equal(response.headers.get("x-content-type-options"), "nosniff");
    assert.equal(response.headers.get("x-ipfs-roots"), smallDag.cid.toString());
    assert.match(
      response.headers.get("content-disposition") ?? "",
      /^attachment; filename=".+\.bin"$/,
    );
    assert.equal(response.headers.get("content-location"), `/ipfs/${smallDag.cid}?format=raw`);
  });

  it("serves the root node of a multi-chunk blob as it is", async () => {
    const response = await get(`/ipfs/${bigDag.cid}?format=raw`);
    const body = new Uint8Array(await response.arrayBuffer());
    assert.equal(bigDag.cid.code, dagPb.code);
    assert.ok(blockMatches(bigDag.cid, body));
    assert.equal(response.headers.get("content-location"), null);
  });

  it("answers HEAD with the headers only, and 404 for an unknown root", async () => {
    const head = await get(`/ipfs/${smallDag.cid}?format=raw`, {}, "HEAD");
    assert.equal(head.status, 200);
    assert.equal(head.headers.get("content-length"), String(MiB));
    assert.equal((await head.arrayBuffer()).byteLength, 0);
    const unknown = CID.createV1(raw.code, await sha256.digest(Buffer.from("nobody has this")));
    for (const method of ["GET", "HEAD"]) {
      const missing = await get(`/ipfs/${unknown}?format=raw`, {}, method);
      assert.equal(missing.status, 404);
    }
    assert.equal((await errorOf(await get(`/ipfs/${unknown}?format=car`)))?.code, "BLOB_UNKNOWN");
    const cached = await get(`/ipfs/${unknown}?format=raw`, { "Cache-Control": "only-if-cached" });
    assert.equal(cached.status, 412);
  });

  it("answers 304 to If-None-Match with the ETag", async () => {
    const etag = `"${smallDag.cid}.raw"`;
    for (const tag of [etag, `W/${etag}`, `"other", ${etag}`]) {
      const response = await get(`/ipfs/${smallDag.cid}?format=raw`, { "If-None-Match": tag });
      assert.equal(response.status, 304);
      assert.equal(response.headers.get("etag"), etag);
    }
    const stale = await get(`/ipfs/${smallDag.cid}?format=raw`, { "If-None-Match": '"x"' });
    assert.equal(stale.status, 200);
    const car = await get(`/ipfs/${smallDag.cid}?format=car`, { "If-None-Match": etag });
    assert.equal(car.status, 200);
  });
});

describe("trustless gateway: CAR streams", () => {
  it("streams the whole DAG: root first, every block verified, leaves in file order", async () => {
    const response = await get(`/ipfs/${bigDag.cid}`, { Accept: carType });
    assert.equal(response.headers.get("etag"), `"${bigDag.cid}.car"`);
    assert.equal(response.headers.get("content-length"), null);
    const all = await readCar(response, bigDag.cid);
    assert.equal(all[0]?.cid.toString(), bigDag.cid.toString());
    assert.equal(all.length, bigDag.nodes.length + bigDag.leaves.length);
    assert.ok(leafBytes(all).equals(big));
  });

  it("walks a deep DAG depth-first", async () => {
    const bytes = patternBytes(20_000, "deep");
    const dag = await add(bytes, { chunkSize: 1000, maxLinksPerNode: 3 });
    assert.ok(dag.nodes.length > 5);
    const all = await readCar(await get(`/ipfs/${dag.cid}?format=car`), dag.cid);
    assert.ok(leafBytes(all).equals(bytes));
  });

  it("sends a repeated block once, or every time with dups=y", async () => {
    const zeros = new Uint8Array(3 * MiB + 1);
    const dag = await add(zeros);
    const once = await readCar(await get(`/ipfs/${dag.cid}?format=car`), dag.cid);
    assert.equal(once.length, 3);
    const response = await get(`/ipfs/${dag.cid}`, { Accept: `${carType}; version=1; dups=y` });
    assert.match(response.headers.get("content-type") ?? "", /dups=y/);
    assert.equal(response.headers.get("etag"), `"${dag.cid}.car.dups"`);
    const reader = await CarReader.fromBytes(new Uint8Array(await response.arrayBuffer()));
    const every = [];
    for await (const block of reader.blocks()) every.push(block);
    assert.equal(every.length, 5);
    assert.ok(leafBytes(every).equals(zeros));
  });

  it("supports dag-scope=block and dag-scope=entity", async () => {
    const block = await readCar(
      await get(`/ipfs/${bigDag.cid}?format=car&dag-scope=block`),
      bigDag.cid,
    );
    assert.deepEqual(
      block.map((b) => b.cid.toString()),
      [bigDag.cid.toString()],
    );
    const entity = await get(`/ipfs/${bigDag.cid}?format=car&dag-scope=entity`);
    assert.equal(entity.headers.get("etag"), `"${bigDag.cid}.car.entity"`);
    assert.ok(leafBytes(await readCar(entity, bigDag.cid)).equals(big));
    assert.equal((await get(`/ipfs/${bigDag.cid}?format=car&dag-scope=most`)).status, 400);
    assert.equal((await get(`/ipfs/${bigDag.cid}?format=car&entity-bytes=0:9`)).status, 400);
  });

  it("answers HEAD with the headers only", async () => {
    const head = await get(`/ipfs/${bigDag.cid}?format=car`, {}, "HEAD");
    assert.equal(head.status, 200);
    assert.match(head.headers.get("content-type") ?? "", /^application\/vnd\.ipld\.car; version=1/);
    assert.equal((await head.arrayBuffer()).byteLength, 0);
  });

  it("cuts the stream at a malformed or missing block instead of ending it cleanly", async () => {
    const garbage = put(dagPb.code, Buffer.from("this is not protobuf \xff\xff\xff"));
    const broken = put(dagPb.code, fileNode([put(raw.code, Buffer.from("a")), garbage]));
    const response = await get(`/ipfs/${broken}?format=car`);
    assert.equal(response.status, 200);
    await assert.rejects(response.arrayBuffer());
    const absent = CID.createV1(raw.code, await sha256.digest(Buffer.from("absent")));
    const holed = put(dagPb.code, fileNode([absent]));
    await assert.rejects((await get(`/ipfs/${holed}?format=car`)).arrayBuffer());
  });

  it("refuses a malformed root before the first byte, but still serves it raw", async () => {
    const garbage = put(dagPb.code, Buffer.from("\xff\xff not a node"));
    const response = await get(`/ipfs/${garbage}?format=car`);
    assert.equal(response.status, 422);
    assert.equal((await errorOf(response))?.code, "UNSUPPORTED");
    assert.equal((await get(`/ipfs/${garbage}?format=car&dag-scope=block`)).status, 200);
    assert.equal((await get(`/ipfs/${garbage}?format=raw`)).status, 200);
  });
});

describe("trustless gateway: negotiation and probes", () => {
  const path = `/ipfs/${smallDag.cid}`;
  const typeOf = async (query: string, accept?: string) => {
    const response = await get(`${path}${query}`, accept ? { Accept: accept } : {});
    return response.status === 200 ? response.headers.get("content-type") : response.status;
  };

  it("chooses by ?format= over Accept, and by quality within Accept", async () => {
    assert.equal(await typeOf("?format=raw", carType), rawType);
    assert.match(String(await typeOf("?format=car", rawType)), /^application\/vnd\.ipld\.car/);
    assert.match(String(await typeOf("", `${rawType};q=0.5, ${carType}`)), /vnd\.ipld\.car/);
    assert.equal(await typeOf("", `${carType};q=0.2, ${rawType};q=0.9`), rawType);
    assert.equal(await typeOf("", `text/html, ${rawType}`), rawType);
  });

  it("refuses requests that do not ask for a verifiable format", async () => {
    assert.equal(await typeOf(""), 400);
    assert.equal(await typeOf("", "text/html, */*"), 406);
    assert.equal(await typeOf("", `${carType}; version=2`), 406);
    assert.equal(await typeOf("?format=tar"), 400);
    assert.equal(await typeOf("?format=car&car-version=2"), 400);
    assert.match((await errorOf(await get(path)))?.message ?? "", /application\/vnd\.ipld\.raw/);
  });

  it("answers 400 for garbage CIDs and for paths", async () => {
    for (const bad of ["notacid", "bafy!!!", "Qm123", "z", "x".repeat(600)]) {
      const response = await get(`/ipfs/${bad}?format=raw`);
      assert.equal(response.status, 400, bad);
      assert.equal((await errorOf(response))?.code, "DIGEST_INVALID");
    }
    assert.equal((await get(`${path}/etc/passwd?format=car`)).status, 400);
    assert.equal((await get(`${path}/?format=raw`)).status, 200);
  });

  it("answers the bafkqaaa probe without a lookup", async () => {
    const before = lookups;
    const rawProbe = await get("/ipfs/bafkqaaa", { Accept: rawType });
    assert.equal(rawProbe.status, 200);
    assert.equal((await rawProbe.arrayBuffer()).byteLength, 0);
    assert.equal((await get("/ipfs/bafkqaaa?format=raw", {}, "HEAD")).status, 200);
    const probe = CID.parse("bafkqaaa");
    assert.deepEqual(await readCar(await get("/ipfs/bafkqaaa?format=car"), probe), []);
    assert.equal(lookups, before);
  });

  it("accepts CIDv0 and other multibases", async () => {
    const base36 = bigDag.cid.toString((await import("multiformats/bases/base36")).base36);
    assert.equal((await get(`/ipfs/${base36}?format=raw`)).status, 200);
    const v0 = bigDag.cid.toV0().toString();
    assert.equal((await get(`/ipfs/${v0}?format=raw`)).status, 404);
  });
});
