/**
 * The trustless gateway (`/ipfs/<cid>`) of a real instance with access control: a public image's
 * manifest and multi-chunk layer come back as raw blocks and CAR streams that verify against their
 * CIDs with @ipld/car; a private image's CIDs look absent; the `bafkqaaa` probe answers; and an
 * anonymous client pulls the public image by CID through the registry API.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { CarReader } from "@ipld/car";
import * as dagPb from "@ipld/dag-pb";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 as sha256Hasher } from "multiformats/hashes/sha2";
import { flotilla } from "../helpers/cli.ts";
import { admin, type Instance, startInstance } from "../helpers/instance.ts";
import { type BuiltImage, writeImageLayout } from "../helpers/oci-layout.ts";
import { http, needs, run, skopeo, tempDir } from "./tools.ts";

const MiB = 1024 * 1024;

interface CidInfo {
  digest: string;
  cid: string;
  references: Array<{ digest: string; size: number; cid: string }>;
}

function sha256(bytes: Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
}

/** Bytes hash to the CID's multihash (sha2-256, the only hash Flotilla writes). */
async function matches(cid: CID, bytes: Uint8Array): Promise<boolean> {
  assert.equal(cid.multihash.code, sha256Hasher.code, `${cid} uses sha2-256`);
  const digest = await sha256Hasher.digest(bytes);
  return Buffer.from(digest.digest).equals(Buffer.from(cid.multihash.digest));
}

/** The raw CID of one 1 MiB chunk, as the importer names a leaf. */
async function leafCid(bytes: Uint8Array): Promise<CID> {
  return CID.createV1(raw.code, await sha256Hasher.digest(bytes));
}

