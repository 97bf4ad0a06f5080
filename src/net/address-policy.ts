/**
 * Which IP addresses an outbound fetch may connect to. A remote server names URLs (redirects,
 * manifest links, actor documents); without this check it could make the instance probe its own
 * network or a cloud metadata service.
 */
import { isIPv4, isIPv6 } from "node:net";

type Rule = { network: Uint8Array; prefix: number; reason: string };

const v4Rules: Rule[] = [
  rule4("0.0.0.0/8", "unspecified"),
  rule4("10.0.0.0/8", "private"),
  rule4("100.64.0.0/10", "shared address space (CGNAT)"),
  rule4("127.0.0.0/8", "loopback"),
  rule4("169.254.0.0/16", "link-local"),
  rule4("172.16.0.0/12", "private"),
  rule4("192.0.0.0/24", "reserved"),
  rule4("192.168.0.0/16", "private"),
  rule4("198.18.0.0/15", "reserved"),
  rule4("224.0.0.0/4", "multicast"),
  // Includes the broadcast address 255.255.255.255.
  rule4("240.0.0.0/4", "reserved"),
];

const v6Rules: Rule[] = [
  rule6("::", 128, "unspecified"),
  rule6("::1", 128, "loopback"),
  rule6("fc00::", 7, "unique local"),
  rule6("fe80::", 10, "link-local"),
  rule6("fec0::", 10, "site-local"),
  rule6("ff00::", 8, "multicast"),
  rule6("100::", 64, "reserved"),
];

/**
 * IPv6 forms that carry an IPv4 address, which reaches the IPv4 host: mapped (::ffff:a.b.c.d),
 * translated (::ffff:0:a.b.c.d), compatible (::a.b.c.d), NAT64 (64:ff9b::/96), 6to4 (2002::/16).
 */
const embedded: Array<{ prefix: Uint8Array; length: number; at: number; form: string }> = [
  { prefix: parseIpv6("::ffff:0:0") as Uint8Array, length: 96, at: 12, form: "IPv4-mapped" },
  { prefix: parseIpv6("::ffff:0:0:0") as Uint8Array, length: 96, at: 12, form: "IPv4-translated" },
  { prefix: parseIpv6("64:ff9b::") as Uint8Array, length: 96, at: 12, form: "NAT64" },
  { prefix: parseIpv6("2002::") as Uint8Array, length: 16, at: 2, form: "6to4" },
  { prefix: parseIpv6("::") as Uint8Array, length: 96, at: 12, form: "IPv4-compatible" },
];

/** Why an address must not be fetched from (e.g. "loopback"), or undefined when it may be. */
export function forbiddenAddressReason(address: string): string | undefined {
  const bare = address.replace(/^\[|\]$/g, "").replace(/%.*$/, "");
  if (isIPv4(bare)) return match(parseIpv4(bare) as Uint8Array, v4Rules);
  if (!isIPv6(bare)) return "not an IP address";
  const bytes = parseIpv6(bare);
  if (!bytes) return "not an IP address";
  const own = match(bytes, v6Rules);
  if (own) return own;
  for (const form of embedded) {
    if (!prefixMatches(bytes, form.prefix, form.length)) continue;
    const inner = match(bytes.subarray(form.at, form.at + 4), v4Rules);
    if (inner) return `${inner} (${form.form})`;
  }
  return undefined;
}

function match(bytes: Uint8Array, rules: Rule[]): string | undefined {
  return rules.find((r) => prefixMatches(bytes, r.network, r.prefix))?.reason;
}

function prefixMatches(bytes: Uint8Array, network: Uint8Array, prefix: number): boolean {
  for (let bit = 0; bit < prefix; bit += 8) {
    const take = Math.min(8, prefix - bit);
    const mask = (0xff << (8 - take)) & 0xff;
    const i = bit / 8;
    if (((bytes[i] ?? 0) & mask) !== ((network[i] ?? 0) & mask)) return false;
  }
  return true;
}

function rule4(cidr: string, reason: string): Rule {
  const [net, prefix] = cidr.split("/") as [string, string];
  return { network: parseIpv4(net) as Uint8Array, prefix: Number(prefix), reason };
}

function rule6(net: string, prefix: number, reason: string): Rule {
  return { network: parseIpv6(net) as Uint8Array, prefix, reason };
}

function parseIpv4(text: string): Uint8Array | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = parts.map(Number);
  if (bytes.some((b) => !Number.isInteger(b) || b < 0 || b > 255)) return undefined;
  return Uint8Array.from(bytes);
}

/** The 16 bytes of an IPv6 address (with `::` and a trailing dotted quad), or undefined. */
export function parseIpv6(text: string): Uint8Array | undefined {
  let groups: number[] = [];
  let tail = text;
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  let v4: Uint8Array | undefined;
  if (quad) {
    v4 = parseIpv4(quad[1] as string);
    if (!v4) return undefined;
    tail = text.slice(0, -(quad[1] as string).length);
    if (tail.endsWith(":") && !tail.endsWith("::")) tail = tail.slice(0, -1);
  }
  const words = (part: string) =>
    part === ""
      ? []
      : part.split(":").map((w) => (/^[0-9a-f]{1,4}$/i.test(w) ? parseInt(w, 16) : NaN));
  const total = v4 ? 6 : 8;
  const halves = tail.split("::");
  if (halves.length > 2) return undefined;
  if (halves.length === 2) {
    const head = words(halves[0] as string);
    const rest = words(halves[1] as string);
    if (head.length + rest.length >= total) return undefined;
    groups = [...head, ...new Array(total - head.length - rest.length).fill(0), ...rest];
  } else {
    groups = words(tail);
    if (groups.length !== total) return undefined;
  }
  if (groups.some((g) => Number.isNaN(g))) return undefined;
  const bytes = new Uint8Array(16);
  groups.forEach((g, i) => {
    bytes[i * 2] = g >> 8;
    bytes[i * 2 + 1] = g & 0xff;
  });
  if (v4) bytes.set(v4, 12);
  return bytes;
}
