/**
 * buildah builds an image from scratch (no network), podman pushes it to a real Flotilla
 * process (OCI and Docker schema 2 formats) and pulls it into an empty storage; the pulled image
 * must have the same manifest digest, config and file contents.
 */
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Instance, startInstance } from "../helpers/instance.ts";
import { MEDIA_TYPES, sha256 } from "../helpers/oci-layout.ts";
import { ACCEPT_ALL_MANIFESTS, buildah, http, needs, podman, skopeo, tempDir } from "./tools.ts";

const skip = needs("podman", "buildah", "skopeo");

interface ImageInspect {
  Id: string;
  Digest: string;
  RepoDigests: string[];
  Config: { Cmd?: string[]; Labels?: Record<string, string> };
}

describe("podman and buildah", { skip, timeout: 300_000 }, () => {
  let instance: Instance;
  let work: { path: string; remove(): Promise<void> };
  let builder: string; // storage where the image is built and pushed from
  let local: string; // local name of the built image
  const payload = `built by buildah at ${new Date().toISOString()}\n`;

  before(async () => {
    work = await tempDir("podman");
    instance = await startInstance();
    builder = join(work.path, "builder");

    const ctx = join(work.path, "context");
    await mkdir(ctx, { recursive: true });
    await writeFile(join(ctx, "payload.txt"), payload);
    await writeFile(join(ctx, "run.sh"), "#!/bin/sh\ncat /payload.txt\n", { mode: 0o755 });

    const container = (await buildah(builder, ["from", "scratch"])).stdout.trim();
    await buildah(builder, ["copy", container, join(ctx, "payload.txt"), "/payload.txt"]);
    await buildah(builder, ["copy", container, join(ctx, "run.sh"), "/run.sh"]);
    await buildah(builder, [
      "config",
      "--cmd",
      "/run.sh",
      "--label",
      "org.example.e2e=podman",
      container,
    ]);
    local = "localhost/flotilla-e2e/podman:built";
    await buildah(builder, ["commit", "--format", "oci", container, local]);
    await buildah(builder, ["rm", container]);
  });

  after(async () => {
    await instance?.dispose();
    await work?.remove();
  });

  async function pushAndPull(tag: string, format: "oci" | "v2s2", manifestType: string) {
    const remote = `${instance.host}/e2e/podman:${tag}`;
    const digestFile = join(work.path, `digest-${tag}`);
    await podman(builder, [
      "push",
      "--tls-verify=false",
      "--format",
      format,
      "--digestfile",
      digestFile,
      local,
      `docker://${remote}`,
    ]);
    const pushed = (await readFile(digestFile, "utf8")).trim();
    assert.match(pushed, /^sha256:[0-9a-f]{64}$/);

    // The registry serves exactly the manifest podman pushed, in the format asked for.
    const manifest = await http(`${instance.url}/v2/e2e/podman/manifests/${tag}`, {
      headers: { Accept: ACCEPT_ALL_MANIFESTS },
    });
    assert.equal(manifest.status, 200);
    assert.equal(manifest.headers.get("content-type"), manifestType);
    assert.equal(manifest.headers.get("docker-content-digest"), pushed);
    assert.equal(sha256(manifest.body), pushed);
    const parsed = JSON.parse(manifest.body.toString("utf8")) as {
      mediaType: string;
      config: { digest: string };
      layers: { digest: string; size: number }[];
    };
    assert.equal(parsed.mediaType, manifestType);
    for (const layer of parsed.layers) {
      const blob = await http(`${instance.url}/v2/e2e/podman/blobs/${layer.digest}`);
      assert.equal(blob.status, 200);
      assert.equal(blob.body.length, layer.size);
      assert.equal(sha256(blob.body), layer.digest);
    }

    // Pull into an empty storage, as another machine would.
    const puller = join(work.path, `puller-${tag}`);
    await podman(puller, ["pull", "--tls-verify=false", remote]);
    const [inspect] = JSON.parse((await podman(puller, ["image", "inspect", remote])).stdout) as [
      ImageInspect,
    ];
    assert.ok(inspect);
    assert.equal(inspect.Digest, pushed);
    assert.ok(inspect.RepoDigests.includes(`${instance.host}/e2e/podman@${pushed}`));
    assert.equal(`sha256:${inspect.Id}`, parsed.config.digest);
    assert.deepEqual(inspect.Config.Cmd, ["/run.sh"]);
    assert.equal(inspect.Config.Labels?.["org.example.e2e"], "podman");

    // The files made it: mount the pulled image and read them.
    const mountpoint = (await podman(puller, ["image", "mount", remote])).stdout.trim();
    try {
      assert.equal(await readFile(join(mountpoint, "payload.txt"), "utf8"), payload);
      assert.equal(
        await readFile(join(mountpoint, "run.sh"), "utf8"),
        "#!/bin/sh\ncat /payload.txt\n",
      );
    } finally {
      await podman(puller, ["image", "unmount", remote]);
    }

    // Pulling by digest gives the same image.
    await podman(puller, ["pull", "--tls-verify=false", `${instance.host}/e2e/podman@${pushed}`]);
    const [byDigest] = JSON.parse(
      (await podman(puller, ["image", "inspect", `${instance.host}/e2e/podman@${pushed}`])).stdout,
    ) as [ImageInspect];
    assert.equal(byDigest?.Id, inspect.Id);
    return pushed;
  }

  it("pushes and pulls an OCI image with podman", async () => {
    await pushAndPull("oci", "oci", MEDIA_TYPES.manifest);
  });

  it("pushes and pulls a Docker schema 2 image with podman", async () => {
    await pushAndPull("docker", "v2s2", MEDIA_TYPES.dockerManifest);
  });

  it("pushes with buildah; the tag is listed", async () => {
    const remote = `${instance.host}/e2e/podman:buildah`;
    const digestFile = join(work.path, "digest-buildah");
    await buildah(builder, [
      "push",
      "--tls-verify=false",
      "--digestfile",
      digestFile,
      local,
      `docker://${remote}`,
    ]);
    const pushed = (await readFile(digestFile, "utf8")).trim();
    const raw = await skopeo(
      ["inspect", "--raw", "--tls-verify=false", `docker://${remote}`],
      work.path,
    );
    assert.equal(sha256(raw.stdout), pushed);

    const tags = await http(`${instance.url}/v2/e2e/podman/tags/list`);
    assert.equal(tags.status, 200);
    const list = JSON.parse(tags.body.toString("utf8")) as { name: string; tags: string[] };
    assert.equal(list.name, "e2e/podman");
    assert.ok(list.tags.includes("buildah"), `tags: ${list.tags.join(",")}`);
  });
});
