/**
 * The whole federated mirror: B follows a repository of A over ActivityPub; A accepts, B mirrors
 * what A has, a later push to A reaches B as a signed Note within seconds, skopeo pulls it from B
 * under `127.0.0.1_<port>/<name>` with the digest A has, and B keeps serving it when A stops.
 */
import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";
import type { Instance } from "../helpers/instance.ts";
import { sha256 } from "../helpers/oci-layout.ts";
import { api, pushImage, startFederated, waitFor } from "./federation-support.ts";
import { ACCEPT_ALL_MANIFESTS, http, needs, skopeo, tempDir } from "./tools.ts";

describe("federated mirror", { skip: needs("skopeo"), timeout: 300_000 }, () => {
  let a: Instance;
  let b: Instance;
  let work: { path: string; remove(): Promise<void> };
  let mirrored: string;

  before(async () => {
    work = await tempDir("federation-mirror");
    a = await startFederated();
    b = await startFederated();
    mirrored = `127.0.0.1_${a.port}/team/app`;
  });

  after(async () => {
    await a?.dispose();
    await b?.dispose();
    await work?.remove();
  });

  const tagsOnB = async () => {
    const res = await http(`${b.url}/v2/${mirrored}/tags/list`);
    return res.status === 200 ? (JSON.parse(res.body.toString()).tags as string[]) : [];
  };
  const digestOnB = async (tag: string) => {
    const res = await http(`${b.url}/v2/${mirrored}/manifests/${tag}`, {
      headers: { Accept: ACCEPT_ALL_MANIFESTS },
    });
    return res.status === 200 ? sha256(res.body) : undefined;
  };

  let v2: string;

  it("follows a repository of A; A's tags are mirrored on Accept", async () => {
    const v1 = await pushImage(a.url, "team/app", "v1");
    const res = await api(b, "POST", "/api/v1/admin/follows", {
      target: `${a.url}/ap/repos/team/app`,
    });
    assert.equal(res.status, 201, await res.text());
    await waitFor("the follow to be accepted and v1 mirrored", async () =>
      (await tagsOnB()).includes("v1"),
    );
    assert.equal(await digestOnB("v1"), v1);
  });

  it("a push to A is pullable from B within seconds", async () => {
    const started = Date.now();
    v2 = await pushImage(a.url, "team/app", "v2", "second");
    await waitFor("v2 on B", async () => (await digestOnB("v2")) === v2, 15_000);
    const seconds = (Date.now() - started) / 1000;
    assert.ok(seconds < 15, `took ${seconds} s`);
    const raw = await skopeo(
      ["inspect", "--raw", "--tls-verify=false", `docker://${b.host}/${mirrored}:v2`],
      work.path,
    );
    assert.equal(sha256(raw.stdout), v2);
    await skopeo(
      [
        "copy",
        "--src-tls-verify=false",
        `docker://${b.host}/${mirrored}:v2`,
        `oci:${work.path}/v2:v2`,
      ],
      work.path,
    );
    const mirrors = (await (await api(b, "GET", "/api/v1/admin/mirrors")).json()) as {
      mirrors: Array<{ localName: string; tags: number; lastClaimAt?: string; lastError?: string }>;
    };
    const status = mirrors.mirrors.find((m) => m.localName === mirrored);
    assert.equal(status?.tags, 2);
    assert.ok(status?.lastClaimAt, "the Note was recorded as a claim");
    assert.equal(status?.lastError, undefined);
  });

  it("B serves the mirrored image after A stops", async () => {
    await a.stop();
    await skopeo(
      [
        "copy",
        "--src-tls-verify=false",
        `docker://${b.host}/${mirrored}:v2`,
        `oci:${work.path}/again:v2`,
      ],
      work.path,
    );
    assert.equal(await digestOnB("v2"), v2);
  });
});
