/**
 * Blocks from peers' trustless gateways: a file as one CAR stream (`GET /ipfs/<root>?format=car`),
 * blocks it cannot give one by one (`?format=raw`), each block checked against its CID before use.
 * Every fetch goes through the guarded fetcher, so `config.outbound` applies; a configured peer is
 * one the operator named, so its gateway may be on a private or loopback address even when other
 * peers' may not.
 */
import type { Libp2p } from "@libp2p/interface";
import type { Multiaddr } from "@multiformats/multiaddr";
import type { CID } from "multiformats/cid";
import type { Logger } from "../log/index.ts";
import { createGuardedFetcher, type GuardedFetcher } from "../net/index.ts";
import { blockMatches } from "./blockstore.ts";
import { CarFeed } from "./car-feed.ts";
import type { BlockBytes } from "./fetch.ts";
import { type PeerGateway, PeerGateways } from "./gateway-urls.ts";

/** Larger than any block Flotilla makes (1 MiB leaves, dag-pb nodes of 1024 links). */
const maxBlockBytes = 2 << 20;
const rawType = "application/vnd.ipld.raw";
const carType = "application/vnd.ipld.car; version=1; order=dfs; dups=y";

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

/**
 * Gateway fetching for a node: the peers' gateway URLs, and fetchers that follow `outbound`
 * (configured peers, which the operator named, may be on private addresses).
 */
export function createGatewayBlocks(
  libp2p: Pick<Libp2p, "getConnections">,
  options: {
    configured: Multiaddr[];
    outbound: { allowPrivateAddresses: boolean; timeoutMs: number };
    logger: Logger;
  },
): { session(root: CID, signal: AbortSignal): GatewaySession } {
  const configuredIds = new Set(
    options.configured.flatMap((address) => {
      const id = address.getComponents().findLast((part) => part.name === "p2p")?.value;
      return id ? [id] : [];
    }),
  );
  const configuredPlain = options.configured.map(String);
  const fetcherOptions = { maxDocumentBytes: maxBlockBytes, userAgent: "Flotilla IPFS" };
  const peers = new PeerGateways(libp2p);
  const deps: GatewayBlocksDeps = {
    gateways: (signal) => peers.list(signal),
    isConfigured: (peer) =>
      configuredIds.has(peer) ||
      libp2p
        .getConnections()
        .some(
          (connection) =>
            connection.remotePeer.toString() === peer &&
            configuredPlain.some((plain) => connection.remoteAddr.toString().startsWith(plain)),
        ),
    fetcher: createGuardedFetcher({}, { ...options.outbound, ...fetcherOptions }),
    configuredFetcher: createGuardedFetcher(
      {},
      { ...options.outbound, ...fetcherOptions, allowPrivateAddresses: true },
    ),
    log: options.logger,
  };
  return { session: (root, signal) => gatewaySession(deps, root, signal) };
}

/**
 * One file's worth of block fetches: the first block asked for (the root) opens a CAR stream of
 * the whole file from the first gateway that has it; blocks it cannot give are fetched one by one
 * from the gateways, round robin, dropping a gateway that lacks a block or sends a wrong one.
 */
export interface GatewaySession {
  /** A verified block, or undefined (then ask bitswap). */
  get(cid: CID, signal: AbortSignal): Promise<BlockBytes | undefined>;
  /** Whether blocks are coming from a CAR stream (or may still: it is not open yet). */
  streaming(): boolean;
  close(): void;
}

/**
 * Starts a session for the file at `root`; `signal` ends it (and the CAR stream) when the file
 * fetch is over.
 */
export function gatewaySession(
  deps: GatewayBlocksDeps,
  root: CID,
  signal: AbortSignal,
): GatewaySession {
  let gateways: Promise<PeerGateway[]> | undefined;
  let feed: Promise<CarFeed | undefined> | undefined;
  let opened: CarFeed | undefined | null = null;
  let next = 0;
  const log = deps.log.child({ category: "ipfs.gateway-fetch" });
  const list = () => {
    gateways ??= deps.gateways(signal).catch(() => []);
    return gateways;
  };
  return {
    async get(cid, blockSignal) {
      feed ??= openFeed(deps, await list(), root, signal, log).then((car) => {
        opened = car;
        return car;
      });
      const fromFeed = await (await feed)?.get(cid);
      if (fromFeed) return fromFeed;
      const remaining = await list();
      // Round robin spreads the blocks of a file over every peer that has them.
      while (remaining.length > 0) {
        const gateway = remaining[next++ % remaining.length] as PeerGateway;
        const bytes = await fetchBlock(deps, gateway, cid, blockSignal).catch((err: unknown) => {
          if (blockSignal.aborted) throw err;
          log.debug({ peer: gateway.peerId, cid: cid.toString(), err: String(err) }, "no block");
          return undefined;
        });
        if (bytes) return bytes;
        // A gateway that lacks one block of a file, or sends a wrong one, is not asked again.
        const at = remaining.indexOf(gateway);
        if (at >= 0) remaining.splice(at, 1);
      }
      return undefined;
    },
    streaming: () => opened === null || (opened !== undefined && !opened.ended),
    close() {
      feed?.then((car) => car?.close()).catch(() => {});
    },
  };
}

/** A CAR stream of the DAG under `root` from the first gateway that answers with one. */
async function openFeed(
  deps: GatewayBlocksDeps,
  gateways: PeerGateway[],
  root: CID,
  signal: AbortSignal,
  log: Logger,
): Promise<CarFeed | undefined> {
  for (const gateway of gateways) {
    const fetcher = deps.isConfigured(gateway.peerId) ? deps.configuredFetcher : deps.fetcher;
    const url = new URL(`ipfs/${root}?format=car&car-dups=y`, gateway.url).href;
    const answer = await fetcher.open(url, { headers: { accept: carType }, signal });
    if (!answer.ok) {
      log.debug({ peer: gateway.peerId, err: answer.message }, "no CAR stream");
      continue;
    }
    if (answer.status !== 200) {
      answer.discard();
      continue;
    }
    return new CarFeed(answer.body);
  }
  return undefined;
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
