/**
 * CidContent, pull by CID: two in-process instances (A holds the content, B pulls it through
 * bitswap), each with real blob and metadata stores, a registry and the IPFS extension. Lies and
 * failures are played by wrapping B's node (a digest→CID hint that names another blob) or by
 * descriptors whose `ipfs://` URLs point at the wrong content.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Readable, Writable } from "node:stream";
import { after, before, describe, it } from "node:test";
import type { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import {
  type Blob,
  type BuiltImage,
  buildImage,
  buildIndex,
  MEDIA_TYPES,
} from "../../test/helpers/oci-layout.ts";
import { silentLogger } from "../log/index.ts";
import { SqliteDatabase, SqliteMetaStore } from "../meta/index.ts";
import {
  createRegistry,
  OciError,
  type Registry,
  SourceBytesMismatchError,
} from "../registry/index.ts";
import { FsBlobStore } from "../storage/index.ts";
import { walkDag } from "./car.ts";
import { CidContent } from "./content.ts";
import { type IpfsExtension, startIpfs } from "./extension.ts";
import { cidFromSha256Digest } from "./importer.ts";
import type { IpfsNode } from "./node.ts";

const MiB = 1 << 20;

interface Side {
  dir: string;
  database: SqliteDatabase;
  meta: SqliteMetaStore;
  blobs: FsBlobStore;
  registry: Registry;
  ipfs: IpfsExtension;
  /** A CidContent over this side's stores, with the extension given (default: the real one). */
  content(ipfs?: IpfsExtension): CidContent;
  stop(): Promise<void>;
}

