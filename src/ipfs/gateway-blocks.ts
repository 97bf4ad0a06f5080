/**
 * Blocks from peers' trustless gateways (`GET /ipfs/<cid>?format=raw`): plain HTTP, several
 * requests at once, each block checked against its CID before use. Every fetch goes through the
 * guarded fetcher, so `config.outbound` applies; a configured peer is one the operator named, so
 * its gateway may be on a private or loopback address even when other peers' may not.
 */
import type { CID } from "multiformats/cid";
import type { Logger } from "../log/index.ts";
import type { GuardedFetcher } from "../net/index.ts";
import { blockMatches } from "./blockstore.ts";
import type { PeerGateway } from "./gateway-urls.ts";

/** Larger than any block Flotilla makes (1 MiB leaves, dag-pb nodes of 1024 links). */
const maxBlockBytes = 2 << 20;
const rawType = "application/vnd.ipld.raw";

export interface GatewayBlocksDeps {
  /** Gateways of the connected peers. */
  gateways(signal?: AbortSignal): Promise<PeerGateway[]>;
  /** Whether the operator configured this peer (FLOTILLA_PEERS). */
  isConfigured(peerId: string): boolean;
  /** For configured peers: private and loopback addresses allowed. */
  configuredFetcher: GuardedFetcher;
  /** For every other peer: `config.outbound` as it is. */
  fetcher: GuardedFetcher;
  log: Logger;
}

/** One file's worth of block fetches: gateways that fail are dropped for the rest of it. */
export type GatewaySession = (cid: CID, signal: AbortSignal) => Promise<Uint8Array | undefined>;

/** A session getter: resolves a verified block, or undefined (then ask bitswap). */
export function gatewaySession(deps: GatewayBlocksDeps): GatewaySession {
  let gateways: Promise<PeerGateway[]> | undefined;
  let next = 0;
  const log = deps.log.child({ category: "ipfs.gateway-fetch" });
  return async (cid, signal) => {
    gateways ??= deps.gateways(signal).catch(() => []);
    const list = await gateways;
    // Round robin spreads the blocks of a file over every peer that has them.
    while (list.length > 0) {
      const gateway = list[next++ % list.length] as PeerGateway;
      const bytes = await fetchBlock(deps, gateway, cid, signal).catch((err: unknown) => {
        if (signal.aborted) throw err;
        log.debug({ peer: gateway.peerId, cid: cid.toString(), err: String(err) }, "no block");
        return undefined;
      });
      if (bytes) return bytes;
      // A gateway that lacks one block of a file, or sends a wrong one, is not asked again.
      const at = list.indexOf(gateway);
      if (at >= 0) list.splice(at, 1);
    }
    return undefined;
  };
}

async function fetchBlock(
  deps: GatewayBlocksDeps,
  gateway: PeerGateway,
  cid: CID,
  signal: AbortSignal,
): Promise<Uint8Array | undefined> {
  const fetcher = deps.isConfigured(gateway.peerId) ? deps.configuredFetcher : deps.fetcher;
  const url = new URL(`ipfs/${cid}?format=raw`, gateway.url).href;
  const answer = await fetcher.fetchDocument(url, {
    headers: { accept: rawType },
    maxBytes: maxBlockBytes,
    signal,
  });
  if (!answer.ok) throw new Error(`${answer.reason}: ${answer.message}`);
  if (answer.status !== 200) return undefined;
  if (!blockMatches(cid, answer.bytes)) throw new Error("block does not match its CID");
  return answer.bytes;
}
