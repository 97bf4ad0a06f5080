import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import {
  createTestRegistry,
  expectError,
  pushBlob,
  pushImage,
  putManifest,
  type TestRegistry,
} from "./test-support.ts";

const name = "alice/app";

async function repositoriesOf(res: Response): Promise<string[]> {
  return ((await res.json()) as { repositories: string[] }).repositories;
}

describe("tags list", () => {
  let t: TestRegistry;
  before(async () => {
    t = await createTestRegistry();
    const image = await pushImage(t.app, name, { tag: "v1" });
    // Pushed out of order, so sorting is the server's work.
    for (const tag of ["zeta", "alpha", "Beta", "v2", "10"]) {
      assert.equal((await putManifest(t.app, name, tag, image.bytes)).status, 201);
    }
  });

  const list = async (query = "") => {
    const res = await t.app.request(`/v2/${name}/tags/list${query}`);
    assert.equal(res.status, 200, query);
    assert.match(res.headers.get("Content-Type") ?? "", /^application\/json/);
    return { res, body: (await res.json()) as { name: string; tags: string[] } };
  };

  it("lists every tag, sorted, without a Link header", async () => {
    const { res, body } = await list();
    assert.equal(body.name, name);
    assert.deepEqual(body.tags, ["10", "Beta", "alpha", "v1", "v2", "zeta"]);
    assert.equal(res.headers.get("Link"), null);
  });

  it("pages with n and last, with a next link only while pages are full", async () => {
    const first = await list("?n=2");
    assert.deepEqual(first.body.tags, ["10", "Beta"]);
    assert.equal(
      first.res.headers.get("Link"),
      `</v2/${name}/tags/list?n=2&last=Beta>; rel="next"`,
    );

    const second = await list("?n=2&last=Beta");
    assert.deepEqual(second.body.tags, ["alpha", "v1"]);
    assert.equal(second.res.headers.get("Link"), `</v2/${name}/tags/list?n=2&last=v1>; rel="next"`);

    const partial = await list("?n=4&last=v1");
    assert.deepEqual(partial.body.tags, ["v2", "zeta"]);
    assert.equal(partial.res.headers.get("Link"), null);
  });

  it("follows the Link header through every page", async () => {
    const seen: string[] = [];
    let next: string | undefined = `/v2/${name}/tags/list?n=4`;
    for (let i = 0; next && i < 10; i++) {
      const res = await t.app.request(next);
      seen.push(...((await res.json()) as { tags: string[] }).tags);
      next = /^<([^>]+)>; rel="next"$/.exec(res.headers.get("Link") ?? "")?.[1];
    }
    assert.deepEqual(seen, ["10", "Beta", "alpha", "v1", "v2", "zeta"]);
  });

  it("last alone returns the tags after it; last past the end is empty", async () => {
    assert.deepEqual((await list("?last=v1")).body.tags, ["v2", "zeta"]);
    assert.deepEqual((await list("?last=zzz")).body.tags, []);
  });

  it("n=0 returns no tags and no Link", async () => {
    const { res, body } = await list("?n=0");
    assert.deepEqual(body.tags, []);
    assert.equal(res.headers.get("Link"), null);
  });

  it("n larger than the tag count returns everything without a Link", async () => {
    const { res, body } = await list("?n=100");
    assert.equal(body.tags.length, 6);
    assert.equal(res.headers.get("Link"), null);
  });

  it("an invalid n is 400 PAGINATION_NUMBER_INVALID", async () => {
    for (const n of ["-1", "abc", "1.5", "1e3"]) {
      const res = await t.app.request(`/v2/${name}/tags/list?n=${n}`);
      await expectError(res, 400, "PAGINATION_NUMBER_INVALID");
    }
  });

  it("an unknown repository is 404 NAME_UNKNOWN", async () => {
    const error = await expectError(
      t.app.request("/v2/nobody/here/tags/list"),
      404,
      "NAME_UNKNOWN",
    );
    assert.deepEqual((error.detail as { name: string }).name, "nobody/here");
  });

  it("a repository that only holds blobs lists no tags", async () => {
    await pushBlob(t.app, "blobs/only", "just a blob");
    const res = await t.app.request("/v2/blobs/only/tags/list");
    assert.equal(res.status, 200);
    const body = (await res.json()) as { tags: string[] | null };
    assert.deepEqual(body.tags ?? [], []);
  });

  it("a deleted tag disappears from the list", async () => {
    const own = await createTestRegistry();
    await pushImage(own.app, name, { tag: "keep" });
    await pushImage(own.app, name, { tag: "drop", layerContent: "drop" });
    assert.equal(
      (await own.app.request(`/v2/${name}/manifests/drop`, { method: "DELETE" })).status,
      202,
    );
    const body = (await (await own.app.request(`/v2/${name}/tags/list`)).json()) as {
      tags: string[];
    };
    assert.deepEqual(body.tags, ["keep"]);
  });
});

describe("catalog", () => {
  let t: TestRegistry;
  const repositories = ["zed/app", "alice/app", "alice/app/sub", "bob/tool", "alice/zz"];
  before(async () => {
    t = await createTestRegistry();
    for (const repository of repositories) await pushImage(t.app, repository, { tag: "latest" });
  });

  it("lists every repository, sorted", async () => {
    const res = await t.app.request("/v2/_catalog");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("Link"), null);
    assert.deepEqual(await repositoriesOf(res), [...repositories].sort());
  });

  it("pages with n and last and sets an encoded next Link", async () => {
    const first = await t.app.request("/v2/_catalog?n=2");
    assert.deepEqual(await repositoriesOf(first), ["alice/app", "alice/app/sub"]);
    const link = first.headers.get("Link");
    assert.ok(link, "Link on a full page");
    const target = /^<([^>]+)>; rel="next"$/.exec(link)?.[1];
    assert.ok(target, link);
    const url = new URL(target, "http://localhost");
    assert.equal(url.pathname, "/v2/_catalog");
    assert.equal(url.searchParams.get("n"), "2");
    assert.equal(url.searchParams.get("last"), "alice/app/sub");

    const second = await t.app.request(target);
    assert.deepEqual(await repositoriesOf(second), ["alice/zz", "bob/tool"]);
    const third = await t.app.request("/v2/_catalog?n=2&last=bob/tool");
    assert.deepEqual(await repositoriesOf(third), ["zed/app"]);
    assert.equal(third.headers.get("Link"), null);
  });

  it("n=0 is an empty page; invalid n is PAGINATION_NUMBER_INVALID", async () => {
    const empty = await t.app.request("/v2/_catalog?n=0");
    assert.equal(empty.status, 200);
    assert.deepEqual(await repositoriesOf(empty), []);
    assert.equal(empty.headers.get("Link"), null);
    for (const n of ["-1", "abc"]) {
      await expectError(t.app.request(`/v2/_catalog?n=${n}`), 400, "PAGINATION_NUMBER_INVALID");
    }
  });

  it("an empty registry has an empty catalog", async () => {
    const { app } = await createTestRegistry();
    const res = await app.request("/v2/_catalog");
    assert.equal(res.status, 200);
    assert.deepEqual(await repositoriesOf(res), []);
  });
});
