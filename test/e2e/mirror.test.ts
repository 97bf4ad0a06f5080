/**
 * Mirroring between two real Flotilla processes, and from CNCF Distribution: push to the origin
 * with skopeo, track the repository on B (`flotilla mirror track`), pull it from B under
 * `127.0.0.1_<port>/<name>` with the same digests, and keep pulling from B after the origin stops.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { after, before, describe, it } from "node:test";
import { DISTRIBUTION_BINARY, startDistribution } from "../../bench/lib/registries.ts";
import { flotilla } from "../helpers/cli.ts";
import { admin, type Instance, startInstance } from "../helpers/instance.ts";
import { readLayout, sha256, writeImageLayout, writeIndexLayout } from "../helpers/oci-layout.ts";
import { http, needs, skopeo, tempDir } from "./tools.ts";

const skip = needs("skopeo");
const outbound = { FLOTILLA_OUTBOUND_ALLOW_PRIVATE_ADDRESSES: "true" };
// IPFS and federation stay off: these instances are not peers, nothing follows over ActivityPub
// here (federation-mirror.test.ts does), and the subject is the origin's registry API.
const env = { ...outbound, FLOTILLA_IPFS_ENABLED: "false", FLOTILLA_FEDERATION_ENABLED: "false" };

describe("mirror between two instances", { skip, timeout: 300_000 }, () => {
  let a: Instance;
  let b: Instance;
  let work: { path: string; remove(): Promise<void> };
  let mirrored: string;

  before(async () => {
    work = await tempDir("mirror");
    // The origin requires login to push and answers anonymous pulls with a token challenge.
    a = await startInstance({ auth: true, env });
    b = await startInstance({ auth: true, env });
    mirrored = `127.0.0.1_${a.port}`;
  });

  after(async () => {
    await a?.dispose();
    await b?.dispose();
    await work?.remove();
  });

  const creds = `${admin.user}:${admin.password}`;
  let single: Awaited<ReturnType<typeof writeImageLayout>>;
  let multi: Awaited<ReturnType<typeof writeIndexLayout>>;

  it("pushes to A, tracks on B, pulls from B with the same digests", async () => {
    single = await writeImageLayout(`${work.path}/single`, {
      tag: "v1",
      seed: "mirror-single",
      layers: [[{ path: "hello.txt", content: "mirrored\n" }], 512 * 1024],
    });
    multi = await writeIndexLayout(
      `${work.path}/multi`,
      [
        { seed: "mirror-amd64", platform: { os: "linux", architecture: "amd64" } },
        { seed: "mirror-arm64", platform: { os: "linux", architecture: "arm64" } },
      ],
      { tag: "multi" },
    );
    const push = (layout: string, tag: string, repo: string) =>
      skopeo(
        [
          "copy",
          "--all",
          "--dest-tls-verify=false",
          "--dest-creds",
          creds,
          `oci:${layout}:${tag}`,
          `docker://${a.host}/${repo}:${tag}`,
        ],
        work.path,
      );
    await push(`${work.path}/single`, "v1", "team/app");
    await push(`${work.path}/multi`, "multi", "team/multi");

    // Lazy: only manifests now, blobs on the first pull.
    const tracked = await flotilla(
      b.dataDir,
      ["mirror", "track", "--registry-url", a.url, "--name", "team/app"],
      "",
      env,
    );
    assert.equal(tracked.code, 0, tracked.stderr);
    assert.match(tracked.stdout, new RegExp(`mirroring ${mirrored}/team/app: 1 tag\\(s\\)`));
    // Eager: every blob fetched before the command returns.
    const eager = await flotilla(
      b.dataDir,
      ["mirror", "track", "--registry-url", a.url, "--name", "team/multi", "--json"],
      "",
      { ...env, FLOTILLA_MIRROR_EAGER_BLOBS: "true" },
    );
    assert.equal(eager.code, 0, eager.stderr);
    assert.deepEqual(JSON.parse(eager.stdout), {
      ok: true,
      localName: `${mirrored}/team/multi`,
      tags: 1,
      problems: [],
    });

    const raw = await skopeo(
      ["inspect", "--raw", "--tls-verify=false", `docker://${b.host}/${mirrored}/team/app:v1`],
      work.path,
    );
    assert.equal(sha256(raw.stdout), single.manifest.digest);
    await skopeo(
      [
        "copy",
        "--src-tls-verify=false",
        `docker://${b.host}/${mirrored}/team/app:v1`,
        `oci:${work.path}/pulled:v1`,
      ],
      work.path,
    );
    const pulled = await readLayout(`${work.path}/pulled`);
    assert.equal(pulled.entries[0]?.digest, single.manifest.digest);
  });

  it("lists the mirrors (CLI and admin API)", async () => {
    const listed = await flotilla(b.dataDir, ["mirrors", "--json"], "", env);
    assert.equal(listed.code, 0, listed.stderr);
    const rows = JSON.parse(listed.stdout) as Array<{
      name: string;
      tags: number;
      lastError?: string;
    }>;
    assert.deepEqual(
      rows.map((r) => [r.name, r.tags, r.lastError]),
      [
        [`${mirrored}/team/app`, 1, undefined],
        [`${mirrored}/team/multi`, 1, undefined],
      ],
    );
    const api = await http(`${b.url}/api/v1/admin/mirrors`, {
      headers: { Authorization: `Basic ${Buffer.from(creds).toString("base64")}` },
    });
    assert.equal(api.status, 200);
    const body = JSON.parse(api.body.toString()) as {
      mirrors: Array<{ localName: string; registryUrl: string }>;
    };
    assert.deepEqual(
      body.mirrors.map((m) => [m.localName, m.registryUrl]),
      [
        [`${mirrored}/team/app`, a.url],
        [`${mirrored}/team/multi`, a.url],
      ],
    );
    assert.equal((await http(`${b.url}/api/v1/admin/mirrors`)).status, 401);
  });

  it("refuses pushes into the mirror, even from B's administrator", async () => {
    await assert.rejects(
      skopeo(
        [
          "copy",
          "--dest-tls-verify=false",
          "--dest-creds",
          creds,
          `oci:${work.path}/single:v1`,
          `docker://${b.host}/${mirrored}/team/app:v2`,
        ],
        work.path,
      ),
      /denied|DENIED|unauthorized|403/i,
    );
    const user = await flotilla(
      b.dataDir,
      ["user", "add", mirrored, "--password-stdin"],
      "a-long-password\n",
      env,
    );
    assert.equal(user.code, 1);
    assert.match(user.stderr, /mirrored registry/);
  });

  it("B still serves the images when A is down", async () => {
    await a.stop();
    await skopeo(
      [
        "copy",
        "--src-tls-verify=false",
        `docker://${b.host}/${mirrored}/team/app:v1`,
        `oci:${work.path}/again:v1`,
      ],
      work.path,
    );
    assert.equal(
      (await readLayout(`${work.path}/again`)).entries[0]?.digest,
      single.manifest.digest,
    );
    // The index was fetched eagerly and never pulled from B before.
    await skopeo(
      [
        "copy",
        "--all",
        "--src-tls-verify=false",
        `docker://${b.host}/${mirrored}/team/multi:multi`,
        `oci:${work.path}/multi-b:multi`,
      ],
      work.path,
    );
    assert.equal((await readLayout(`${work.path}/multi-b`)).entries[0]?.digest, multi.index.digest);
  });
});

describe("mirror of a CNCF Distribution registry", {
  skip:
    skip || (existsSync(DISTRIBUTION_BINARY) ? false : `${DISTRIBUTION_BINARY} is not installed`),
  timeout: 300_000,
}, () => {
  let b: Instance;
  let work: { path: string; remove(): Promise<void> };
  let distribution: Awaited<ReturnType<typeof startDistribution>>;

  before(async () => {
    work = await tempDir("mirror-distribution");
    distribution = await startDistribution(work.path);
    b = await startInstance({ env });
  });

  after(async () => {
    await distribution?.stop();
    await b?.dispose();
    await work?.remove();
  });

  it("syncs its tags and serves them, blobs fetched on the first pull", async () => {
    const image = await writeImageLayout(`${work.path}/src`, {
      tag: "1.0",
      seed: "from-distribution",
    });
    for (const tag of ["1.0", "latest"]) {
      await skopeo(
        [
          "copy",
          "--dest-tls-verify=false",
          `oci:${work.path}/src:1.0`,
          `docker://${distribution.host}/library/tool:${tag}`,
        ],
        work.path,
      );
    }
    const tracked = await flotilla(
      b.dataDir,
      ["mirror", "track", "--registry-url", distribution.url, "--name", "library/tool"],
      "",
      env,
    );
    assert.equal(tracked.code, 0, tracked.stderr);
    const name = `127.0.0.1_${distribution.url.split(":").at(-1)}/library/tool`;
    const tags = await http(`${b.url}/v2/${name}/tags/list`);
    assert.deepEqual(JSON.parse(tags.body.toString()).tags, ["1.0", "latest"]);
    await skopeo(
      [
        "copy",
        "--src-tls-verify=false",
        `docker://${b.host}/${name}:latest`,
        `oci:${work.path}/out:latest`,
      ],
      work.path,
    );
    assert.equal((await readLayout(`${work.path}/out`)).entries[0]?.digest, image.manifest.digest);
  });
});
