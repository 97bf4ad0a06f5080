/**
 * Three instances on loopback: an image pushed to A is pulled by CID from B (peered with A) with
 * skopeo; then A stops, and C, peered only with B, still pulls it by CID. Bytes match digests.
 */
import assert from "node:assert/strict";
import { rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Instance, ipfsAddress, startInstance } from "../helpers/instance.ts";
import { readLayout, writeImageLayout } from "../helpers/oci-layout.ts";
import { needs, skopeo, tempDir } from "./tools.ts";

describe("pull by CID across instances", { skip: needs("skopeo"), timeout: 300_000 }, () => {
  const instances: Instance[] = [];
  let work: { path: string; remove(): Promise<void> };

  before(async () => {
    work = await tempDir("ipfs");
  });
  after(async () => {
    for (const instance of instances) await instance.dispose();
    await work?.remove();
  });

  it("A → B (peered with A) → C (peered only with B), after A stopped", async () => {
    const a = await startInstance();
    instances.push(a);
    const src = join(work.path, "src");
    // One layer spans several 1 MiB chunks (a UnixFS DAG), one is a single raw block.
    const image = await writeImageLayout(src, {
      tag: "v1",
      seed: "ipfs-e2e",
      layers: [3 * 1024 * 1024 + 4321, 5000],
    });
    await skopeo(
      [
        "copy",
        "--dest-tls-verify=false",
        "--preserve-digests",
        `oci:${src}:v1`,
        `docker://${a.host}/alice/app:v1`,
      ],
      work.path,
    );

    const info = (await (await fetch(`${a.url}/v2/alice/app/_flotilla/cid/v1`)).json()) as {
      digest: string;
      cid: string;
      references: Array<{ digest: string; cid: string; size: number }>;
    };
    assert.equal(info.digest, image.manifest.digest);
    assert.match(info.cid, /^bafkrei/, "a manifest is one raw block named by its own sha256");
    const big = info.references.find((r) => r.size > 1024 * 1024);
    assert.match(big?.cid ?? "", /^bafybei/, "a multi-chunk layer is a dag-pb root");

    const b = await startInstance({ env: { FLOTILLA_PEERS: await ipfsAddress(a) } });
    instances.push(b);
    const fromB = join(work.path, "from-b");
    await skopeo(
      [
        "copy",
        "--src-tls-verify=false",
        `docker://${b.host}/ipfs/${info.cid}:latest`,
        `oci:${fromB}:v1`,
      ],
      work.path,
    );
    const pulledB = await readLayout(fromB);
    assert.equal(pulledB.entries[0]?.digest, image.manifest.digest, "same manifest digest via B");

    const c = await startInstance({ env: { FLOTILLA_PEERS: await ipfsAddress(b) } });
    instances.push(c);
    assert.equal(await a.stop(), 0);
    const fromC = join(work.path, "from-c");
    await skopeo(
      [
        "copy",
        "--src-tls-verify=false",
        `docker://${c.host}/ipfs/${info.cid}@${image.manifest.digest}`,
        `oci:${fromC}:v1`,
      ],
      work.path,
    );
    const pulledC = await readLayout(fromC);
    assert.equal(
      pulledC.entries[0]?.digest,
      image.manifest.digest,
      "same manifest digest via C with A gone",
    );
    // readLayout checked that every blob hashes to its name; the layers are all there.
    for (const layer of image.layers)
      assert.ok(pulledC.blobs.has(layer.digest), `${layer.digest} arrived`);
  });
});

describe("a repository whose blob bytes are missing", {
  skip: needs("skopeo"),
  timeout: 300_000,
}, () => {
  const instances: Instance[] = [];
  let work: { path: string; remove(): Promise<void> };
  before(async () => {
    work = await tempDir("ipfs-restore");
  });
  after(async () => {
    for (const instance of instances) await instance.dispose();
    await work?.remove();
  });

  it("fetches them from a peer on the next pull, verified, and keeps them", async () => {
    const a = await startInstance();
    instances.push(a);
    const b = await startInstance({ env: { FLOTILLA_PEERS: await ipfsAddress(a) } });
    instances.push(b);
    const src = join(work.path, "src");
    const image = await writeImageLayout(src, {
      tag: "v1",
      seed: "ipfs-restore",
      layers: [2 * 1024 * 1024 + 99],
    });
    for (const target of [a, b]) {
      await skopeo(
        [
          "copy",
          "--dest-tls-verify=false",
          "--preserve-digests",
          `oci:${src}:v1`,
          `docker://${target.host}/alice/app:v1`,
        ],
        work.path,
      );
      await (await fetch(`${target.url}/v2/alice/app/_flotilla/cid/v1`)).arrayBuffer(); // imported
    }
    const layer = image.layers[0]?.digest as string;
    const file = join(b.dataDir, "blobs", "sha256", layer.slice(7, 9), layer.slice(7));
    await rm(file);
    assert.equal(await stat(file).catch(() => undefined), undefined);

    const pulled = join(work.path, "pulled");
    await skopeo(
      ["copy", "--src-tls-verify=false", `docker://${b.host}/alice/app:v1`, `oci:${pulled}:v1`],
      work.path,
    );
    const contents = await readLayout(pulled);
    assert.ok(contents.blobs.has(layer), "the layer arrived, and readLayout checked its sha256");
    assert.equal((await stat(file)).size, image.layers[0]?.size, "B keeps the restored bytes");
  });
});