describe("IPFS gateway with access control", { skip: needs("skopeo"), timeout: 300_000 }, () => {
  let instance: Instance;
  let work: { path: string; remove(): Promise<void> };
  let publicImage: BuiltImage;
  let privateImage: BuiltImage;
  let publicInfo: CidInfo;
  let privateInfo: CidInfo;

  /** A bearer token for `scope` (`repository:<name>:pull`), as admin or anonymous. */
  const token = async (scope: string, asAdmin = true): Promise<string> => {
    const basic = Buffer.from(`${admin.user}:${admin.password}`).toString("base64");
    const res = await fetch(
      `${instance.url}/token?service=${instance.host}&scope=${encodeURIComponent(scope)}`,
      asAdmin ? { headers: { Authorization: `Basic ${basic}` } } : {},
    );
    assert.equal(res.status, 200, `token for ${scope}`);
    return ((await res.json()) as { token: string }).token;
  };

  const cidInfo = async (name: string, tag: string): Promise<CidInfo> => {
    const bearer = await token(`repository:${name}:pull`);
    const res = await http(`${instance.url}/v2/${name}/_flotilla/cid/${tag}`, {
      headers: { Authorization: `Bearer ${bearer}` },
    });
    assert.equal(res.status, 200, `CIDs of ${name}:${tag}: ${res.body.toString()}`);
    return JSON.parse(res.body.toString()) as CidInfo;
  };

  const push = async (image: string, name: string, seed: string, layers: number[]) => {
    const src = join(work.path, image);
    const built = await writeImageLayout(src, { tag: "v1", seed, layers });
    await skopeo(
      [
        "copy",
        "--dest-tls-verify=false",
        "--dest-creds",
        `${admin.user}:${admin.password}`,
        "--preserve-digests",
        `oci:${src}:v1`,
        `docker://${instance.host}/${name}:v1`,
      ],
      work.path,
    );
    return built;
  };

  const gateway = (cid: string, format: "raw" | "car", method = "GET") =>
    http(`${instance.url}/ipfs/${cid}?format=${format}`, { method });

  before(async () => {
    work = await tempDir("ipfs-gateway");
    instance = await startInstance({ auth: true });
    publicImage = await push("public", "admin/app", "gateway-public", [3 * MiB + 4321, 5000]);
    privateImage = await push("private", "admin/secret", "gateway-private", [2 * MiB + 77, 3000]);
    const visibility = await flotilla(instance.dataDir, ["visibility", "admin/secret", "private"]);
    assert.equal(visibility.code, 0, visibility.stderr);
    publicInfo = await cidInfo("admin/app", "v1");
    privateInfo = await cidInfo("admin/secret", "v1");
    assert.equal(publicInfo.digest, publicImage.manifest.digest);
    assert.equal(privateInfo.digest, privateImage.manifest.digest);
  });

  after(async () => {
    await instance?.dispose();
    await work?.remove();
  });

  it("keeps the private repository private to anonymous clients", async () => {
    const anonymous = await token("repository:admin/secret:pull", false);
    const res = await http(`${instance.url}/v2/admin/secret/manifests/v1`, {
      headers: { Authorization: `Bearer ${anonymous}` },
    });
    assert.equal(res.status, 401);
  });

  it("serves the public manifest as a raw block and as a CAR, both matching its CID", async () => {
    const cid = CID.parse(publicInfo.cid);
    assert.equal(cid.code, raw.code);

    const block = await gateway(publicInfo.cid, "raw");
    assert.equal(block.status, 200, block.body.toString());
    assert.equal(block.headers.get("content-type"), "application/vnd.ipld.raw");
    assert.equal(block.headers.get("etag"), `"${publicInfo.cid}.raw"`);
    assert.match(block.headers.get("cache-control") ?? "", /immutable/);
    assert.ok(await matches(cid, block.body));
    assert.ok(block.body.equals(publicImage.manifest.data));

    const car = await gateway(publicInfo.cid, "car");
    assert.equal(car.status, 200, car.body.toString());
    assert.match(car.headers.get("content-type") ?? "", /^application\/vnd\.ipld\.car/);
    const reader = await CarReader.fromBytes(new Uint8Array(car.body));
    const roots = await reader.getRoots();
    assert.deepEqual(
      roots.map((root) => root.toString()),
      [publicInfo.cid],
    );
    const blocks = [];
    for await (const entry of reader.blocks()) blocks.push(entry);
    assert.equal(blocks.length, 1);
    assert.ok(blocks[0]?.cid.equals(cid));
    assert.ok(await matches(cid, blocks[0]?.bytes ?? new Uint8Array()));
  });

  it("serves the multi-chunk layer as a CAR whose blocks verify and reassemble to the layer", async () => {
    const layer = publicImage.layers[0];
    assert.ok(layer && layer.size > 3 * MiB);
    const ref = publicInfo.references.find((r) => r.digest === layer.digest);
    assert.ok(ref?.cid, "the layer has a CID");
    const root = CID.parse(ref.cid);
    assert.equal(root.code, dagPb.code, "a multi-chunk layer is a dag-pb root");

    const block = await gateway(ref.cid, "raw");
    assert.equal(block.status, 200, block.body.toString());
    assert.equal(block.headers.get("content-type"), "application/vnd.ipld.raw");
    assert.ok(await matches(root, block.body), "the raw root block matches its CID");
    assert.ok(dagPb.decode(block.body).Links.length >= 4, "links to its 1 MiB leaves");

    const car = await gateway(ref.cid, "car");
    assert.equal(car.status, 200, car.body.toString());
    const reader = await CarReader.fromBytes(new Uint8Array(car.body));
    assert.deepEqual((await reader.getRoots()).map(String), [ref.cid]);
    const byCid = new Map<string, Uint8Array>();
    for await (const { cid, bytes } of reader.blocks()) {
      assert.ok(await matches(cid, bytes), `block ${cid} matches its CID`);
      byCid.set(cid.toString(), bytes);
    }
    // Walk the DAG from the root: dag-pb nodes link, in order, to raw leaves holding the bytes.
    const parts: Uint8Array[] = [];
    const walk = (cid: CID) => {
      const bytes = byCid.get(cid.toString());
      assert.ok(bytes, `the CAR holds ${cid}`);
      if (cid.code === raw.code) {
        parts.push(bytes);
        return;
      }
      assert.equal(cid.code, dagPb.code);
      for (const link of dagPb.decode(bytes).Links) walk(link.Hash);
    };
    walk(root);
    const whole = Buffer.concat(parts);
    assert.equal(whole.length, layer.size);
    assert.equal(sha256(whole), layer.digest, "the leaves reassemble to the layer");
    assert.ok(parts.length >= 4, "several leaves");
  });

  it("serves the small layer and the config as single raw blocks", async () => {
    for (const ref of publicInfo.references.filter((r) => r.size <= MiB)) {
      const cid = CID.parse(ref.cid);
      assert.equal(cid.code, raw.code);
      const res = await gateway(ref.cid, "raw");
      assert.equal(res.status, 200, `${ref.digest}: ${res.body.toString()}`);
      assert.equal(sha256(res.body), ref.digest);
    }
  });

  it("answers content negotiation by Accept", async () => {
    const res = await http(`${instance.url}/ipfs/${publicInfo.cid}`, {
      headers: { Accept: "application/vnd.ipld.car" },
    });
    assert.equal(res.status, 200, res.body.toString());
    assert.match(res.headers.get("content-type") ?? "", /^application\/vnd\.ipld\.car/);
  });

  it("does not serve any CID of the private image", async () => {
    const layer = privateImage.layers[0];
    assert.ok(layer && layer.size > 2 * MiB);
    const firstLeaf = await leafCid(layer.data.subarray(0, MiB));
    const cids = [
      privateInfo.cid,
      ...privateInfo.references.map((r) => r.cid),
      firstLeaf.toString(),
    ];
    assert.equal(cids.length, 5);
    for (const cid of cids) {
      for (const format of ["raw", "car"] as const) {
        const res = await gateway(cid, format);
        assert.equal(res.status, 404, `${format} of ${cid}: ${res.status}`);
        assert.ok(!res.body.includes(Buffer.from("schemaVersion")), "no manifest bytes leak");
      }
      const head = await gateway(cid, "raw", "HEAD");
      assert.equal(head.status, 404, `HEAD of ${cid}`);
    }
  });

  it("does not let an anonymous client pull the private image by CID through the registry API", async () => {
    const name = `ipfs/${privateInfo.cid}`;
    const anonymous = await token(`repository:${name}:pull`, false);
    const headers = { Authorization: `Bearer ${anonymous}` };
    const manifest = await http(`${instance.url}/v2/${name}/manifests/latest`, { headers });
    assert.ok([401, 404].includes(manifest.status), `manifest: ${manifest.status}`);
    assert.ok(!manifest.body.equals(privateImage.manifest.data), "no private manifest bytes");
    const layer = privateImage.layers[1];
    assert.ok(layer);
    const blob = await http(`${instance.url}/v2/${name}/blobs/${layer.digest}`, { headers });
    assert.ok([401, 404].includes(blob.status), `blob: ${blob.status}`);
  });

  it("does not serve a private blob through the CID of a public image", async () => {
    const name = `ipfs/${publicInfo.cid}`;
    const anonymous = await token(`repository:${name}:pull`, false);
    const headers = { Authorization: `Bearer ${anonymous}` };
    for (const blob of privateImage.blobs) {
      const res = await http(`${instance.url}/v2/${name}/blobs/${blob.digest}`, { headers });
      assert.equal(res.status, 404, `${blob.digest}: ${res.status}`);
      assert.ok(!res.body.equals(blob.data), "no private bytes");
    }
  });

  it("answers the bafkqaaa probe", async () => {
    for (const method of ["GET", "HEAD"]) {
      const res = await http(`${instance.url}/ipfs/bafkqaaa?format=raw`, { method });
      assert.equal(res.status, 200, `${method}: ${res.body.toString()}`);
      assert.equal(res.body.length, 0);
    }
  });

  it("lets an anonymous skopeo inspect the public image by CID", async () => {
    const { stdout } = await run(
      "skopeo",
      [
        "--insecure-policy",
        "inspect",
        "--raw",
        "--no-creds",
        "--tls-verify=false",
        `docker://${instance.host}/ipfs/${publicInfo.cid}:latest`,
      ],
      { env: { TMPDIR: work.path, XDG_RUNTIME_DIR: work.path } },
    );
    assert.equal(sha256(Buffer.from(stdout)), publicImage.manifest.digest);
  });
});