async function startSide(peers: string[]): Promise<Side> {
  const dir = await mkdtemp(join(tmpdir(), "flotilla-cid-content-"));
  const log = silentLogger();
  const database = new SqliteDatabase(join(dir, "meta.db"));
  const meta = new SqliteMetaStore({ database });
  const blobs = await FsBlobStore.create({ root: dir });
  const registry = createRegistry(
    { blobs, meta, log },
    { maxManifestBytes: 4 * MiB, manifestCacheBytes: MiB },
  );
  // Everything is public here (the extension may or may not take this yet).
  const deps = { blobs, database, events: registry.events, log, isPublic: async () => true };
  const ipfs = await startIpfs(deps, {
    dataDir: dir,
    peers,
    listen: ["/ip4/127.0.0.1/tcp/0"],
    publicNetwork: false,
  });
  return {
    dir,
    database,
    meta,
    blobs,
    registry,
    ipfs,
    content: (extension = ipfs) => {
      const contentDeps = {
        ipfs: extension,
        blobs,
        registryBlobs: registry.blobs,
        meta,
        log,
      };
      return new CidContent(contentDeps);
    },
    async stop() {
      await ipfs.stop();
      await blobs.close();
      await meta.close();
      database.close();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/** The extension with some of its node's methods replaced. */
function withNode(ipfs: IpfsExtension, overrides: Partial<IpfsNode>): IpfsExtension {
  return { ...ipfs, node: { ...ipfs.node, ...overrides } };
}

function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

async function pushBlob(side: Side, repository: string, data: Uint8Array): Promise<string> {
  const digest = sha256(data);
  await side.registry.uploads.monolithic(repository, digest, Readable.from([Buffer.from(data)]));
  return digest;
}

async function pushImage(side: Side, repository: string, tag: string, image: BuiltImage) {
  for (const blob of image.blobs) await pushBlob(side, repository, blob.data);
  await side.registry.manifests.put(repository, tag, image.manifest.data, MEDIA_TYPES.manifest);
}

/** The CID A gives a digest it holds (importing first if need be). */
async function cidOn(side: Side, digest: string): Promise<CID> {
  const cid = await side.ipfs.cidOf(digest);
  assert.ok(cid, `${digest} has a CID`);
  return cid;
}

/** A JSON blob (nerdctl's descriptors, hand-made manifests) as bytes with its digest. */
function jsonBlob(mediaType: string, json: unknown): Blob {
  const data = Buffer.from(JSON.stringify(json));
  return { mediaType, digest: sha256(data), size: data.length, data };
}

async function readAll(side: Side, digest: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const part of await side.blobs.open(digest)) parts.push(part as Buffer);
  return Buffer.concat(parts);
}

/**
 * Pulls a blob of the image as the route does: opens it, writes it out, and waits until it is
 * stored and linked (a fetched blob is committed just after its last byte went out).
 */
async function download(
  side: Side,
  content: CidContent,
  root: CID,
  digest: string,
): Promise<{ size: number | undefined; bytes: Buffer }> {
  const repository = `ipfs/${root}`;
  const body = await content.blob(root, repository, digest);
  const parts: Buffer[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      parts.push(chunk);
      callback();
    },
  });
  await body.write(sink);
  const until = Date.now() + 10_000;
  while (
    !(await side.blobs.stat(digest)) ||
    !(await side.meta.linkedBlobSize(repository, digest))
  ) {
    if (Date.now() > until) assert.fail(`${digest} was not stored`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { size: body.size, bytes: Buffer.concat(parts) };
}

/** Rejects with an OciError of this code. */
async function rejectsWith(work: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(work, (error: unknown) => {
    assert.ok(error instanceof OciError, `an OciError, got ${String(error)}`);
    assert.equal(error.code, code, error.message);
    return true;
  });
}

/** Asserts B neither stored nor linked a blob, and left no upload behind. */
async function assertAbsent(side: Side, digest: string, what: string): Promise<void> {
  assert.equal(await side.blobs.stat(digest), undefined, `${what} is not in the blob store`);
  assert.equal(await side.meta.blobSize(digest), undefined, `${what} is not in the metadata`);
  assert.deepEqual(await side.meta.repositoriesWithBlob(digest, 10), [], `${what} is not linked`);
  assert.deepEqual(await side.meta.uploadsUpdatedBefore(Date.now() + 60_000), []);
  assert.deepEqual(await readdir(join(side.dir, "uploads")), [], "no upload file left");
}

describe("CidContent: pull by CID from a peer", { timeout: 120_000 }, () => {
  let a: Side;
  let b: Side;

  before(async () => {
    a = await startSide([]);
    const address = a.ipfs.node.multiaddrs().find((m) => m.startsWith("/ip4/127.0.0.1/"));
    assert.ok(address);
    b = await startSide([address]);
    assert.deepEqual(b.ipfs.node.peers(), [a.ipfs.node.peerId]);
  });

  after(async () => {
    await b?.stop();
    await a?.stop();
  });

  it("rejects a root that is not a CID", () => {
    assert.throws(
      () => b.content().parseRoot("not-a-cid"),
      (e: unknown) => e instanceof OciError && e.code === "NAME_INVALID",
    );
  });

  it("resolves a manifest by its raw CID, `latest` or its digest, and fetches its blobs", async () => {
    const image = buildImage({ seed: "raw-root", layers: [3 * MiB + 4321, 5000] });
    await pushImage(a, "alice/app", "v1", image);
    const root = await cidOn(a, image.manifest.digest);
    assert.equal(root.code, raw.code, "a manifest is one raw block");
    assert.ok(root.equals(cidFromSha256Digest(image.manifest.digest)));

    const content = b.content();
    const latest = await content.manifest(root, "latest");
    assert.equal(latest.digest, image.manifest.digest);
    assert.equal(latest.mediaType, MEDIA_TYPES.manifest);
    assert.ok(Buffer.from(latest.bytes).equals(image.manifest.data));
    const byDigest = await content.manifest(root, image.manifest.digest);
    assert.equal(byDigest.digest, image.manifest.digest);
    assert.ok(Buffer.from(byDigest.bytes).equals(image.manifest.data));
    assert.ok(await b.blobs.stat(image.manifest.digest), "B keeps the manifest");

    await rejectsWith(content.manifest(root, "v1"), "MANIFEST_UNKNOWN");
    await rejectsWith(content.manifest(root, "other-tag"), "MANIFEST_UNKNOWN");
    await rejectsWith(content.manifest(root, `sha256:${"ab".repeat(32)}`), "MANIFEST_UNKNOWN");

    const repository = `ipfs/${root}`;
    for (const blob of image.blobs) {
      const pulled = await download(b, content, root, blob.digest);
      assert.equal(pulled.size, blob.size);
      assert.ok(pulled.bytes.equals(blob.data), "the client got the blob");
      assert.deepEqual(await b.registry.blobs.stat(repository, blob.digest), {
        digest: blob.digest,
        size: blob.size,
      });
      assert.ok((await readAll(b, blob.digest)).equals(blob.data), `${blob.digest} bytes`);
    }
    // Asked again: served from what B now holds.
    const again = await download(b, content, root, image.layers[0]?.digest ?? "");
    assert.equal(again.size, image.layers[0]?.size);
  });

  it("resolves an index, then a child manifest by digest and that child's blobs", async () => {
    const built = buildIndex([
      {
        seed: "index-amd64",
        layers: [2 * MiB + 17],
        platform: { os: "linux", architecture: "amd64" },
      },
      { seed: "index-arm64", layers: [4000], platform: { os: "linux", architecture: "arm64" } },
    ]);
    for (const image of built.images) {
      await pushImage(a, "alice/multi", image.manifest.digest.replace(":", "-"), image);
    }
    await a.registry.manifests.put("alice/multi", "v1", built.index.data, MEDIA_TYPES.index);
    const root = await cidOn(a, built.index.digest);

    const content = b.content();
    const index = await content.manifest(root, "latest");
    assert.equal(index.digest, built.index.digest);
    assert.equal(index.mediaType, MEDIA_TYPES.index);
    for (const image of built.images) {
      const child = await content.manifest(root, image.manifest.digest);
      assert.equal(child.digest, image.manifest.digest);
      assert.equal(child.mediaType, MEDIA_TYPES.manifest);
      assert.ok(Buffer.from(child.bytes).equals(image.manifest.data));
      for (const blob of image.blobs) {
        assert.equal((await download(b, content, root, blob.digest)).size, blob.size);
        assert.ok((await readAll(b, blob.digest)).equals(blob.data));
      }
    }
    await rejectsWith(content.manifest(root, `sha256:${"cd".repeat(32)}`), "MANIFEST_UNKNOWN");
  });

  it("resolves nerdctl's format: a descriptor whose `ipfs://` URLs name the manifest and blobs", async () => {
    // As `nerdctl push ipfs://` publishes: every blob added to IPFS, the manifest's descriptors
    // carrying `urls: ["ipfs://<cid>"]`, and the root a JSON descriptor of the manifest.
    const image = buildImage({ seed: "nerdctl", layers: [2 * MiB + 99, 3000] });
    const withUrls = async (blob: Blob) => ({
      mediaType: blob.mediaType,
      digest: blob.digest,
      size: blob.size,
      urls: [`ipfs://${await cidOn(a, await pushBlob(a, "nerd/store", blob.data))}`],
    });
    const manifest = jsonBlob(MEDIA_TYPES.manifest, {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.manifest,
      config: await withUrls(image.config),
      layers: await Promise.all(image.layers.map(withUrls)),
    });
    const descriptor = jsonBlob("application/json", await withUrls(manifest));
    const root = await cidOn(a, await pushBlob(a, "nerd/store", descriptor.data));

    // B may not learn CIDs by asking peers for digests: only the URLs lead to the content.
    const asked: string[] = [];
    const content = b.content(
      withNode(b.ipfs, {
        lookupDigest: async (digest) => {
          asked.push(digest);
          return undefined;
        },
      }),
    );
    const top = await content.manifest(root, "latest");
    assert.equal(top.digest, manifest.digest);
    assert.equal(top.mediaType, MEDIA_TYPES.manifest);
    assert.ok(Buffer.from(top.bytes).equals(manifest.data));
    assert.equal((await content.manifest(root, manifest.digest)).digest, manifest.digest);
    await rejectsWith(content.manifest(root, "v1"), "MANIFEST_UNKNOWN");

    for (const blob of image.blobs) {
      assert.equal((await download(b, content, root, blob.digest)).size, blob.size);
      assert.ok((await readAll(b, blob.digest)).equals(blob.data), `${blob.digest} bytes`);
    }
    assert.deepEqual(asked, [], "no digest lookups were needed");
  });

  it("rejects a fetched manifest that does not match its descriptor's digest, storing nothing", async () => {
    const claimed = buildImage({ seed: "claimed", layers: [1000] });
    const served = buildImage({ seed: "served", layers: [1001] });
    await pushImage(a, "alice/claimed", "v1", claimed);
    await pushImage(a, "alice/served", "v1", served);
    const descriptor = jsonBlob("application/json", {
      mediaType: MEDIA_TYPES.manifest,
      digest: claimed.manifest.digest,
      size: claimed.manifest.size,
      urls: [`ipfs://${await cidOn(a, served.manifest.digest)}`],
    });
    const root = await cidOn(a, await pushBlob(a, "nerd/store", descriptor.data));

    const content = b.content();
    await rejectsWith(content.manifest(root, "latest"), "MANIFEST_INVALID");
    await rejectsWith(content.manifest(root, claimed.manifest.digest), "MANIFEST_INVALID");
    await rejectsWith(
      content.blob(root, `ipfs/${root}`, claimed.layers[0]?.digest ?? ""),
      "MANIFEST_INVALID",
    );
    await assertAbsent(b, claimed.manifest.digest, "the claimed manifest");
    await assertAbsent(b, served.manifest.digest, "the manifest served instead");
    await assertAbsent(b, claimed.layers[0]?.digest ?? "", "the claimed image's layer");
  });

  it("rejects a blob whose fetched bytes do not hash to its digest (a lying digest→CID hint)", async () => {
    const image = buildImage({ seed: "lied-about", layers: [3 * MiB + 1] });
    await pushImage(a, "alice/lied", "v1", image);
    const decoy = await pushBlob(a, "alice/decoy", Buffer.alloc(3 * MiB + 1, 7));
    const decoyCid = await cidOn(a, decoy);
    assert.notEqual(decoyCid.code, raw.code, "the decoy is a multi-chunk DAG");
    const root = await cidOn(a, image.manifest.digest);
    const layer = image.layers[0] as Blob;
    const repository = `ipfs/${root}`;

    const lying = b.content(withNode(b.ipfs, { lookupDigest: async () => decoyCid }));
    await lying.manifest(root, "latest");
    // The bytes stream out as they come; the mismatch shows at the end and fails the download.
    await assert.rejects(download(b, lying, root, layer.digest), SourceBytesMismatchError);
    await assertAbsent(b, layer.digest, "the layer");
    await assertAbsent(b, decoy, "the decoy");
    await rejectsWith(b.registry.blobs.stat(repository, layer.digest), "BLOB_UNKNOWN");
    await b.ipfs.idle();
    assert.equal(await b.ipfs.index.rootOf(layer.digest), undefined, "the decoy's DAG is not kept");

    // The honest answer (A's, over the network) leads to the right bytes.
    const honest = b.content();
    assert.equal((await download(b, honest, root, layer.digest)).size, layer.size);
    assert.ok((await readAll(b, layer.digest)).equals(layer.data));
    await b.ipfs.idle();
    assert.equal(
      String(await b.ipfs.index.rootOf(layer.digest)),
      String(await cidOn(a, layer.digest)),
    );
  });

  it("records the DAG it fetched and checked as the blob's import, without reading the blob again", async () => {
    const image = buildImage({ seed: "fetched-dag", layers: [5 * MiB + 777] });
    await pushImage(a, "alice/fetched", "v1", image);
    const root = await cidOn(a, image.manifest.digest);
    const layer = image.layers[0] as Blob;
    const layerCid = await cidOn(a, layer.digest);
    const opened: string[] = [];
    const open = b.blobs.open.bind(b.blobs);
    b.blobs.open = (digest, ...rest) => {
      opened.push(digest);
      return open(digest, ...rest);
    };
    try {
      const content = b.content();
      await content.manifest(root, "latest");
      assert.equal((await download(b, content, root, layer.digest)).size, layer.size);
      await b.ipfs.idle();
      assert.equal(String(await b.ipfs.index.rootOf(layer.digest)), String(layerCid));
      assert.deepEqual(
        opened.filter((digest) => digest === layer.digest),
        [],
        "not read again",
      );
    } finally {
      b.blobs.open = open;
    }
    // What B recorded serves: every leaf is read from B's copy at the recorded offset and checked
    // against its CID on the way out (the blockstore hashes what it reads).
    const leaves: CID[] = [];
    for await (const block of walkDag(
      { cid: layerCid, bytes: (await b.ipfs.publicBlock(layerCid)) as Uint8Array },
      async (cid) => b.ipfs.publicBlock(cid),
    )) {
      if (block.cid.code === raw.code) leaves.push(block.cid);
      assert.ok(block.bytes.length > 0);
    }
    assert.equal(leaves.length, 6);
    for (const [i, cid] of leaves.entries()) {
      assert.deepEqual(await b.ipfs.index.leaf(cid), {
        digest: layer.digest,
        offset: i * MiB,
        length: i < 5 ? MiB : layer.size - 5 * MiB,
      });
    }
  });

  it("rejects a blob whose `ipfs://` URL names other content, storing nothing", async () => {
    const image = buildImage({ seed: "wrong-url", layers: [1500] });
    const other = await pushBlob(a, "nerd/store", Buffer.from("not the layer you want"));
    await pushBlob(a, "nerd/store", image.config.data);
    const layer = image.layers[0] as Blob;
    const manifest = jsonBlob(MEDIA_TYPES.manifest, {
      schemaVersion: 2,
      mediaType: MEDIA_TYPES.manifest,
      config: {
        mediaType: image.config.mediaType,
        digest: image.config.digest,
        size: image.config.size,
      },
      layers: [
        {
          mediaType: layer.mediaType,
          digest: layer.digest,
          size: layer.size,
          urls: [`ipfs://${await cidOn(a, other)}`],
        },
      ],
    });
    const root = await cidOn(a, await pushBlob(a, "nerd/store", manifest.data));
    const content = b.content();
    assert.equal((await content.manifest(root, "latest")).digest, manifest.digest);
    await assert.rejects(download(b, content, root, layer.digest), SourceBytesMismatchError);
    await assertAbsent(b, layer.digest, "the layer");
    await assertAbsent(b, other, "the other blob");
  });

  it("answers BLOB_UNKNOWN for a blob the image does not refer to", async () => {
    const image = buildImage({ seed: "not-in-image", layers: [800] });
    await pushImage(a, "alice/small", "v1", image);
    const elsewhere = await pushBlob(
      a,
      "alice/elsewhere",
      Buffer.from("held by A, not in the image"),
    );
    const root = await cidOn(a, image.manifest.digest);
    const content = b.content();
    await rejectsWith(content.blob(root, `ipfs/${root}`, elsewhere), "BLOB_UNKNOWN");
    await rejectsWith(
      content.blob(root, `ipfs/${root}`, `sha256:${"ef".repeat(32)}`),
      "BLOB_UNKNOWN",
    );
    await assertAbsent(b, elsewhere, "the unrelated blob");
  });

  it("does not hand out a blob this instance holds for another repository when the image does not refer to it", async () => {
    // B holds a blob in a repository of its own (it might be private). Pulling `ipfs/<cid>` of an
    // unrelated image must not make it readable through that image's repository.
    const image = buildImage({ seed: "unrelated-root", layers: [700] });
    await pushImage(a, "alice/unrelated", "v1", image);
    const root = await cidOn(a, image.manifest.digest);
    const secret = await pushBlob(b, "bob/secret", Buffer.from("bob's private bytes"));
    const repository = `ipfs/${root}`;
    await rejectsWith(b.content().blob(root, repository, secret), "BLOB_UNKNOWN");
    await rejectsWith(b.registry.blobs.stat(repository, secret), "BLOB_UNKNOWN");
  });

  it("answers MANIFEST_UNKNOWN for a CID nobody has, without hanging", async () => {
    const missing = cidFromSha256Digest(sha256(Buffer.from("nobody has this block")));
    const started = performance.now();
    await rejectsWith(
      b.content().manifest(missing, "latest", AbortSignal.timeout(1500)),
      "MANIFEST_UNKNOWN",
    );
    assert.ok(performance.now() - started < 10_000, "gave up in time");

    // A node that fails at once (a BlockUnavailableError, say) is the same answer, at once.
    const failing = b.content(
      withNode(b.ipfs, {
        // biome-ignore lint/correctness/useYield: fails before yielding anything
        fetch: async function* () {
          throw new Error("no peer sent a valid block");
        },
      }),
    );
    await rejectsWith(failing.manifest(missing, "latest"), "MANIFEST_UNKNOWN");
    await rejectsWith(
      failing.blob(missing, `ipfs/${missing}`, `sha256:${"12".repeat(32)}`),
      "MANIFEST_UNKNOWN",
    );
  });

  it("answers MANIFEST_INVALID for a CID that names something other than a manifest", async () => {
    const digest = await pushBlob(a, "alice/data", Buffer.from("just some bytes, not JSON"));
    const root = await cidOn(a, digest);
    await rejectsWith(b.content().manifest(root, "latest"), "MANIFEST_INVALID");
    assert.equal(await b.blobs.stat(digest), undefined, "nothing kept");
  });
});
