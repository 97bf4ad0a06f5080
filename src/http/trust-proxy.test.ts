import assert from "node:assert/strict";
import { it } from "node:test";
import { clientAddressResolver } from "./trust-proxy.ts";
import type { HttpContext } from "./types.ts";

function context(peer: string, forwarded?: string): HttpContext {
  return {
    env: { incoming: { socket: { remoteAddress: peer } } },
    req: { header: (name: string) => (name === "x-forwarded-for" ? forwarded : undefined) },
  } as unknown as HttpContext;
}

it("believes X-Forwarded-For only from configured proxies", () => {
  const none = clientAddressResolver(false);
  assert.equal(none(context("10.0.0.9", "6.6.6.6")), "10.0.0.9");

  const listed = clientAddressResolver(["10.0.0.1"]);
  assert.equal(listed(context("::ffff:10.0.0.1", "203.0.113.7, 10.0.0.1")), "203.0.113.7");
  assert.equal(listed(context("10.0.0.2", "6.6.6.6")), "10.0.0.2");
  assert.equal(listed(context("10.0.0.1")), "10.0.0.1");

  const any = clientAddressResolver(true);
  assert.equal(any(context("192.0.2.1", "198.51.100.4")), "198.51.100.4");
});
