/** Which client address to believe: X-Forwarded-For only when the peer is a trusted proxy. */
import { remoteAddress } from "./adapter/node.ts";
import type { HttpContext } from "./types.ts";

export function clientAddressResolver(trust: boolean | string[]) {
  const trusted = new Set(Array.isArray(trust) ? trust.map(normalise) : []);
  return (c: HttpContext): string | undefined => {
    const peer = remoteAddress(c);
    const believe = trust === true || (peer !== undefined && trusted.has(normalise(peer)));
    if (!believe) return peer;
    const forwarded = c.req.header("x-forwarded-for")?.split(",")[0]?.trim();
    return forwarded || peer;
  };
}

function normalise(address: string): string {
  return address.startsWith("::ffff:") ? address.slice(7) : address;
}
