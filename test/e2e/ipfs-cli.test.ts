/** `flotilla ipfs`: CIDs of images, the node's peers, pin and unpin by CID, and their failures. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { flotilla } from "../helpers/cli.ts";
import { type Instance, ipfsAddress, startInstance } from "../helpers/instance.ts";
import { writeImageLayout } from "../helpers/oci-layout.ts";
import { needs, skopeo, tempDir } from "./tools.ts";

describe("flotilla ipfs", { skip: needs("skopeo"), timeout: 300_000 }, () => {
  let a: Instance;
  let b: Instance;
  let work: { path: string; remove(): Promise<void> };
  let manifestDigest: string;
  const cli = (instance: Instance, args: string[]) =>
    flotilla(instance.dataDir, ["ipfs", ...args], undefined, { FLOTILLA_PUBLIC_URL: instance.url });

  before(async () => {
    work = await tempDir("ipfs-cli");
    a = await startInstance();
    const src = join(work.path, "src");
    const image = await writeImageLayout(src, {
      tag: "v1",
      seed: "ipfs-cli",
      layers: [1500 * 1024],
    });
    manifestDigest = image.manifest.digest;
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
    await (await fetch(`${a.url}/v2/alice/app/_flotilla/cid/v1`)).arrayBuffer();
    b = await startInstance({ env: { FLOTILLA_PEERS: await ipfsAddress(a) } });
  });
  after(async () => {
    await b?.dispose();
    await a?.dispose();
    await work?.remove();
  });

  it("prints the CID of a tag and of a digest, and refuses unknown images", async () => {
    const byTag = await cli(a, ["cid", "alice/app:v1", "--json"]);
    assert.equal(byTag.code, 0, byTag.stderr);
    const [row] = JSON.parse(byTag.stdout) as Array<{ digest: string; cid: string; pull: string }>;
    assert.equal(row?.digest, manifestDigest);
    assert.match(row?.cid ?? "", /^bafkrei/);
    assert.equal(row?.pull, `${a.host}/ipfs/${row?.cid}`);
    const byDigest = await cli(a, ["cid", `alice/app@${manifestDigest}`]);
    assert.match(byDigest.stdout, new RegExp(row?.cid ?? "-"));
    // The reference people copy from a pull command works too; another registry's is refused.
    const withHost = await cli(a, ["cid", `${a.host}/alice/app:v1`]);
    assert.equal(withHost.code, 0, withHost.stderr);
    assert.match(withHost.stdout, new RegExp(row?.cid ?? "-"));
    const elsewhere = await cli(a, ["cid", "other.example:5000/alice/app:v1"]);
    assert.equal(elsewhere.code, 1);
    assert.match(elsewhere.stderr, /names an image on other\.example:5000; this instance is /);
    const missing = await cli(a, ["cid", "alice/nothing:v1"]);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /no image alice\/nothing:v1/);
  });

  it("lists the node and its peers", async () => {
    const peers = await cli(b, ["peers", "--json"]);
    assert.equal(peers.code, 0, peers.stderr);
    const info = JSON.parse(peers.stdout) as { peerId: string; peers: string[] };
    const aInfo = (await (await fetch(`${a.url}/api/v1/ipfs`)).json()) as { peerId: string };
    assert.ok(info.peers.includes(aInfo.peerId), "B is connected to A");
    assert.match((await cli(b, ["peers"])).stdout, /^peer id: 12D3Koo/);
    const down = await flotilla(b.dataDir, ["ipfs", "peers"], undefined, {
      FLOTILLA_PUBLIC_URL: "http://127.0.0.1:9",
    });
    assert.equal(down.code, 1);
    assert.match(down.stderr, /cannot reach the instance/);
  });

  it("pins an image by CID from a peer, then unpins it", async () => {
    const cid = JSON.parse((await cli(a, ["cid", "alice/app:v1", "--json"])).stdout)[0]
      .cid as string;
    const pinned = await cli(b, ["pin", cid, "--json"]);
    assert.equal(pinned.code, 0, pinned.stderr);
    const result = JSON.parse(pinned.stdout) as { blobs: number; bytes: number; manifests: number };
    assert.equal(result.manifests, 1);
    assert.equal(result.blobs, 2);
    // Every byte came through: the 1500 KiB layer and the config.
    assert.ok(result.bytes > 1500 * 1024, String(result.bytes));
    const again = await cli(b, ["pin", cid]);
    assert.match(again.stdout, new RegExp(`pinned ${cid}: 2 blob\\(s\\), ${result.bytes} bytes`));
    const kept = await fetch(`${b.url}/v2/ipfs/${cid}/manifests/latest`, { method: "HEAD" });
    assert.equal(kept.status, 200);
    assert.equal(kept.headers.get("docker-content-digest"), manifestDigest);
    assert.equal((await cli(b, ["unpin", cid])).code, 0);
    const unpinnedTwice = await cli(b, ["unpin", cid]);
    assert.equal(unpinnedTwice.code, 1);
    assert.match(unpinnedTwice.stderr, /not pinned here/);
  });

  it("refuses to pin what is not a CID, and says so when no instance runs", async () => {
    const notCid = await cli(b, ["pin", "not-a-cid"]);
    assert.equal(notCid.code, 1);
    assert.equal(notCid.stderr.trim(), "flotilla: not-a-cid is not a CID (bafy…, bafkrei… or Qm…)");
    const cid = JSON.parse((await cli(a, ["cid", "alice/app:v1", "--json"])).stdout)[0]
      .cid as string;
    const down = await flotilla(b.dataDir, ["ipfs", "pin", cid], undefined, {
      FLOTILLA_PUBLIC_URL: "http://127.0.0.1:9",
    });
    assert.equal(down.code, 1);
    assert.equal(
      down.stderr.trim(),
      "flotilla: cannot reach the instance at http://127.0.0.1:9: is it running?",
    );
  });

  it("pins on an instance with access control on, as its operator", async () => {
    const cid = JSON.parse((await cli(a, ["cid", "alice/app:v1", "--json"])).stdout)[0]
      .cid as string;
    const guarded = await startInstance({
      auth: true,
      env: { FLOTILLA_PEERS: await ipfsAddress(a) },
    });
    try {
      const anonymous = await fetch(`${guarded.url}/v2/ipfs/${cid}/manifests/latest`);
      assert.equal(anonymous.status, 401, "a plain request needs a token here");
      const pinned = await cli(guarded, ["pin", cid, "--json"]);
      assert.equal(pinned.code, 0, pinned.stderr);
      assert.equal((JSON.parse(pinned.stdout) as { blobs: number }).blobs, 2);
      assert.equal((await cli(guarded, ["unpin", cid])).code, 0);
    } finally {
      await guarded.dispose();
    }
  });
});
