/**
 * With `outbound.allowPrivateAddresses` off (the default), Fedify's own fetches refuse loopback,
 * private and link-local targets: following such an actor fails, and a delivery whose key lives
 * there is refused without the instance ever connecting.
 */
import assert from "node:assert/strict";
import { after, before, test } from "node:test";
import { Follow } from "@fedify/vocab";
import type { Instance } from "../helpers/instance.ts";
import { type FakePeer, startFakePeer } from "./federation-peer.ts";
import { api, startFederated } from "./federation-support.ts";

let a: Instance;
let peer: FakePeer;

before(async () => {
  [a, peer] = await Promise.all([
    startFederated({ env: { FLOTILLA_OUTBOUND_ALLOW_PRIVATE_ADDRESSES: "false" } }),
    startFakePeer(),
  ]);
});

after(async () => {
  await Promise.all([a?.dispose(), peer?.close()]);
});

const targets = () => [
  peer.actorId,
  "http://169.254.169.254/latest/meta-data/actor",
  "http://10.0.0.1/actor",
  "http://[::1]:1/actor",
];

test("following an actor on a loopback, link-local or private address is refused", async () => {
  for (const target of targets()) {
    const started = Date.now();
    const res = await api(a, "POST", "/api/v1/admin/follows", { target });
    const body = (await res.json()) as { errors: Array<{ code: string }> };
    assert.equal(res.status, 404, target);
    assert.equal(body.errors[0]?.code, "NAME_UNKNOWN");
    // Refused before connecting: 10.0.0.1 would otherwise hang until the connect timeout.
    assert.ok(Date.now() - started < 5000, `${target} answered in ${Date.now() - started} ms`);
  }
  assert.deepEqual(peer.requests, [], "the instance never contacted the loopback peer");
  const follows = (await (await api(a, "GET", "/api/v1/admin/follows")).json()) as {
    follows: unknown[];
  };
  assert.deepEqual(follows.follows, []);
});

test("a delivery signed by a key on a private address is refused without fetching the key", async () => {
  const follow = (n: number) =>
    new Follow({
      id: new URL(`${peer.url}/activities/follow-${n}`),
      actor: new URL(peer.actorId),
      object: new URL(`${a.url}/ap/instance`),
    });
  const keyIds = [
    peer.keyId,
    "http://169.254.169.254/key#main-key",
    "http://10.0.0.1/key#main-key",
  ];
  for (const [n, keyId] of keyIds.entries()) {
    const started = Date.now();
    const res = await peer.send(`${a.url}/ap/inbox`, follow(n), { keyId });
    assert.equal(res.status, 401, keyId);
    assert.ok(Date.now() - started < 5000, `${keyId} answered in ${Date.now() - started} ms`);
  }
  assert.deepEqual(peer.requests, [], "the instance never fetched the peer's key");
  const followers = (await (
    await fetch(`${a.url}/ap/followers/instance`, {
      headers: { Accept: "application/activity+json" },
    })
  ).json()) as { totalItems: number };
  assert.equal(followers.totalItems, 0);
});
