/**
 * The IPFS node inside the Flotilla process: Helia (light) with libp2p over TCP, noise, yamux,
 * identify and bitswap. By default it listens on every interface at a free port and talks only to
 * the configured peers; public bootstrap and the DHT are opt-in (`publicNetwork`).
 */
import { withBitswap } from "@helia/bitswap";
import { withLibp2pLight } from "@helia/libp2p";
import { identify } from "@libp2p/identify";
import type { PeerId } from "@libp2p/interface";
import { noise } from "@libp2p/noise";
import { ping } from "@libp2p/ping";
import { tcp } from "@libp2p/tcp";
import { yamux } from "@libp2p/yamux";
import { type Multiaddr, multiaddr } from "@multiformats/multiaddr";
import { FsDatastore } from "datastore-fs";
import { createHeliaLight } from "helia";
import type { Blockstore } from "interface-blockstore";
import type { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import type { Logger } from "../log/index.ts";
import { answerRepeatedWants } from "./bitswap-rewants.ts";
import { type DigestResolver, lookupDigest, serveDigestLookups } from "./digest-lookup.ts";
import { contiguous, fetchFile } from "./fetch.ts";
import { createGatewayBlocks, type GatewaySession } from "./gateway-blocks.ts";
import { serveGatewayUrl } from "./gateway-urls.ts";

/** Kubo's default bootstrap peers, dialled only when `publicNetwork` is on. */
const publicBootstrappers = [
  "/dnsaddr/bootstrap.libp2p.io/p2p/QmNnooDu7bfjPFoTZYxMNLWUQJyrVwtbZg5gBMjTezGAJN",
  "/dnsaddr/bootstrap.libp2p.io/p2p/QmbLHAnMoJPWSCR5Zhtx6BHJX9KiKNN6tpvbUcqanj75Nb",
  "/dnsaddr/bootstrap.libp2p.io/p2p/QmcZf59bWwK5XFi76CZX8cbJ4BhTzzA3gU1ZjYZcYW3dwt",
  "/ip4/104.131.131.82/tcp/4001/p2p/QmaCpDMGvV2BGHeYERUEnRQAwe3N8SzbUtfsmvsqQLuvuJ",
];

/**
 * A paused yamux stream still receives up to one window of data, and yamux aborts the stream if
 * that overflows its read buffer; with the defaults (16 MiB window, 4 MiB buffer) bitswap messages
 * carrying 1 MiB blocks got dropped under load and their wants were never answered.
 */
const yamuxStreamOptions = { maxStreamWindowSize: 8 << 20, maxReadBufferLength: 16 << 20 };

export class BlockUnavailableError extends Error {
  constructor(cid: CID, timeoutMs: number) {
    super(
      timeoutMs === 0
        ? `no peer is connected to send block ${cid}`
        : `no peer sent a valid block ${cid} within ${timeoutMs} ms`,
    );
    this.name = "BlockUnavailableError";
  }
}

export interface IpfsNodeOptions {
  /** Serves our blocks; a ZeroCopyBlockstore, so fetched leaves can pass through unstored. */
  blockstore: Blockstore;
  /** Where the node keeps its identity key and peer records. */
  datastoreDir: string;
  /** Listen multiaddrs (default: every IPv4 interface, a free TCP port). */
  listen?: string[];
  /** Multiaddrs of peers to stay connected to. */
  peers?: string[];
  /** Join the public IPFS network: bootstrap peers and the Amino DHT. */
  publicNetwork?: boolean;
  logger: Logger;
  /** How often to redial configured peers that are not connected (default 10 s). */
  redialIntervalMs?: number;
  /** Blocks requested ahead while fetching a file (default 16). */
  fetchWindow?: number;
  /** Gives up on a block no peer sent within this time (default 30 s). */
  blockTimeoutMs?: number;
  /** What this node answers when a peer asks for a blob digest's root CID (none: no answers). */
  resolveDigest?: DigestResolver;
  /** Bounds a digest lookup, asking or answering (default 5 s). */
  digestLookupTimeoutMs?: number;
  /** This instance's public base URL, told to peers so they fetch blocks from its gateway. */
  gatewayUrl?: string;
  /**
   * Fetch blocks from peers' gateways over HTTP before asking bitswap, within these outbound
   * rules (`config.outbound`); configured peers may be on private addresses regardless.
   */
  outbound?: { allowPrivateAddresses: boolean; timeoutMs: number };
}

export interface PeerInfo {
  peerId: string;
  /** The address of one open connection to the peer. */
  remoteAddress: string;
}

export interface FetchOptions {
  signal?: AbortSignal;
  /** Keep fetched leaves in the blockstore (default false: the caller stores the blob). */
  keepLeaves?: boolean;
  /** Told of each raw leaf, checked against its CID, in file order. */
  onLeaf?: (cid: CID, length: number) => void;
}

export interface IpfsNode {
  /** This node's peer id, as a string (`12D3Koo…`). */
  readonly peerId: string;
  /** Addresses peers can dial, each ending in `/p2p/<peerId>`. */
  multiaddrs(): string[];
  /** Peer ids of the peers connected now. */
  peers(): string[];
  /** Dials a peer once (configured peers are also redialled in the background). */
  connect(address: string, options?: { signal?: AbortSignal }): Promise<void>;
  /** Streams a file's bytes in order, from local blocks or from peers, each block verified. */
  fetch(cid: CID, options?: FetchOptions): AsyncGenerator<Uint8Array>;
  /**
   * Asks connected peers for the UnixFS root CID of a blob (`sha256:<hex>`); undefined when none
   * knows it in time. Only a hint: check the fetched bytes against the digest. Rejects on a
   * malformed digest without using the network.
   */
  lookupDigest(digest: string, options?: { signal?: AbortSignal }): Promise<CID | undefined>;
  /** The connected peers, with one remote address each. */
  peersInfo(): PeerInfo[];
  stop(): Promise<void>;
}

/** Starts an IPFS node with Flotilla's fixed libp2p stack. */
export async function createIpfsNode(options: IpfsNodeOptions): Promise<IpfsNode> {
  const log = options.logger.child({ category: "ipfs.node" });
  const datastore = new FsDatastore(options.datastoreDir);
  await datastore.open();
  const publicNetwork = options.publicNetwork ?? false;
  // Loaded only for the public network: the DHT alone is about 8 MB of heap that every
  // mark-compact would walk again (a push of 512 MiB sets off a few dozen of them).
  const publicModules = publicNetwork
    ? await Promise.all([import("@libp2p/bootstrap"), import("@libp2p/kad-dht")])
    : undefined;
  const helia = withBitswap(
    withLibp2pLight(createHeliaLight({ blockstore: options.blockstore, datastore }), {
      addresses: { listen: options.listen?.length ? options.listen : ["/ip4/0.0.0.0/tcp/0"] },
      transports: [tcp()],
      connectionEncrypters: [noise()],
      streamMuxers: [yamux({ streamOptions: yamuxStreamOptions })],
      peerDiscovery: publicModules
        ? [publicModules[0].bootstrap({ list: publicBootstrappers })]
        : [],
      services: {
        identify: identify(),
        ping: ping(),
        ...(publicModules
          ? {
              dht: publicModules[1].kadDHT({
                protocol: "/ipfs/kad/1.0.0",
                peerInfoMapper: publicModules[1].removePrivateAddressesMapper,
              }),
            }
          : {}),
      },
    }),
  );
  try {
    await helia.start();
  } catch (error) {
    await datastore.close();
    throw error;
  }
  try {
    answerRepeatedWants(helia as object);
  } catch (err) {
    log.warn({ err: String(err) }, "bitswap may not answer repeated wants");
  }
  const libp2p = helia.libp2p;
  const peerId = libp2p.peerId.toString();
  const digestLookupTimeoutMs = options.digestLookupTimeoutMs ?? 5000;
  if (options.gatewayUrl) {
    await serveGatewayUrl(libp2p, options.gatewayUrl, { logger: options.logger });
  }
  if (options.resolveDigest) {
    await serveDigestLookups(libp2p, options.resolveDigest, {
      logger: options.logger,
      timeoutMs: digestLookupTimeoutMs,
    });
  }
  log.info(
    { peerId, addresses: libp2p.getMultiaddrs().map(String), publicNetwork },
    "IPFS node started",
  );

  const configured = (options.peers ?? []).map((address) => multiaddr(address));
  const isConnected = (address: Multiaddr) => {
    const id = address.getComponents().findLast((part) => part.name === "p2p")?.value;
    if (id) return libp2p.getPeers().some((peer: PeerId) => peer.toString() === id);
    const plain = address.toString();
    return libp2p.getConnections().some((connection) => {
      const remote = connection.remoteAddr.toString();
      return remote === plain || remote.startsWith(`${plain}/p2p/`);
    });
  };
  const unreachable = new Set<string>();
  let dialing = false;
  const dialConfigured = async () => {
    if (dialing) return;
    dialing = true;
    try {
      await Promise.all(
        configured
          .filter((address) => !isConnected(address))
          .map(async (address) => {
            const peer = address.toString();
            try {
              await libp2p.dial(address, { signal: AbortSignal.timeout(10_000) });
              unreachable.delete(peer);
              log.info({ peer }, "connected to peer");
            } catch (err) {
              // Warn once per outage; the redial loop keeps trying quietly.
              if (!unreachable.has(peer))
                log.warn({ peer, err: String(err) }, "peer not reachable");
              unreachable.add(peer);
            }
          }),
      );
    } finally {
      dialing = false;
    }
  };
  await dialConfigured();
  const redial = setInterval(() => void dialConfigured(), options.redialIntervalMs ?? 10_000);
  redial.unref();

  const blockTimeoutMs = options.blockTimeoutMs ?? 30_000;
  const local = helia.blockstore;
  const gateways =
    options.outbound &&
    createGatewayBlocks(libp2p, {
      configured,
      outbound: options.outbound,
      logger: options.logger,
    });
  return {
    peerId,
    multiaddrs: () => libp2p.getMultiaddrs().map(String),
    peers: () => libp2p.getPeers().map(String),
    peersInfo() {
      const byPeer = new Map<string, PeerInfo>();
      for (const connection of libp2p.getConnections()) {
        const id = connection.remotePeer.toString();
        if (connection.status !== "open" || byPeer.has(id)) continue;
        byPeer.set(id, { peerId: id, remoteAddress: connection.remoteAddr.toString() });
      }
      return [...byPeer.values()];
    },
    async connect(address, connectOptions = {}) {
      await libp2p.dial(multiaddr(address), connectOptions);
    },
    fetch(cid, fetchOptions = {}) {
      const getBlockWith =
        (fromGateways: GatewaySession | undefined) =>
        async (block: CID, blockOptions: { signal: AbortSignal }) => {
          const signal = AbortSignal.any([
            blockOptions.signal,
            AbortSignal.timeout(blockTimeoutMs),
          ]);
          // Helia passes these options on to the blockstore's put of a block it got from a peer;
          // `transient` makes ZeroCopyBlockstore check the leaf and keep none of it, since the
          // caller stores the blob itself. Helia has already checked the block against its CID.
          const transient = block.code === raw.code && !fetchOptions.keepLeaves;
          const getOptions = { signal, transient };
          // A leaf being fetched is almost never here already (and asking costs a lookup and two
          // file checks per MiB); a dag-pb node may be, and is small.
          if (
            fromGateways &&
            (block.code === raw.code || !(await options.blockstore.has(block, { signal })))
          ) {
            const bytes = await fromGateways.get(block, signal);
            if (bytes) {
              // Checked against the CID already; kept as a block from bitswap would be.
              if (!transient) await options.blockstore.put(block, contiguous(bytes), getOptions);
              return bytes;
            }
          }
          // With nobody to ask, waiting for the block timeout would only delay the answer.
          if (
            libp2p.getPeers().length === 0 &&
            !(await options.blockstore.has(block, { signal }))
          ) {
            throw new BlockUnavailableError(block, 0);
          }
          const parts: Uint8Array[] = [];
          try {
            for await (const part of local.get(block, getOptions)) parts.push(part);
          } catch (error) {
            if (blockOptions.signal.aborted) throw error;
            if (signal.aborted) throw new BlockUnavailableError(block, blockTimeoutMs);
            throw error;
          }
          return parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts);
        };
      const window = options.fetchWindow ?? 16;
      return (async function* () {
        const done = new AbortController();
        const signal = fetchOptions.signal
          ? AbortSignal.any([fetchOptions.signal, done.signal])
          : done.signal;
        const fromGateways = gateways?.session(cid, signal);
        try {
          yield* fetchFile(getBlockWith(fromGateways), cid, {
            signal: fetchOptions.signal,
            window,
            onLeaf: fetchOptions.onLeaf,
          });
        } finally {
          done.abort();
          fromGateways?.close();
        }
      })();
    },
    lookupDigest(digest, lookupOptions = {}) {
      return lookupDigest(libp2p, digest, {
        signal: lookupOptions.signal,
        timeoutMs: digestLookupTimeoutMs,
      });
    },
    async stop() {
      clearInterval(redial);
      await helia.stop();
      await datastore.close();
      log.info({ peerId }, "IPFS node stopped");
    },
  };
}
