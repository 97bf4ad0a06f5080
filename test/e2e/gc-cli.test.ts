/**
 * `flotilla gc` as an operator runs it: through the running instance's admin API, and against the
 * data directory when no instance runs. A dry run changes nothing; `--json` is a report to parse.
 */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { flotilla } from "../helpers/cli.ts";
import { freePort, type Instance, startInstance } from "../helpers/instance.ts";

const digestOf = (bytes: Buffer) => `sha256:${createHash("sha256").update(bytes).digest("hex")}`;
const blobFile = (dataDir: string, digest: string) =>
  join(dataDir, "blobs", "sha256", digest.slice(7, 9), digest.slice(7));

async function pushBlob(url: string, repository: string, bytes: Buffer): Promise<string> {
  const digest = digestOf(bytes);
  const res = await fetch(`${url}/v2/${repository}/blobs/uploads/?digest=${digest}`, {
    method: "POST",
    body: bytes,
    headers: { "content-type": "application/octet-stream" },
  });
  assert.equal(res.status, 201, await res.text());
  return digest;
}

async function pushImage(url: string, repository: string, tag: string, seed: string) {
  const config = Buffer.from(JSON.stringify({ architecture: "amd64", os: "linux", seed }));
  const layer = Buffer.from(`layer ${seed}`.repeat(100));
  const descriptor = async (bytes: Buffer, mediaType: string) => ({
    mediaType,
    digest: await pushBlob(url, repository, bytes),
    size: bytes.length,
  });
  const manifest = Buffer.from(
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.manifest.v1+json",
      config: await descriptor(config, "application/vnd.oci.image.config.v1+json"),
      layers: [await descriptor(layer, "application/vnd.oci.image.layer.v1.tar")],
    }),
  );
  const res = await fetch(`${url}/v2/${repository}/manifests/${tag}`, {
    method: "PUT",
    body: manifest,
    headers: { "content-type": "application/vnd.oci.image.manifest.v1+json" },
  });
  assert.equal(res.status, 201, await res.text());
  return digestOf(manifest);
}

interface Report {
  dryRun: boolean;
  blobs: number;
  links: number;
  bytesFreed: number;
  items: Array<{ kind: string; digest: string }>;
}

describe("flotilla gc", { timeout: 120_000 }, () => {
  const env = { FLOTILLA_GC_GRACE_MINUTES: "0", FLOTILLA_IPFS_ENABLED: "false" };
  let instance: Instance;
  let stray: string;
  let image: string;
  const stray2 = Buffer.from("pushed, then abandoned, while no instance runs");

  before(async () => {
    instance = await startInstance({ env, keepData: true });
    image = await pushImage(instance.url, "alice/app", "v1", "kept");
    stray = await pushBlob(instance.url, "alice/app", Buffer.from("abandoned upload"));
  });

  after(async () => {
    await instance?.dispose();
    await import("node:fs/promises").then((fs) =>
      fs.rm(instance.dataDir, { recursive: true, force: true }),
    );
  });

  const cli = (args: string[], url = instance.url) =>
    flotilla(instance.dataDir, args, undefined, { ...env, FLOTILLA_PUBLIC_URL: url });

  it("asks the running instance: a dry run lists what would go and changes nothing", async () => {
    const dry = await cli(["gc", "--dry-run", "--json"]);
    assert.equal(dry.code, 0, dry.stderr);
    const report = JSON.parse(dry.stdout) as Report;
    assert.equal(report.dryRun, true);
    assert.deepEqual(
      report.items.map((i) => [i.kind, i.digest]),
      [
        ["link", stray],
        ["blob", stray],
      ],
    );
    assert.equal(report.bytesFreed, "abandoned upload".length);
    assert.ok(existsSync(blobFile(instance.dataDir, stray)), "still on disk");
    const runs = (await (await fetch(`${instance.url}/api/v1/admin/gc`)).json()) as {
      runs: Array<{ trigger: string; dryRun: boolean }>;
    };
    assert.deepEqual(
      runs.runs.map((r) => [r.trigger, r.dryRun]),
      [["cli", true]],
      "the instance ran it",
    );
  });

  it("collects through the instance and the image still pulls", async () => {
    const text = await cli(["gc"]);
    assert.equal(text.code, 0, text.stderr);
    assert.match(
      text.stdout,
      /^removed 0 manifest\(s\), 1 link\(s\), 1 blob\(s\), 0 unnamed file\(s\), 0 expired upload\(s\); freed 16 B\n/,
    );
    assert.ok(!existsSync(blobFile(instance.dataDir, stray)));
    const res = await fetch(`${instance.url}/v2/alice/app/manifests/v1`, {
      headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
    });
    assert.equal(res.headers.get("docker-content-digest"), image);
    const again = JSON.parse((await cli(["gc", "--json"])).stdout) as Report;
    assert.equal(again.blobs + again.links, 0);
  });

  it("works on the data directory when no instance runs", async () => {
    const abandoned = await pushBlob(instance.url, "bob/app", stray2);
    await instance.stop();
    const port = await freePort(); // nothing listens there
    const dry = await cli(["gc", "--dry-run", "--json"], `http://127.0.0.1:${port}`);
    assert.equal(dry.code, 0, dry.stderr);
    const report = JSON.parse(dry.stdout) as Report;
    assert.deepEqual(
      report.items.map((i) => i.digest),
      [abandoned, abandoned],
    );
    assert.ok(existsSync(blobFile(instance.dataDir, abandoned)), "a dry run deletes nothing");
    const run = await cli(["gc"], `http://127.0.0.1:${port}`);
    assert.equal(run.code, 0, run.stderr);
    assert.match(run.stdout, /1 blob\(s\)/);
    assert.ok(!existsSync(blobFile(instance.dataDir, abandoned)));
    // The instance starts again on the same data, and the image is intact.
    instance = await startInstance({ env, dataDir: instance.dataDir, keepData: true });
    const res = await fetch(`${instance.url}/v2/alice/app/manifests/v1`, {
      headers: { accept: "application/vnd.oci.image.manifest.v1+json" },
    });
    assert.equal(res.status, 200);
  });

  it("fails readably: unknown options, a bad configuration, an instance that refuses", async () => {
    const unknown = await cli(["gc", "--now"]);
    assert.equal(unknown.code, 1);
    assert.match(unknown.stderr, /unknown option '--now'/);
    const badConfig = await flotilla(instance.dataDir, ["gc"], undefined, {
      ...env,
      FLOTILLA_PUBLIC_URL: instance.url,
      FLOTILLA_GC_GRACE_MINUTES: "soon",
    });
    assert.equal(badConfig.code, 2);
    assert.match(badConfig.stderr, /gc\.graceMinutes/);
    // Something that is not the admin API answers at the URL: the CLI says so, and exits 1.
    const elsewhere = await cli(["gc", "--dry-run"], `${instance.url}/v2/nothing-here`);
    assert.equal(elsewhere.code, 1);
    assert.match(elsewhere.stderr, /answered 404/);
    assert.doesNotMatch(elsewhere.stderr, /\n\s+at .*:\d+:\d+/, "no stack trace");
  });
});
