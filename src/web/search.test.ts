/** Search: ranking, filters (namespace, platform, signed, instance), visibility, remote results. */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { pushBlob, pushImage, pushIndex } from "../http/test-support.ts";
import { type WebFixture, webFixture } from "./test-fixture.ts";

interface Result {
  name: string;
  instance: string;
  platforms: string[];
  signed: boolean;
  stars: number;
}

async function search(f: WebFixture, query: string, headers: Record<string, string> = {}) {
  const res = await f.app.request(`/api/v1/search?${query}`, { headers });
  assert.equal(res.status, 200, await res.clone().text());
  return ((await res.json()) as { results: Result[] }).results;
}

async function until(check: () => Promise<boolean>): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (await check()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.fail("condition not reached");
}

describe("search", () => {
  let f: WebFixture;

  before(async () => {
    f = await webFixture({ social: true });
    for (const user of ["alice", "bob", "carol"])
      await f.accounts.createUser(user, `${user}-password`);
    await pushImage(f.app, "bob/myapp", { tag: "1.0", layerContent: "b" });
    await pushImage(f.app, "alice/application", { tag: "1.0", layerContent: "a2" });
    await pushImage(f.app, "alice/app", { tag: "1.0", layerContent: "a1" });
    await pushImage(f.app, "carol/tools", { tag: "app-edition", layerContent: "c" });
    f.web.services.store.setAbout("carol/tools", { description: "Tools for every app" });
    // An arm64 image, and a two-platform index.
    const config = await pushBlob(
      f.app,
      "carol/arm",
      '{"architecture":"arm64","os":"linux","variant":"v8"}',
      "application/vnd.oci.image.config.v1+json",
    );
    await pushImage(f.app, "carol/arm", { tag: "latest", config, layerContent: "arm" });
    const child = await pushImage(f.app, "bob/multi", { layerContent: "m" });
    await pushIndex(
      f.app,
      "bob/multi",
      [
        { ...child.descriptor, platform: { os: "linux", architecture: "amd64" } },
        { ...child.descriptor, platform: { os: "unknown", architecture: "unknown" } },
      ],
      { tag: "latest" },
    );
    // A cosign signature for alice/app:1.0.
    const signedDigest = await f.registry.manifests.resolve("alice/app", "1.0");
    await pushImage(f.app, "alice/app", {
      tag: `${signedDigest.digest.replace(":", "-")}.sig`,
      layerContent: "signature",
    });
    // Private: only alice and administrators see it.
    await pushImage(f.app, "alice/secret-app", { tag: "1.0", layerContent: "s" });
    await f.accounts.store.setRepositoryVisibility("alice/secret-app", "private");
    await until(async () =>
      f.web.services.store.repositoryPlatforms("carol/arm").includes("linux/arm64/v8"),
    );
    await until(async () => f.web.services.store.repositoryPlatforms("bob/multi").length > 0);
  });

  it("ranks exact names, then prefixes, then substrings, then descriptions and tags", async () => {
    const names = (await search(f, "q=app")).map((r) => r.name);
    const local = names.filter((n) => !n.startsWith("remote.example/"));
    assert.deepEqual(local.slice(0, 4), [
      "alice/app",
      "alice/application",
      "bob/myapp",
      "carol/tools",
    ]);
    assert.ok(!names.includes("alice/secret-app"), "private repositories stay hidden");
    assert.ok(names.includes("remote.example/zed/app"), "known remote repositories are found");
    // zed/app is an exact match of the repository part: it ranks with alice/app.
    assert.ok(names.indexOf("remote.example/zed/app") < names.indexOf("alice/application"));
  });

  it("breaks ties by stars", async () => {
    await f.social?.star("bob", "alice/application");
    await f.social?.star("carol", "alice/application");
    const names = (await search(f, "q=ap")).map((r) => r.name);
    // alice/app and alice/application are both prefix matches; the starred one wins.
    assert.equal(names[0], "alice/application");
    await f.social?.unstar("bob", "alice/application");
    await f.social?.unstar("carol", "alice/application");
  });

  it("filters by namespace, platform, signature and instance", async () => {
    assert.deepEqual(
      (await search(f, "q=app&namespace=alice")).map((r) => r.name),
      ["alice/app", "alice/application"],
    );
    assert.deepEqual(
      (await search(f, "platform=linux/arm64/v8")).map((r) => r.name),
      ["carol/arm"],
    );
    const amd64 = (await search(f, "platform=linux%2Famd64")).map((r) => r.name);
    assert.ok(amd64.includes("bob/multi") && amd64.includes("alice/app"));
    assert.ok(!amd64.includes("carol/arm"));
    const multi = (await search(f, "q=bob/multi")).find((r) => r.name === "bob/multi");
    assert.deepEqual(multi?.platforms, ["linux/amd64"], "attestation entries are not platforms");
    const signed = await search(f, "signed=1");
    assert.deepEqual(
      signed.map((r) => r.name),
      ["alice/app"],
    );
    assert.equal(signed[0]?.signed, true);
    assert.ok((await search(f, "q=app&instance=local")).every((r) => r.instance === "local"));
    assert.deepEqual(
      (await search(f, "q=app&instance=remote.example")).map((r) => r.name),
      ["remote.example/zed/app"],
    );
  });

  it("counts a cosign signature referrer as a signature", async () => {
    const subject = await f.registry.manifests.resolve("bob/myapp", "1.0");
    await pushImage(f.app, "bob/myapp", {
      layerContent: "sig-referrer",
      artifactType: "application/vnd.dev.cosign.artifact.sig.v1+json",
      subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    });
    const signed = (await search(f, "signed=true")).map((r) => r.name);
    assert.deepEqual(signed.sort(), ["alice/app", "bob/myapp"]);
    const detail = (await (await f.app.request("/api/v1/repositories/bob/myapp")).json()) as {
      tags: Array<{ name: string; signed: boolean }>;
    };
    assert.deepEqual(
      detail.tags.map((t) => [t.name, t.signed]),
      [["1.0", true]],
    );
  });

  it("shows private repositories to those who may pull them", async () => {
    const asAlice = await search(f, "q=secret", f.basic("alice", "alice-password"));
    assert.deepEqual(
      asAlice.map((r) => r.name),
      ["alice/secret-app"],
    );
    assert.deepEqual(await search(f, "q=secret", f.basic("bob", "bob-password")), []);
  });

  it("treats LIKE wildcards and odd input as plain text and clamps the limit", async () => {
    assert.deepEqual(await search(f, "q=%25"), []);
    assert.deepEqual(await search(f, "q=_"), []);
    assert.equal((await search(f, "q=&limit=2")).length, 2);
    assert.ok((await search(f, "q=&limit=-5")).length >= 1);
    const res = await f.app.request(`/api/v1/search?q=${"x".repeat(5000)}`);
    assert.equal(res.status, 200);
  });

  it("refuses wrong credentials with 401 and an OCI error body", async () => {
    const res = await f.app.request("/api/v1/search?q=app", {
      headers: f.basic("alice", "wrong-password"),
    });
    assert.equal(res.status, 401);
    const body = (await res.json()) as { errors: Array<{ code: string }> };
    assert.equal(body.errors[0]?.code, "UNAUTHORIZED");
  });
});
