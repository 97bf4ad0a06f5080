/**
 * Token authentication with real clients: skopeo and podman log in and push with real credentials,
 * outsiders are refused, private repositories hide, and a revoked token stops working mid-session.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { flotilla } from "../helpers/cli.ts";
import { type Instance, startInstance } from "../helpers/instance.ts";
import { writeImageLayout } from "../helpers/oci-layout.ts";
import { buildah, needs, podman, run, skopeo, tempDir } from "./tools.ts";

const skip = needs("skopeo");

describe("token authentication with real clients", { skip, timeout: 300_000 }, () => {
  let instance: Instance;
  let work: { path: string; remove(): Promise<void> };
  let src: string;
  let digest: string;
  const password = "alice-password-1";

  before(async () => {
    work = await tempDir("auth");
    instance = await startInstance({ auth: true });
    const added = await flotilla(
      instance.dataDir,
      ["user", "add", "alice", "--password-stdin"],
      `${password}\n`,
    );
    assert.equal(added.code, 0, added.stderr);
    src = join(work.path, "src");
    const image = await writeImageLayout(src, { tag: "v1", seed: "auth", layers: [4096, 70_000] });
    digest = image.manifest.digest;
  });

  after(async () => {
    await instance?.dispose();
    await work?.remove();
  });

  const authfile = () => join(work.path, "auth.json");

  it("skopeo login rejects a wrong password and accepts the right one", async () => {
    await assert.rejects(
      run("skopeo", [
        "login",
        "--tls-verify=false",
        "--authfile",
        authfile(),
        "-u",
        "alice",
        "-p",
        "wrong-password",
        instance.host,
      ]),
      /unauthorized|401|invalid username\/password/i,
    );
    const login = await run("skopeo", [
      "login",
      "--tls-verify=false",
      "--authfile",
      authfile(),
      "-u",
      "alice",
      "-p",
      password,
      instance.host,
    ]);
    assert.match(login.stdout + login.stderr, /Login Succeeded/i);
  });

  it("pushes with the login and pulls anonymously from a public repository", async () => {
    await skopeo(
      [
        "copy",
        "--dest-tls-verify=false",
        "--dest-authfile",
        authfile(),
        `oci:${src}:v1`,
        `docker://${instance.host}/alice/app:v1`,
      ],
      work.path,
    );
    const inspected = await skopeo(
      [
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--no-creds",
        `docker://${instance.host}/alice/app:v1`,
      ],
      work.path,
    );
    assert.equal(inspected.stdout.length > 0, true);
    const pulled = join(work.path, "pulled");
    await skopeo(
      [
        "copy",
        "--src-tls-verify=false",
        "--src-no-creds",
        `docker://${instance.host}/alice/app@${digest}`,
        `oci:${pulled}:v1`,
      ],
      work.path,
    );
  });

  it("refuses anonymous pushes and pushes into another user's namespace", async () => {
    await assert.rejects(
      skopeo(
        [
          "copy",
          "--dest-tls-verify=false",
          "--dest-no-creds",
          `oci:${src}:v1`,
          `docker://${instance.host}/alice/anon:v1`,
        ],
        work.path,
      ),
      /unauthorized|authentication required|denied/i,
    );
    const added = await flotilla(
      instance.dataDir,
      ["user", "add", "bob", "--password-stdin"],
      "bob-password-1\n",
    );
    assert.equal(added.code, 0, added.stderr);
    await assert.rejects(
      skopeo(
        [
          "copy",
          "--dest-tls-verify=false",
          "--dest-creds",
          "bob:bob-password-1",
          `oci:${src}:v1`,
          `docker://${instance.host}/alice/bobs:v1`,
        ],
        work.path,
      ),
      /unauthorized|authentication required|denied/i,
    );
  });

  it("hides a private repository from outsiders exactly like a missing one", async () => {
    const set = await flotilla(instance.dataDir, ["visibility", "alice/app", "private"]);
    assert.equal(set.code, 0, set.stderr);
    const anonymous = await skopeo(
      [
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--no-creds",
        `docker://${instance.host}/alice/app:v1`,
      ],
      work.path,
    ).catch((e: Error) => e.message);
    const missing = await skopeo(
      [
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--no-creds",
        `docker://${instance.host}/alice/nothing:v1`,
      ],
      work.path,
    ).catch((e: Error) => e.message);
    const line = (m: string) =>
      /(unauthorized|authentication required|denied|not found|unknown)[^\n]*/i
        .exec(m)?.[0]
        ?.replace(/alice\/(app|nothing)/g, "X") ?? m;
    assert.equal(typeof anonymous, "string");
    assert.equal(line(anonymous as string), line(missing as string));
    const owner = await skopeo(
      [
        "inspect",
        "--raw",
        "--tls-verify=false",
        "--creds",
        `alice:${password}`,
        `docker://${instance.host}/alice/app:v1`,
      ],
      work.path,
    );
    assert.ok(owner.stdout.includes("schemaVersion"));
    await flotilla(instance.dataDir, ["visibility", "alice/app", "public"]);
  });

  it("a personal access token works as a password, and revoking it stops a session at once", async () => {
    const created = await flotilla(instance.dataDir, [
      "token",
      "create",
      "alice",
      "--name",
      "ci",
      "--scope",
      "push",
      "--json",
    ]);
    assert.equal(created.code, 0, created.stderr);
    const { id, token } = (
      JSON.parse(created.stdout) as Array<{ id: string; token: string }>
    )[0] ?? { id: "", token: "" };
    await skopeo(
      [
        "copy",
        "--dest-tls-verify=false",
        "--dest-creds",
        `alice:${token}`,
        `oci:${src}:v1`,
        `docker://${instance.host}/alice/ci:v1`,
      ],
      work.path,
    );

    const basic = `Basic ${Buffer.from(`alice:${token}`).toString("base64")}`;
    const issued = await fetch(
      `${instance.url}/token?service=${instance.host}&scope=repository:alice/ci:pull,push`,
      { headers: { Authorization: basic } },
    );
    const jwt = ((await issued.json()) as { token: string }).token;
    const bearer = { Authorization: `Bearer ${jwt}` };
    assert.equal(
      (await fetch(`${instance.url}/v2/alice/ci/manifests/v1`, { method: "HEAD", headers: bearer }))
        .status,
      200,
    );
    const revoked = await flotilla(instance.dataDir, ["token", "revoke", id]);
    assert.equal(revoked.code, 0, revoked.stderr);
    assert.equal(
      (await fetch(`${instance.url}/v2/alice/ci/manifests/v1`, { method: "HEAD", headers: bearer }))
        .status,
      401,
    );
    await assert.rejects(
      skopeo(
        [
          "copy",
          "--dest-tls-verify=false",
          "--dest-creds",
          `alice:${token}`,
          `oci:${src}:v1`,
          `docker://${instance.host}/alice/ci:v2`,
        ],
        work.path,
      ),
      /unauthorized|authentication required|denied/i,
    );
  });

  it("podman logs in and pushes with real credentials", {
    skip: needs("podman", "buildah"),
  }, async () => {
    const store = join(work.path, "podman");
    const authFile = join(work.path, "podman-auth.json");
    await run("podman", [
      "login",
      "--tls-verify=false",
      "--authfile",
      authFile,
      "-u",
      "alice",
      "-p",
      password,
      instance.host,
    ]);
    const container = (await buildah(store, ["from", "scratch"])).stdout.trim();
    await buildah(store, ["config", "--cmd", "/hello", container]);
    await buildah(store, ["commit", container, "localhost/auth-demo:1"]);
    await podman(store, [
      "push",
      "--tls-verify=false",
      "--authfile",
      authFile,
      "localhost/auth-demo:1",
      `${instance.host}/alice/podman:1`,
    ]);
    const tags = await skopeo(
      ["list-tags", "--tls-verify=false", "--no-creds", `docker://${instance.host}/alice/podman`],
      work.path,
    );
    assert.deepEqual(JSON.parse(tags.stdout).Tags, ["1"]);
  });
});
