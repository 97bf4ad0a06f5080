/**
 * A client that knows nothing of Flotilla, written against Fedify's own lookup functions,
 * resolves `@alice@host` by WebFinger and dereferences the actor, a repository and a Note.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { verifyObject } from "@fedify/fedify";
import {
  Collection,
  Create,
  lookupObject,
  Note,
  Person,
  PropertyValue,
  Service,
  traverseCollection,
} from "@fedify/vocab";
import { getDocumentLoader } from "@fedify/vocab-runtime";
import { lookupWebFinger } from "@fedify/webfinger";
import { flotilla } from "../helpers/cli.ts";
import type { Instance } from "../helpers/instance.ts";
import { pushImage, startFederated } from "./federation-support.ts";

let a: Instance;
let digest: string;
const plainFetch = globalThis.fetch;
const documentLoader = getDocumentLoader({ allowPrivateAddress: true });
const options = { documentLoader, contextLoader: documentLoader, allowPrivateAddress: true };

before(async () => {
  a = await startFederated();
  const created = await flotilla(
    a.dataDir,
    ["user", "add", "alice", "--password-stdin"],
    "password-123\n",
  );
  assert.equal(created.code, 0, created.stderr);
  digest = await pushImage(a.url, "alice/app", "1.2");
  await pushImage(a.url, "alice/my.tool", "1");
  // WebFinger for `acct:` is HTTPS only; the instance under test speaks plain HTTP on loopback.
  globalThis.fetch = (input, init) => {
    const url = new URL(input instanceof Request ? input.url : String(input));
    if (url.protocol === "https:" && url.host === a.host) url.protocol = "http:";
    return plainFetch(input instanceof Request ? new Request(url, input) : url, init);
  };
});

after(async () => {
  globalThis.fetch = plainFetch;
  await a?.dispose();
});

test("WebFinger resolves @alice@host to her actor", async () => {
  const jrd = await lookupWebFinger(`acct:alice@${a.host}`, { allowPrivateAddress: true });
  assert.equal(jrd?.subject, `acct:alice@${a.host}`);
  const self = jrd?.links?.find((l) => l.rel === "self");
  assert.equal(self?.href, `${a.url}/ap/users/alice`);
  assert.equal(self?.type, "application/activity+json");
});

test("a repository's handle (its name with dots) resolves back to it, as Mastodon requires", async () => {
  for (const [handle, repository] of [
    ["alice.app", "alice/app"],
    ["alice.my.tool", "alice/my.tool"],
  ]) {
    const jrd = await lookupWebFinger(`acct:${handle}@${a.host}`, { allowPrivateAddress: true });
    const self = jrd?.links?.find((l) => l.rel === "self");
    assert.equal(self?.href, `${a.url}/ap/repos/${repository}`);
    const actor = await lookupObject(self?.href ?? "", options);
    assert.ok(actor instanceof Service);
    assert.equal(actor.preferredUsername?.toString(), handle);
  }
  assert.equal(
    await lookupWebFinger(`acct:alice.nothing@${a.host}`, { allowPrivateAddress: true }),
    null,
  );
});

test("the actor, her repository and its Note dereference, with a verifiable proof", async () => {
  const alice = await lookupObject(`@alice@${a.host}`, options);
  assert.ok(alice instanceof Person);
  assert.equal(alice.preferredUsername?.toString(), "alice");
  assert.ok(alice.inboxId?.href.startsWith(a.url));
  assert.ok(alice.publicKeyId, "an RSA key for HTTP signatures");
  const keys = [];
  for await (const key of alice.getAssertionMethods(options)) keys.push(key);
  assert.ok(keys.length >= 1, "an Ed25519 key for proofs");

  // Her namespace links its repositories.
  const featured = await alice.getFeatured(options);
  assert.ok(featured instanceof Collection);
  const repositories = [];
  for await (const item of traverseCollection(featured, options)) repositories.push(item.id?.href);
  assert.deepEqual(repositories, [
    `${a.url}/ap/repos/alice/app`,
    `${a.url}/ap/repos/alice/my.tool`,
  ]);

  const repo = await lookupObject(`${a.url}/ap/repos/alice/app`, options);
  assert.ok(repo instanceof Service);
  assert.equal(repo.name?.toString(), "alice/app");
  assert.equal(repo.attributionId?.href, alice.id?.href);
  const fields = new Map<string, string>();
  for await (const attachment of repo.getAttachments(options))
    if (attachment instanceof PropertyValue)
      fields.set(String(attachment.name), String(attachment.value));
  assert.equal(fields.get("registry"), a.url);
  assert.equal(fields.get("repository"), "alice/app");

  const outbox = await repo.getOutbox(options);
  assert.ok(outbox);
  const activities = [];
  for await (const item of traverseCollection(outbox, options)) activities.push(item);
  const create = activities[0];
  assert.ok(create instanceof Create);
  const noteId = create.objectId;
  assert.ok(noteId);

  const note = await lookupObject(noteId, options);
  assert.ok(note instanceof Note);
  assert.equal(note.attributionId?.href, repo.id?.href);
  const content = note.content?.toString() ?? "";
  assert.match(content, new RegExp(`docker pull ${a.host}/alice/app:1\\.2`));
  // A URL's href is a string, a Link's href a URL.
  const urls = note.urls.map((u) => {
    const href = (u as { href?: string | URL | null }).href;
    return typeof href === "string" ? href : href?.href;
  });
  assert.equal(urls[0], `${a.url}/r/alice/app`, "the repository page comes first");
  assert.ok(urls.includes(`${a.url}/v2/alice/app/manifests/${digest}`));
  const facts = new Map<string, string>();
  for await (const attachment of note.getAttachments(options))
    if (attachment instanceof PropertyValue)
      facts.set(String(attachment.name), String(attachment.value));
  assert.equal(facts.get("tag"), "1.2");
  assert.equal(facts.get("digest"), digest);
  assert.equal(facts.get("mediaType"), "application/vnd.oci.image.manifest.v1+json");

  // The Create carries an Ed25519 object integrity proof by the repository's key.
  const json = await create.toJsonLd({ contextLoader: documentLoader });
  const verified = await verifyObject(Create, json, options);
  assert.ok(verified, "the proof verifies");
  const proofs = [];
  for await (const proof of verified.getProofs(options)) proofs.push(proof);
  assert.equal(
    proofs[0]?.verificationMethodId?.href.startsWith(`${a.url}/ap/repos/alice/app#`),
    true,
  );
});

test("NodeInfo 2.1 is served", async () => {
  const links = (await (await fetch(`${a.url}/.well-known/nodeinfo`)).json()) as {
    links: Array<{ href: string }>;
  };
  const info = (await (await fetch(links.links[0]?.href ?? "")).json()) as {
    version: string;
    software: { name: string };
    protocols: string[];
  };
  assert.equal(info.version, "2.1");
  assert.equal(info.software.name, "flotilla");
  assert.deepEqual(info.protocols, ["activitypub"]);
});

test("hostile or malformed federation requests get 4xx answers, never 500", async () => {
  const get = async (path: string) =>
    (await fetch(`${a.url}${path}`, { headers: { Accept: "application/activity+json" } })).status;
  const expectations: Array<[string, number]> = [
    ["/ap/followers/instance?cursor=99999999999999999999999", 200],
    ["/ap/outbox/instance?cursor=-5", 200],
    ["/ap/likes/repos/alice/app?cursor=zz", 200],
    ["/ap/repos/alice", 404],
    ["/ap/users/nobody", 404],
    ["/ap/notes/not-a-note", 404],
    ["/ap/repos/alice/app/../x", 404],
    ["/.well-known/webfinger", 400],
    ["/.well-known/webfinger?resource=%%%", 400],
    [`/.well-known/webfinger?resource=acct:a.b.c.d.e.f.g.h@${a.host}`, 404],
  ];
  for (const [path, status] of expectations) assert.equal(await get(path), status, path);
  const post = async (path: string, body: string, headers: Record<string, string> = {}) =>
    (await fetch(`${a.url}${path}`, { method: "POST", body, headers })).status;
  assert.equal(await post("/ap/inbox", "garbage"), 400);
  assert.equal(
    await post("/ap/inbox", "[1,2]", { "Content-Type": "application/activity+json" }),
    400,
  );
  assert.equal(await post("/ap/inbox/users/nobody", "{}"), 404);
  // Well formed, but signed with a key that cannot be fetched (nothing listens on port 1).
  const follow = {
    "@context": "https://www.w3.org/ns/activitystreams",
    id: "http://127.0.0.1:1/activities/1",
    type: "Follow",
    actor: "http://127.0.0.1:1/actor",
    object: `${a.url}/ap/instance`,
  };
  const signature = 'keyId="http://127.0.0.1:1/actor#k",headers="date",signature="AAAA"';
  assert.equal(
    await post("/ap/inbox", JSON.stringify(follow), {
      "Content-Type": "application/activity+json",
      Date: new Date().toUTCString(),
      Signature: signature,
    }),
    401,
  );
});
