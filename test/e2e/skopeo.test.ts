/**
 * skopeo against a real Flotilla process: one image and one multi-platform index, pushed from
 * and pulled back into OCI image layouts built without a network; digests and bytes must survive
 * the round trip unchanged.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import { type Instance, startInstance } from "../helpers/instance.ts";
import {
  MEDIA_TYPES,
  readLayout,
  readLayoutBlob,
  sha256,
  writeImageLayout,
  writeIndexLayout,
} from "../helpers/oci-layout.ts";
import { ACCEPT_ALL_MANIFESTS, http, needs, skopeo, tempDir } from "./tools.ts";

const skip = needs("skopeo");

describe("skopeo", { skip, timeout: 300_000 }, () => {
  let instance: Instance;
  let work: { path: string; remove(): Promise<void> };

  before(async () => {
    work = await tempDir("skopeo");
    instance = await startInstance();
  });

  after(async () => {
    await instance?.dispose();
    await work?.remove();
  });

  it("copies an OCI layout to the registry and back with digests and bytes unchanged", async () => {
    const src = `${work.path}/src`;
    const image = await writeImageLayout(src, {
      tag: "v1",
      seed: "skopeo-single",
      layers: [
        [
          { path: "etc/" },
          { path: "etc/motd", content: "flotilla e2e\n" },
          { path: "bin/" },
          { path: "bin/hello", content: "#!/bin/sh\necho hi\n", mode: 0o755 },
        ],
        3 * 1024 * 1024 + 17, // incompressible: several MiB crossing chunk boundaries
      ],
      config: { Cmd: ["/bin/hello"], Labels: { "org.example.test": "skopeo" } },
    });
    const ref = `docker://${instance.host}/e2e/skopeo:v1`;

    await skopeo(["copy", "--dest-tls-verify=false", `oci:${src}:v1`, ref], work.path);

    // The manifest is stored byte for byte: its digest is the one skopeo computed locally.
    const raw = await skopeo(["inspect", "--raw", "--tls-verify=false", ref], work.path);
    assert.equal(sha256(raw.stdout), image.manifest.digest);
    assert.equal(raw.stdout, image.manifest.data.toString("utf8"));

    // skopeo's own parse of the config agrees with what we built.
    const inspected = JSON.parse(
      (await skopeo(["inspect", "--tls-verify=false", ref], work.path)).stdout,
    ) as { Digest: string; Architecture: string; Os: string; Layers: string[] };
    assert.equal(inspected.Digest, image.manifest.digest);
    assert.equal(inspected.Architecture, "amd64");
    assert.equal(inspected.Os, "linux");
    assert.deepEqual(
      inspected.Layers,
      image.layers.map((l) => l.digest),
    );

    // Over plain HTTP too: the tag resolves to the digest, with the right content type.
    const byTag = await http(`${instance.url}/v2/e2e/skopeo/manifests/v1`, {
      headers: { Accept: ACCEPT_ALL_MANIFESTS },
    });
    assert.equal(byTag.status, 200);
    assert.equal(byTag.headers.get("docker-content-digest"), image.manifest.digest);
    assert.equal(byTag.headers.get("content-type"), MEDIA_TYPES.manifest);
    assert.equal(sha256(byTag.body), image.manifest.digest);
    for (const blob of image.blobs) {
      const head = await http(`${instance.url}/v2/e2e/skopeo/blobs/${blob.digest}`, {
        method: "HEAD",
      });
      assert.equal(head.status, 200, `HEAD ${blob.digest}`);
      assert.equal(head.headers.get("content-length"), String(blob.size));
    }

    const tags = JSON.parse(
      (
        await skopeo(
          ["list-tags", "--tls-verify=false", `docker://${instance.host}/e2e/skopeo`],
          work.path,
        )
      ).stdout,
    ) as { Tags: string[] };
    assert.deepEqual(tags.Tags, ["v1"]);

    // Pull back by tag and by digest into fresh layouts: same manifest, same blobs, same bytes.
    const byTagDir = `${work.path}/pulled-tag`;
    const byDigestDir = `${work.path}/pulled-digest`;
    await skopeo(["copy", "--src-tls-verify=false", ref, `oci:${byTagDir}:pulled`], work.path);
    await skopeo(
      [
        "copy",
        "--src-tls-verify=false",
        `docker://${instance.host}/e2e/skopeo@${image.manifest.digest}`,
        `oci:${byDigestDir}:pulled`,
      ],
      work.path,
    );
    for (const dir of [byTagDir, byDigestDir]) {
      const layout = await readLayout(dir); // also checks every file hashes to its name
      assert.equal(layout.entries.length, 1);
      assert.equal(layout.entries[0]?.digest, image.manifest.digest);
      assert.equal(layout.entries[0]?.mediaType, MEDIA_TYPES.manifest);
      const expected = new Map(
        [image.manifest, ...image.blobs].map((b) => [b.digest, b.size] as const),
      );
      assert.deepEqual(layout.blobs, expected);
      for (const blob of image.blobs) {
        assert.ok((await readLayoutBlob(dir, blob.digest)).equals(blob.data), blob.digest);
      }
    }
  });

  it("copies a two-platform index with --all, keeping the index digest", async () => {
    const src = `${work.path}/multi-src`;
    const built = await writeIndexLayout(
      src,
      [
        {
          platform: { os: "linux", architecture: "amd64" },
          seed: "amd64",
          layers: [[{ path: "arch", content: "amd64\n" }], 200_000],
        },
        {
          platform: { os: "linux", architecture: "arm64", variant: "v8" },
          seed: "arm64",
          layers: [[{ path: "arch", content: "arm64\n" }], 300_000],
        },
      ],
      { tag: "multi", annotations: { "org.opencontainers.image.title": "flotilla-e2e" } },
    );
    const ref = `docker://${instance.host}/e2e/multi:v1`;

    await skopeo(
      ["copy", "--all", "--preserve-digests", "--dest-tls-verify=false", `oci:${src}:multi`, ref],
      work.path,
    );

    const raw = await skopeo(["inspect", "--raw", "--tls-verify=false", ref], work.path);
    assert.equal(sha256(raw.stdout), built.index.digest);
    const index = JSON.parse(raw.stdout) as {
      mediaType: string;
      manifests: { digest: string; platform: { architecture: string } }[];
    };
    assert.equal(index.mediaType, MEDIA_TYPES.index);
    assert.deepEqual(
      index.manifests.map((m) => [m.platform.architecture, m.digest]),
      built.images.map((img) => [img.platform.architecture, img.manifest.digest]),
    );

    // The index by tag over HTTP, then each child manifest by digest.
    const byTag = await http(`${instance.url}/v2/e2e/multi/manifests/v1`, {
      headers: { Accept: ACCEPT_ALL_MANIFESTS },
    });
    assert.equal(byTag.status, 200);
    assert.equal(byTag.headers.get("content-type"), MEDIA_TYPES.index);
    assert.equal(byTag.headers.get("docker-content-digest"), built.index.digest);
    assert.ok(byTag.body.equals(built.index.data));
    for (const image of built.images) {
      const child = await http(`${instance.url}/v2/e2e/multi/manifests/${image.manifest.digest}`, {
        headers: { Accept: ACCEPT_ALL_MANIFESTS },
      });
      assert.equal(child.status, 200, `GET child ${image.platform.architecture}`);
      assert.equal(child.headers.get("content-type"), MEDIA_TYPES.manifest);
      assert.equal(child.headers.get("docker-content-digest"), image.manifest.digest);
      assert.ok(child.body.equals(image.manifest.data));
      for (const blob of image.blobs) {
        const res = await http(`${instance.url}/v2/e2e/multi/blobs/${blob.digest}`);
        assert.equal(res.status, 200);
        assert.equal(sha256(res.body), blob.digest);
      }
    }

    // Pull everything back: the same index, every child and blob, byte for byte.
    const back = `${work.path}/multi-back`;
    await skopeo(
      ["copy", "--all", "--preserve-digests", "--src-tls-verify=false", ref, `oci:${back}:m`],
      work.path,
    );
    const layout = await readLayout(back);
    assert.equal(layout.entries[0]?.digest, built.index.digest);
    assert.equal(layout.entries[0]?.mediaType, MEDIA_TYPES.index);
    const expected = new Map([built.index, ...built.blobs].map((b) => [b.digest, b.size] as const));
    assert.deepEqual(layout.blobs, expected);

    // A single-platform pull picks the arm64 child out of the index.
    const arm = `${work.path}/multi-arm64`;
    await skopeo(
      [
        "--override-arch",
        "arm64",
        "--override-variant",
        "v8",
        "copy",
        "--src-tls-verify=false",
        ref,
        `oci:${arm}:arm`,
      ],
      work.path,
    );
    const armLayout = await readLayout(arm);
    const armImage = built.images[1];
    assert.ok(armImage);
    assert.equal(armLayout.entries[0]?.digest, armImage.manifest.digest);
    assert.deepEqual(
      armLayout.blobs,
      new Map([armImage.manifest, ...armImage.blobs].map((b) => [b.digest, b.size] as const)),
    );
  });
});
