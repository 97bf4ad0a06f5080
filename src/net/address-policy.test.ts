import assert from "node:assert/strict";
import { test } from "node:test";
import { forbiddenAddressReason, parseIpv6 } from "./address-policy.ts";

const refused: Array<[string, RegExp]> = [
  ["127.0.0.1", /loopback/],
  ["127.255.0.9", /loopback/],
  ["::1", /loopback/],
  ["10.1.2.3", /private/],
  ["172.16.0.1", /private/],
  ["172.31.255.254", /private/],
  ["192.168.1.1", /private/],
  ["fd12:3456::1", /unique local/],
  ["fc00::1", /unique local/],
  ["169.254.169.254", /link-local/],
  ["169.254.0.1", /link-local/],
  ["fe80::1", /link-local/],
  ["fe80::1%eth0", /link-local/],
  ["0.0.0.0", /unspecified/],
  ["::", /unspecified/],
  ["224.0.0.1", /multicast/],
  ["239.255.255.250", /multicast/],
  ["ff02::1", /multicast/],
  ["100.64.0.1", /CGNAT/],
  ["100.127.255.254", /CGNAT/],
  ["255.255.255.255", /reserved/],
  ["::ffff:127.0.0.1", /loopback \(IPv4-mapped\)/],
  ["::ffff:7f00:1", /loopback \(IPv4-mapped\)/],
  ["::ffff:169.254.169.254", /link-local \(IPv4-mapped\)/],
  ["::ffff:a9fe:a9fe", /link-local \(IPv4-mapped\)/],
  ["::ffff:10.0.0.1", /private \(IPv4-mapped\)/],
  ["::ffff:192.168.0.1", /private \(IPv4-mapped\)/],
  ["::ffff:100.64.0.1", /CGNAT.*IPv4-mapped/],
  ["::ffff:0.0.0.0", /unspecified \(IPv4-mapped\)/],
  ["::ffff:224.0.0.1", /multicast \(IPv4-mapped\)/],
  ["64:ff9b::7f00:1", /loopback \(NAT64\)/],
  ["2002:7f00:1::1", /loopback \(6to4\)/],
  ["::127.0.0.1", /loopback \(IPv4-compatible\)/],
  ["[::1]", /loopback/],
  ["not-an-address", /not an IP address/],
];

test("refuses loopback, private, link-local, unspecified, multicast, CGNAT and their IPv6 forms", () => {
  for (const [address, reason] of refused) {
    const got = forbiddenAddressReason(address);
    assert.ok(got, `${address} should be refused`);
    assert.match(got, reason, address);
  }
});

test("allows public addresses", () => {
  for (const address of [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "100.128.0.1",
    "172.32.0.1",
    "169.253.255.255",
    "2606:4700:4700::1111",
    "2001:4860:4860::8888",
    "::ffff:8.8.8.8",
    "64:ff9b::808:808",
  ]) {
    assert.equal(forbiddenAddressReason(address), undefined, address);
  }
});

test("parses IPv6 forms to bytes", () => {
  assert.deepEqual([...(parseIpv6("::1") ?? [])], [...new Array(15).fill(0), 1]);
  assert.deepEqual(
    [...(parseIpv6("::ffff:1.2.3.4") ?? new Uint8Array(16)).subarray(10)],
    [0xff, 0xff, 1, 2, 3, 4],
  );
  assert.equal(parseIpv6("1::2::3"), undefined);
  assert.equal(parseIpv6("1:2:3:4:5:6:7:8:9"), undefined);
  assert.equal(parseIpv6("12345::"), undefined);
});
