/** `flotilla search` and `flotilla repo` against a running instance's JSON API: results and failures. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { flotilla } from "../helpers/cli.ts";
import { freePort, type Instance, startInstance } from "../helpers/instance.ts";
import { writeImageLayout } from "../helpers/oci-layout.ts";
import { needs, skopeo, tempDir } from "./tools.ts";

const skip = needs("skopeo");

describe("flotilla search and repo", { skip, timeout: 300_000 }, () => {
  let instance: Instance;
  let work: { path: string; remove(): Promise<void> };
  const password = "alice-password-1";
  const cli = (args: string[]) =>
    flotilla(instance.dataDir, args, undefined, { FLOTILLA_PUBLIC_URL: instance.url });
  const fails = async (args: string[], message: RegExp) => {
    const result = await cli(args);
    assert.equal(result.code, 1, `${args.join(" ")}: ${result.stdout}${result.stderr}`);
    assert.match(result.stderr, message);
    assert.doesNotMatch(result.stderr, /\n\s+at .*:\d+:\d+/, "no stack trace");
  };

  before(async () => {
    work = await tempDir("web-cli");
    instance = await startInstance({ auth: true, env: { FLOTILLA_IPFS_ENABLED: "false" } });
    const ok = await flotilla(
      instance.dataDir,
      ["user", "add", "alice", "--password-stdin"],
      `${password}\n`,
    );
    assert.equal(ok.code, 0, ok.stderr);
    const src = join(work.path, "src");
    await writeImageLayout(src, { tag: "v1", seed: "web-cli", layers: [2048] });
    for (const name of ["alice/webapp", "alice/webapp-tools", "alice/hidden-webapp"]) {
      await skopeo(
        [
          "copy",
          "--dest-tls-verify=false",
          "--dest-creds",
          `alice:${password}`,
          `oci:${src}:v1`,
          `docker://${instance.host}/${name}:v1`,
        ],
        work.path,
      );
    }
    assert.equal((await cli(["visibility", "alice/hidden-webapp", "private"])).code, 0);
  });

  after(async () => {
    await instance?.dispose();
    await work?.remove();
  });

  it("finds repositories, best match first, as JSON and as a table", async () => {
    const json = await cli(["search", "webapp", "--json"]);
    assert.equal(json.code, 0, json.stderr);
    const results = JSON.parse(json.stdout) as Array<{ name: string; platforms: string[] }>;
    assert.deepEqual(
      results.map((r) => r.name),
      ["alice/webapp", "alice/webapp-tools"],
    );
    assert.deepEqual(results[0]?.platforms, ["linux/amd64"]);
    const table = await cli(["search", "webapp", "--url", instance.url]);
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^NAME\s+INSTANCE\s+TAGS\s+STARS\s+PUSHED/);
    assert.match(table.stdout, /\nalice\/webapp\s+local\s+1\s+0/);
  });

  it("shows private repositories only with credentials that may pull them", async () => {
    const withCreds = await cli(["search", "hidden", "--json", "--creds", `alice:${password}`]);
    assert.deepEqual(
      (JSON.parse(withCreds.stdout) as Array<{ name: string }>).map((r) => r.name),
      ["alice/hidden-webapp"],
    );
    const without = await cli(["search", "hidden"]);
    assert.equal(without.code, 0);
    assert.equal(without.stdout, "");
    assert.match(without.stderr, /no repositories match "hidden"/);
  });

  it("filters by namespace and platform", async () => {
    const none = await cli(["search", "webapp", "--json", "--platform", "linux/s390x"]);
    assert.deepEqual(JSON.parse(none.stdout), []);
    const ns = await cli(["search", "", "--json", "--namespace", "alice", "--limit", "1"]);
    assert.equal((JSON.parse(ns.stdout) as unknown[]).length, 1);
  });

  it("prints a repository's tags and pull commands", async () => {
    const repo = await cli(["repo", "alice/webapp"]);
    assert.equal(repo.code, 0, repo.stderr);
    assert.match(repo.stdout, new RegExp(`docker pull ${instance.host}/alice/webapp:v1`));
    assert.match(
      repo.stdout,
      /\nTAG\s+DIGEST\s+SIZE\s+PLATFORMS\s+PUSHED\nv1\s+sha256:[0-9a-f]{64}/,
    );
    const json = JSON.parse((await cli(["repo", "alice/webapp", "--json"])).stdout) as {
      tags: Array<{ name: string }>;
    };
    assert.equal(json.tags[0]?.name, "v1");
  });

  it("fails with one readable line: unreachable, refused, missing, invalid", async () => {
    const port = await freePort();
    await fails(["search", "x", "--url", `http://127.0.0.1:${port}`], /cannot reach the instance/);
    await fails(["search", "x", "--url", "not a url"], /not a URL|cannot reach/);
    await fails(["search", "x", "--limit", "0"], /--limit is a whole number/);
    await fails(["search", "x", "--creds", "alice:wrong-password"], /wrong user name.*HTTP 401/);
    await fails(["search", "x", "--creds", "alice"], /--creds is <user>:<password or token>/);
    await fails(["repo", "alice/hidden-webapp"], /not known.*HTTP 404/);
    await fails(["repo", "alice/missing"], /not known.*HTTP 404/);
    await fails(["repo", "../etc"], /invalid|name/i);
  });
});
