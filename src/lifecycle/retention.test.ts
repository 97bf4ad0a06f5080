/** Retention policies: patterns, keepLast, keepTags, untaggedDays, dry runs, then GC reclaims. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { pushImage } from "../http/test-support.ts";
import { policyFor, repositoryPattern } from "./retention.ts";
import { hour, lifecycleFixture } from "./test-fixture.ts";
import { formatBytes, parseBytes } from "./types.ts";

const day = 24 * hour;

describe("retention", () => {
  it("matches repository patterns segment by segment", () => {
    assert.equal(repositoryPattern("alice/*").test("alice/app"), true);
    assert.equal(repositoryPattern("alice/*").test("alice/team/app"), false);
    assert.equal(repositoryPattern("alice/**").test("alice/team/app"), true);
    assert.equal(repositoryPattern("*/app").test("bob/app"), true);
    assert.equal(repositoryPattern("a.b/*").test("axb/app"), false, "dots are literal");
    const policies = [{ match: "alice/app", keepLast: 1 }, { match: "alice/*" }];
    assert.equal(policyFor(policies, "alice/app")?.keepLast, 1, "the first match wins");
    assert.equal(policyFor(policies, "bob/app"), undefined);
  });

  it("keeps the newest tags and the matching ones, dry run first, and GC reclaims the rest", async () => {
    const t = await lifecycleFixture({
      retention: [{ match: "alice/*", keepLast: 2, keepTags: "^v\\d+$", untaggedDays: 7 }],
    });
    for (const tag of ["v1", "old-1", "old-2", "new-1", "new-2"]) {
      await pushImage(t.app, "alice/app", { tag, layerContent: tag });
      await new Promise((resolve) => setTimeout(resolve, 2)); // distinct tag times
    }
    await pushImage(t.app, "bob/app", { tag: "old-1", layerContent: "bob" });

    const dry = await t.lifecycle.applyRetention({ dryRun: true });
    assert.deepEqual(
      dry.items
        .filter((i) => i.kind === "tag")
        .map((i) => i.tag)
        .sort(),
      ["old-1", "old-2"],
    );
    assert.equal(dry.manifests, 0, "untagged for less than 7 days");
    assert.equal((await t.meta.resolveTag("alice/app", "old-1")) !== undefined, true, "dry run");

    const run = await t.lifecycle.applyRetention();
    assert.equal(run.tags, 2);
    assert.deepEqual(await t.meta.listTags("alice/app", { limit: 10 }), ["new-1", "new-2", "v1"]);
    assert.deepEqual(await t.meta.listTags("bob/app", { limit: 10 }), ["old-1"], "no policy");

    // A week later the untagged manifests go, and GC takes their blobs.
    t.advance(8 * day);
    const dryLater = await t.lifecycle.applyRetention({ dryRun: true });
    assert.equal(dryLater.manifests, 2);
    const later = await t.lifecycle.applyRetention();
    assert.equal(later.manifests, 2);
    const gc = await t.lifecycle.collect();
    assert.ok(gc.blobs >= 2, `layers of old-1 and old-2 (${gc.blobs})`);
    assert.ok(gc.bytesFreed > 0);
    const runs = await t.lifecycle.runs();
    assert.deepEqual(
      runs.map((r) => [r.kind, r.dryRun]),
      [
        ["gc", false],
        ["retention", false],
        ["retention", true],
        ["retention", false],
        ["retention", true],
      ],
    );
  });

  it("a dry run counts the manifests the tag deletions would leave untagged", async () => {
    const t = await lifecycleFixture({
      retention: [{ match: "**", keepLast: 1, untaggedDays: 0 }],
    });
    await pushImage(t.app, "alice/app", { tag: "a", layerContent: "a" });
    await new Promise((resolve) => setTimeout(resolve, 2));
    await pushImage(t.app, "alice/app", { tag: "b", layerContent: "b" });
    t.advance(hour);
    const dry = await t.lifecycle.applyRetention({ dryRun: true });
    assert.deepEqual(
      dry.items.map((i) => [i.kind, i.tag ?? ""]),
      [
        ["tag", "a"],
        ["manifest", ""],
      ],
    );
    assert.deepEqual(await t.meta.listTags("alice/app", { limit: 10 }), ["a", "b"]);
  });
});

describe("the schedule", () => {
  it("applies retention, then collects, and records both as scheduled runs", async () => {
    const t = await lifecycleFixture({ retention: [{ match: "alice/*", keepLast: 1 }] });
    await pushImage(t.app, "alice/app", { tag: "old", layerContent: "old" });
    await new Promise((resolve) => setTimeout(resolve, 2));
    await pushImage(t.app, "alice/app", { tag: "new", layerContent: "new" });
    t.advance(2 * hour);
    await t.lifecycle.scheduled();
    const runs = await t.lifecycle.runs();
    assert.deepEqual(
      runs.map((r) => [r.kind, r.trigger, r.error]),
      [
        ["gc", "schedule", undefined],
        ["retention", "schedule", undefined],
      ],
    );
    assert.deepEqual(await t.meta.listTags("alice/app", { limit: 10 }), ["new"]);
  });
});

describe("sizes", () => {
  it("parses and prints sizes as operators write them", () => {
    assert.equal(parseBytes("1048576"), 1048576);
    assert.equal(parseBytes("10GiB"), 10 * 1024 ** 3);
    assert.equal(parseBytes("10G"), 10 * 1024 ** 3);
    assert.equal(parseBytes("1.5 GB"), 1.5e9);
    assert.equal(parseBytes("500mib"), 500 * 1024 ** 2);
    for (const bad of ["", "lots", "-1", "1.5", "10 XB", "GiB"])
      assert.equal(parseBytes(bad), undefined, bad);
    assert.equal(formatBytes(512), "512 B");
    assert.equal(formatBytes(10.2 * 1024 ** 3), "10.2 GiB");
    assert.equal(formatBytes(10 * 1024 ** 3), "10 GiB");
  });

  it("leaves exempt repositories (mirrors) alone", async () => {
    const t = await lifecycleFixture({
      retention: [{ match: "**", keepLast: 1 }],
      retentionExempt: (repository) => repository.startsWith("origin.example_5000/"),
    });
    for (const tag of ["a", "b", "c"]) {
      await pushImage(t.app, "alice/app", { tag, layerContent: `local-${tag}` });
      await pushImage(t.app, "origin.example_5000/alice/app", { tag, layerContent: `m-${tag}` });
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    const run = await t.lifecycle.applyRetention();
    const touched = new Set(run.items.map((i) => i.repository));
    assert.deepEqual([...touched], ["alice/app"]);
    assert.equal(run.tags, 2);
    for (const tag of ["a", "b", "c"])
      assert.ok(await t.meta.resolveTag("origin.example_5000/alice/app", tag), tag);
  });
});
