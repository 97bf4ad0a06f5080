/**
 * Namespace quotas with a real client: skopeo's push over the quota is refused with DENIED and the
 * message, the CLI sets and shows quotas through the running instance, and the JSON API agrees.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { flotilla } from "../helpers/cli.ts";
import { admin, type Instance, startInstance } from "../helpers/instance.ts";
import { writeImageLayout } from "../helpers/oci-layout.ts";
import { needs, run, skopeo, tempDir } from "./tools.ts";

const skip = needs("skopeo");
const adminAuth = {
  Authorization: `Basic ${Buffer.from(`${admin.user}:${admin.password}`).toString("base64")}`,
};

describe("namespace quotas with skopeo", { skip, timeout: 300_000 }, () => {
  let instance: Instance;
  let work: { path: string; remove(): Promise<void> };
  const cli = (args: string[]) =>
    flotilla(instance.dataDir, args, undefined, { FLOTILLA_PUBLIC_URL: instance.url });

  before(async () => {
    work = await tempDir("quota");
    instance = await startInstance({ auth: true });
    await run("skopeo", [
      "login",
      "--tls-verify=false",
      "--authfile",
      join(work.path, "auth.json"),
      "-u",
      admin.user,
      "-p",
      admin.password,
      instance.host,
    ]);
  });

  after(async () => {
    await instance?.dispose();
    await work?.remove();
  });

  const push = (layout: string, target: string) =>
    skopeo(
      [
        "copy",
        "--dest-tls-verify=false",
        "--dest-authfile",
        join(work.path, "auth.json"),
        `oci:${layout}:v1`,
        `docker://${instance.host}/${target}`,
      ],
      work.path,
    );

  it("sets a quota from the CLI (through the running instance) and reports it in the API", async () => {
    const set = await cli(["quota", "set", "team", "100KiB"]);
    assert.equal(set.code, 0, set.stderr);
    assert.match(set.stdout, /quota of team: 0 B used of 100 KiB/);
    const res = await fetch(`${instance.url}/api/v1/quotas/team`, { headers: adminAuth });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { namespace: "team", used: 0, limit: 100 * 1024 });
    const anonymous = await fetch(`${instance.url}/api/v1/quotas/team`);
    assert.equal(anonymous.status, 401);
  });

  it("accepts a push under the quota and counts what it stored", async () => {
    const small = join(work.path, "small");
    await writeImageLayout(small, { tag: "v1", seed: "small", layers: [20_000] });
    await push(small, "team/app:small");
    const show = await cli(["quota", "show", "team", "--json"]);
    assert.equal(show.code, 0, show.stderr);
    const usage = JSON.parse(show.stdout) as { used: number; limit: number };
    assert.ok(usage.used > 20_000 && usage.used < 30_000, `used ${usage.used}`);
    assert.equal(usage.limit, 100 * 1024);
  });

  it("refuses a push over the quota with DENIED and says by how much", async () => {
    const big = join(work.path, "big");
    await writeImageLayout(big, { tag: "v1", seed: "big", layers: [150_000] });
    await assert.rejects(push(big, "team/app:big"), (error: Error) => {
      assert.match(error.message, /denied/i);
      assert.match(error.message, /namespace team is over its quota: .* used of 100 KiB/);
      return true;
    });
    const tags = await fetch(`${instance.url}/v2/team/app/tags/list`, {
      headers: adminAuth,
    }).then((r) => r.status);
    assert.ok(tags === 401 || tags === 200, "the registry still answers");
    const list = await cli(["quota", "show"]);
    assert.equal(list.code, 0, list.stderr);
    assert.match(list.stdout, /^NAMESPACE\s+USED\s+QUOTA\s+PERCENT\n/);
    assert.match(list.stdout, /team\s+\S+ KiB\s+100 KiB\s+\d+%/);
  });

  it("refuses bad sizes at the CLI and lifts the quota", async () => {
    const bad = await cli(["quota", "set", "team", "a-lot"]);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /"a-lot" is not a size/);
    const removed = await cli(["quota", "remove", "team"]);
    assert.equal(removed.code, 0, removed.stderr);
    const big = join(work.path, "big");
    await push(big, "team/app:big");
  });
});
