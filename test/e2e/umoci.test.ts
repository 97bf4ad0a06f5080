/**
 * An image layout made by umoci (init, new, insert, config, unpack/repack) goes to a real
 * Flotilla process and back with skopeo; umoci must then unpack the pulled copy to the same
 * files, proving that every blob and the config came back intact.
 */
import assert from "node:assert/strict";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Instance, startInstance } from "../helpers/instance.ts";
import { readLayout, readLayoutBlob, sha256 } from "../helpers/oci-layout.ts";
import { needs, run, skopeo, tempDir } from "./tools.ts";

const skip = needs("umoci", "skopeo");

interface Stat {
  history: { layer: { digest: string } | null; created_by: string }[];
}

describe("umoci", { skip, timeout: 300_000 }, () => {
  let instance: Instance;
  let work: { path: string; remove(): Promise<void> };

  before(async () => {
    work = await tempDir("umoci");
    instance = await startInstance();
  });

  after(async () => {
    await instance?.dispose();
    await work?.remove();
  });

  const umoci = (...args: string[]) => run("umoci", args);

  it("pushes a umoci-built layout and unpacks the pulled copy to the same files", async () => {
    const layout = join(work.path, "layout");
    const files = join(work.path, "files");
    await mkdir(join(files, "etc"), { recursive: true });
    await writeFile(join(files, "etc", "greeting"), "hello from umoci\n");
    await writeFile(join(files, "data.bin"), Buffer.alloc(512 * 1024, 7));

    await umoci("init", "--layout", layout);
    await umoci("new", "--image", `${layout}:v1`);
    await umoci("insert", "--image", `${layout}:v1`, join(files, "etc"), "/etc");
    await umoci("insert", "--image", `${layout}:v1`, join(files, "data.bin"), "/data.bin");
    await umoci(
      "config",
      "--image",
      `${layout}:v1`,
      "--config.cmd",
      "/bin/greet",
      "--config.env",
      "GREETING=hello",
    );

    const original = await readLayout(layout);
    const manifestDigest = original.entries.find(
      (e) => e.annotations?.["org.opencontainers.image.ref.name"] === "v1",
    )?.digest;
    assert.ok(manifestDigest);
    const stat = JSON.parse(
      (await umoci("stat", "--image", `${layout}:v1`, "--json")).stdout,
    ) as Stat;
    const layerDigests = stat.history.flatMap((h) => (h.layer ? [h.layer.digest] : []));
    assert.equal(layerDigests.length, 2);

    const ref = `docker://${instance.host}/e2e/umoci:v1`;
    await skopeo(["copy", "--dest-tls-verify=false", `oci:${layout}:v1`, ref], work.path);
    const raw = await skopeo(["inspect", "--raw", "--tls-verify=false", ref], work.path);
    assert.equal(sha256(raw.stdout), manifestDigest);

    const pulled = join(work.path, "pulled");
    await skopeo(["copy", "--src-tls-verify=false", ref, `oci:${pulled}:back`], work.path);
    const back = await readLayout(pulled);
    assert.equal(back.entries[0]?.digest, manifestDigest);
    for (const digest of layerDigests) {
      assert.ok(
        (await readLayoutBlob(pulled, digest)).equals(await readLayoutBlob(layout, digest)),
        digest,
      );
    }

    // umoci agrees that the pulled image has the same history and layers...
    const backStat = JSON.parse(
      (await umoci("stat", "--image", `${pulled}:back`, "--json")).stdout,
    ) as Stat;
    assert.deepEqual(
      backStat.history.flatMap((h) => (h.layer ? [h.layer.digest] : [])),
      layerDigests,
    );

    // ...and unpacks it (checking each layer's diff_id) to the very same files and config.
    const bundle = join(work.path, "bundle");
    await umoci("unpack", "--image", `${pulled}:back`, bundle);
    assert.equal(
      await readFile(join(bundle, "rootfs", "etc", "greeting"), "utf8"),
      "hello from umoci\n",
    );
    assert.ok(
      (await readFile(join(bundle, "rootfs", "data.bin"))).equals(Buffer.alloc(512 * 1024, 7)),
    );
    const runtime = JSON.parse(await readFile(join(bundle, "config.json"), "utf8")) as {
      process: { args: string[]; env: string[] };
    };
    assert.deepEqual(runtime.process.args, ["/bin/greet"]);
    assert.ok(runtime.process.env.includes("GREETING=hello"));
  });

  it("repacks a modified bundle; only the new layer is uploaded and the image round-trips", async () => {
    const layout = join(work.path, "layout");
    const bundle = join(work.path, "bundle-v2");
    await umoci("unpack", "--image", `${layout}:v1`, bundle);
    await writeFile(join(bundle, "rootfs", "etc", "version"), "2\n");
    await umoci("repack", "--image", `${layout}:v2`, bundle);

    const before = JSON.parse(
      (await umoci("stat", "--image", `${layout}:v1`, "--json")).stdout,
    ) as Stat;
    const after = JSON.parse(
      (await umoci("stat", "--image", `${layout}:v2`, "--json")).stdout,
    ) as Stat;
    const oldLayers = before.history.flatMap((h) => (h.layer ? [h.layer.digest] : []));
    const newLayers = after.history.flatMap((h) => (h.layer ? [h.layer.digest] : []));
    assert.deepEqual(newLayers.slice(0, oldLayers.length), oldLayers);
    assert.equal(newLayers.length, oldLayers.length + 1);

    const ref = `docker://${instance.host}/e2e/umoci:v2`;
    const push = await skopeo(
      ["--debug", "copy", "--dest-tls-verify=false", `oci:${layout}:v2`, ref],
      work.path,
    );
    // skopeo asks the registry (HEAD) before uploading: blobs from v1 are not sent again.
    const pushLog = push.stdout + push.stderr;
    for (const digest of oldLayers) {
      assert.ok(pushLog.includes(`Skipping blob ${digest} (already present)`), `reused ${digest}`);
    }
    const newLayer = newLayers[newLayers.length - 1] as string;
    assert.ok(!pushLog.includes(`Skipping blob ${newLayer}`), "the new layer is uploaded");

    const pulled = join(work.path, "pulled-v2");
    await skopeo(["copy", "--src-tls-verify=false", ref, `oci:${pulled}:v2`], work.path);
    const out = join(work.path, "bundle-v2-back");
    await umoci("unpack", "--image", `${pulled}:v2`, out);
    assert.equal(await readFile(join(out, "rootfs", "etc", "version"), "utf8"), "2\n");
    assert.equal(
      await readFile(join(out, "rootfs", "etc", "greeting"), "utf8"),
      "hello from umoci\n",
    );
    const tags = await fetch(`${instance.url}/v2/e2e/umoci/tags/list`);
    assert.equal(tags.status, 200);
    const list = (await tags.json()) as { tags: string[] };
    assert.deepEqual([...list.tags].sort(), ["v1", "v2"]);
  });
});
