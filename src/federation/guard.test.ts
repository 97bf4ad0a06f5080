import assert from "node:assert/strict";
import { test } from "node:test";
import { InboxGuard, isFederationPath } from "./guard.ts";

const inbox = "https://here.example/ap/inbox";
const signed = (keyId: string, body: unknown, headers: Record<string, string> = {}) =>
  new Request(inbox, {
    method: "POST",
    headers: {
      "Content-Type": "application/activity+json",
      Signature: `keyId="${keyId}",algorithm="rsa-sha256",headers="(request-target) host date",signature="x"`,
      ...headers,
    },
    body: JSON.stringify(body),
  });

function guard(overrides: Partial<ConstructorParameters<typeof InboxGuard>[0]> = {}) {
  const signers = new Map<string, string>();
  return {
    signers,
    guard: new InboxGuard({
      maxBytes: 1024,
      perHostPerMinute: 3,
      isBlocked: (host) => host.endsWith("evil.example"),
      signers,
      ...overrides,
    }),
  };
}

test("federation paths are WebFinger, NodeInfo and /ap/", () => {
  for (const path of [
    "/.well-known/webfinger",
    "/.well-known/nodeinfo",
    "/nodeinfo/2.1",
    "/ap/instance",
  ])
    assert.ok(isFederationPath(path), path);
  for (const path of ["/v2/", "/apx", "/api/v1/admin/follows", "/.well-known/other"])
    assert.ok(!isFederationPath(path), path);
});

test("only POSTs to an inbox are checked", async () => {
  const { guard: g } = guard();
  const request = new Request("https://here.example/ap/users/alice");
  assert.equal(await g.check(request, "1.2.3.4"), request);
});

test("a delivery is handed on with its body, and its signer remembered", async () => {
  const { guard: g, signers } = guard();
  const result = await g.check(
    signed("https://there.example/actor#key", {
      id: "https://there.example/a/1",
      actor: "https://there.example/actor",
    }),
    undefined,
  );
  assert.ok(result instanceof Request);
  assert.equal(((await result.json()) as { id: string }).id, "https://there.example/a/1");
  assert.equal(signers.get("https://there.example/a/1"), "https://there.example/actor#key");
});

test("too large: by Content-Length, or by the bytes that actually came", async () => {
  const { guard: g } = guard();
  const big = { id: "x", padding: "x".repeat(2000) };
  const declared = await g.check(signed("https://there.example/k", big), undefined);
  assert.equal((declared as Response).status, 413);
  const body = new ReadableStream({
    start(controller) {
      controller.enqueue(new TextEncoder().encode(JSON.stringify(big)));
      controller.close();
    },
  });
  const chunked = new Request(inbox, { method: "POST", body, duplex: "half" } as RequestInit);
  assert.equal(((await g.check(chunked, "1.2.3.4")) as Response).status, 413);
});

test("each remote host gets its own rate limit", async () => {
  const { guard: g } = guard();
  for (let i = 0; i < 3; i++) {
    const ok = await g.check(
      signed("https://busy.example/k", { id: `https://busy.example/${i}` }),
      undefined,
    );
    assert.ok(ok instanceof Request);
  }
  const limited = (await g.check(
    signed("https://busy.example/k", { id: "x" }),
    undefined,
  )) as Response;
  assert.equal(limited.status, 429);
  assert.equal(limited.headers.get("retry-after"), "60");
  assert.ok(
    (await g.check(signed("https://calm.example/k", { id: "y" }), undefined)) instanceof Request,
  );
});

test("blocked domains are refused by signer or by actor", async () => {
  const { guard: g } = guard();
  const bySigner = (await g.check(
    signed("https://a.evil.example/k", { id: "1" }),
    undefined,
  )) as Response;
  assert.equal(bySigner.status, 403);
  const byActor = (await g.check(
    signed("https://there.example/k", { id: "2", actor: { id: "https://evil.example/actor" } }),
    undefined,
  )) as Response;
  assert.equal(byActor.status, 403);
});

test("a delivery that is not a JSON object is refused with 400", async () => {
  const { guard: g } = guard({ perHostPerMinute: 100 });
  for (const body of ['"&"', "[1,2]", "null", "garbage"]) {
    const request = new Request(inbox, { method: "POST", body });
    assert.equal(((await g.check(request, "1.2.3.4")) as Response).status, 400, body);
  }
});
