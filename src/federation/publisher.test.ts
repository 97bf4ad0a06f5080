import assert from "node:assert/strict";
import { afterEach, beforeEach, test } from "node:test";
import { Publisher } from "./publisher.ts";
import { federationHarness, type Harness } from "./test-support.ts";

const digest = (c: string) => `sha256:${c.repeat(64)}`;
const push = (repository: string, tag: string, d: string) => ({
  repository,
  tag,
  digest: d,
  mediaType: "application/vnd.oci.image.manifest.v1+json",
  size: 321,
});
let h: Harness;
let publisher: Publisher;

beforeEach(async () => {
  h = federationHarness();
  publisher = new Publisher(h.core);
  for (const name of ["alice/app", "alice/secret"]) await h.meta.ensureRepository(name);
  h.privateRepositories.add("alice/secret");
  h.core.graph.addFollower("repos/alice/app", {
    followerId: "https://there.example/ap/instance",
    inbox: "https://there.example/ap/inbox/instance",
    sharedInbox: "https://there.example/ap/inbox",
  });
});

afterEach(() => h.close());

function outbox(actor: string): Array<Record<string, unknown>> {
  return h.core.social.outbox(actor, 0, 50).map((json) => JSON.parse(json));
}

test("a first push is a Create, a moved tag an Update of the same Note, a deleted tag a Delete", async () => {
  await publisher.published(push("alice/app", "1.0", digest("a")));
  await publisher.published(push("alice/app", "1.0", digest("a"))); // same digest: nothing new
  await publisher.published(push("alice/app", "1.0", digest("b")));
  await publisher.deleted("alice/app", "1.0");
  const activities = outbox("repos/alice/app").reverse();
  assert.deepEqual(
    activities.map((a) => a.type),
    ["Create", "Update", "Delete"],
  );
  const [created, updated] = activities as Array<{ object: { id: string; content: string } }>;
  assert.equal(created?.object.id, updated?.object.id);
  assert.match(String(updated?.object.content), /docker pull here\.example\/alice\/app:1\.0/);
  // Each carries the repository's Ed25519 proof.
  for (const activity of activities) {
    const proof = activity.proof as { verificationMethod?: string; cryptosuite?: string };
    assert.equal(proof?.cryptosuite, "eddsa-jcs-2022");
    assert.match(
      String(proof?.verificationMethod),
      /^https:\/\/here\.example\/ap\/repos\/alice\/app#/,
    );
  }
  // Deliveries to the follower's shared inbox wait in the queue.
  assert.ok((await h.queue.getDepth()).queued >= 1);
  assert.equal(h.core.social.note("alice/app", "1.0"), undefined);
});

test("private repositories publish nothing", async () => {
  await publisher.published(push("alice/secret", "1.0", digest("c")));
  assert.deepEqual(outbox("repos/alice/secret"), []);
  assert.equal(h.core.social.note("alice/secret", "1.0"), undefined);
  assert.equal((await h.queue.getDepth()).queued, 0);
});

test("registry events drive the publisher, one tag at a time", async () => {
  const detach = publisher.attach(h.events);
  h.events.emit("manifest.pushed", push("alice/app", "2.0", digest("d")));
  h.events.emit("manifest.pushed", push("alice/app", "2.0", digest("e")));
  h.events.emit("manifest.pushed", { ...push("alice/app", "", digest("f")), tag: undefined });
  await new Promise((r) => setTimeout(r, 10));
  await publisher.idle();
  detach();
  assert.deepEqual(
    outbox("repos/alice/app")
      .reverse()
      .map((a) => a.type),
    ["Create", "Update"],
  );
});

test("an index's Note lists its platforms; a CID adds an ipfs:// link", async () => {
  const index = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.index.v1+json",
    manifests: [
      { platform: { os: "linux", architecture: "amd64" } },
      { platform: { os: "linux", architecture: "arm64", variant: "v8" } },
      { platform: { os: "unknown", architecture: "unknown" } },
    ],
  };
  const deps = h.core.deps as { registry?: unknown; cidOf?: unknown };
  deps.registry = {
    events: h.events,
    manifests: { get: async () => ({ bytes: Buffer.from(JSON.stringify(index)) }) },
  };
  deps.cidOf = async () => "bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy";
  await publisher.published({
    ...push("alice/app", "multi", digest("9")),
    mediaType: "application/vnd.oci.image.index.v1+json",
  });
  const [create] = outbox("repos/alice/app") as Array<{
    object: {
      content: string;
      attachment: Array<Record<string, string>>;
      url: Array<{ href: string }>;
    };
  }>;
  assert.match(String(create?.object.content), /linux\/amd64, linux\/arm64\/v8/);
  const hrefs = create?.object.url.map((u) => u.href) ?? [];
  assert.ok(hrefs.includes("ipfs://bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy"));
  const names = JSON.stringify(create?.object.attachment);
  assert.match(names, /platforms/);
  assert.match(names, /bafkreigh2akiscaildcqabsyg3dfr6chu3fgpregiymsck7e7aqa4s52zy/);
});

test("an image's Note names its platform, read from its config", async () => {
  const config = Buffer.from(JSON.stringify({ os: "linux", architecture: "riscv64" }));
  const image = {
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: {
      mediaType: "application/vnd.oci.image.config.v1+json",
      digest: digest("7"),
      size: config.byteLength,
    },
    layers: [],
  };
  const deps = h.core.deps as { registry?: unknown };
  deps.registry = {
    events: h.events,
    manifests: { get: async () => ({ bytes: Buffer.from(JSON.stringify(image)) }) },
    blobs: {
      open: async () => ({
        write: (out: NodeJS.WritableStream) =>
          new Promise<void>((resolve, reject) =>
            out.write(config, (error) => (error ? reject(error) : resolve())),
          ),
      }),
    },
  };
  await publisher.published(push("alice/app", "single", digest("8")));
  const [create] = outbox("repos/alice/app") as Array<{ object: { content: string } }>;
  assert.match(String(create?.object.content), /for linux\/riscv64/);
});
