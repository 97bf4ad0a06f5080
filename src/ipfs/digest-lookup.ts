/**
 * `/flotilla/digest-cid/1.0.0`: asks connected peers for the UnixFS root CID of a blob digest.
 *
 * A blob over 1 MiB is a DAG whose root only an instance that imported it knows, so a node pulling
 * by CID asks its peers. One stream per question: the asker writes one length-prefixed message
 * (the `sha256:<64 hex>` digest, UTF-8) and closes its write end; the answerer writes one
 * length-prefixed message, the root CID as a string or an empty message for "not found", and
 * closes. The answer is only a hint (the caller checks the fetched bytes against the digest), so
 * anything malformed, oversized, slow or of the wrong kind counts as no answer.
 */
import { setMaxListeners } from "node:events";
import * as dagPb from "@ipld/dag-pb";
import type { Connection, Libp2p, Stream } from "@libp2p/interface";
import { lpStream } from "@libp2p/utils";
import { CID } from "multiformats/cid";
import * as raw from "multiformats/codecs/raw";
import { sha256 } from "multiformats/hashes/sha2";
import type { Logger } from "../log/index.ts";
import { cidFromSha256Digest } from "./importer.ts";

export const digestLookupProtocol = "/flotilla/digest-cid/1.0.0";

/** A request is 71 bytes; anything longer than this is refused before it is buffered. */
const maxRequestBytes = 128;
/** A CIDv1 sha2-256 in base32 is 59 characters; leave room for other bases, no more. */
const maxResponseBytes = 256;
const defaultTimeoutMs = 5000;
const defaultMaxPeers = 64;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

export class InvalidDigestError extends Error {
  constructor(digest: string) {
    super(`not a sha256 digest: ${JSON.stringify(digest.slice(0, 100))}`);
    this.name = "InvalidDigestError";
  }
}

/** What a node answers from: the root CID it recorded for a blob digest. */
export type DigestResolver = (digest: string) => Promise<CID | undefined>;

/** The parts of libp2p the protocol uses. */
export type DigestLookupHost = Pick<Libp2p, "handle" | "getConnections" | "peerStore">;

/** Whether a string is a canonical `sha256:<64 lowercase hex>` digest. */
export function isSha256Digest(digest: string): boolean {
  return digest.length === 71 && /^sha256:[a-f0-9]{64}$/.test(digest);
}

/**
 * Whether a CID can be the root of this digest's blob under Flotilla's import settings: dag-pb
 * with a sha2-256 multihash, or the raw block whose multihash is the digest itself.
 */
export function isPlausibleRoot(digest: string, cid: CID): boolean {
  if (cid.multihash.code !== sha256.code || cid.multihash.digest.length !== 32) return false;
  if (cid.code === dagPb.code) return true;
  return cid.code === raw.code && cid.equals(cidFromSha256Digest(digest));
}

export interface ServeDigestLookupsOptions {
  logger: Logger;
  /** Time a peer gets to send its question and take the answer (default 5 s). */
  timeoutMs?: number;
}

/** Answers peers' digest lookups from `resolve`. */
export async function serveDigestLookups(
  host: Pick<Libp2p, "handle">,
  resolve: DigestResolver,
  options: ServeDigestLookupsOptions,
): Promise<void> {
  const log = options.logger.child({ category: "ipfs.digest-lookup" });
  const timeoutMs = options.timeoutMs ?? defaultTimeoutMs;
  await host.handle(digestLookupProtocol, async (stream, connection) => {
    const signal = AbortSignal.timeout(timeoutMs);
    const peer = connection.remotePeer.toString();
    try {
      const messages = lpStream(stream, {
        maxDataLength: maxRequestBytes,
        maxBufferSize: maxRequestBytes * 2,
      });
      const digest = decoder.decode((await messages.read({ signal })).subarray());
      if (!isSha256Digest(digest)) throw new InvalidDigestError(digest);
      let root: CID | undefined;
      try {
        root = await untilAborted(resolve(digest), signal);
      } catch (err) {
        if (signal.aborted) throw err;
        log.warn({ digest, err: String(err) }, "digest lookup failed locally");
      }
      const answer = root && isPlausibleRoot(digest, root) ? root.toString() : "";
      await messages.write(encoder.encode(answer), { signal });
      await stream.close({ signal });
      log.debug({ peer, digest, found: answer !== "" }, "answered digest lookup");
    } catch (err) {
      log.debug({ peer, err: String(err) }, "dropped digest lookup");
      stream.abort(asError(err));
    }
  });
}

export interface LookupDigestOptions {
  signal?: AbortSignal;
  /** Gives up on peers that have not answered within this time (default 5 s). */
  timeoutMs?: number;
  /** Asks at most this many peers (default 64). */
  maxPeers?: number;
}

/**
 * Asks the connected peers in parallel for the root CID of a blob digest. Resolves with the first
 * plausible answer, or undefined once every peer said no or the timeout passed. Rejects when the
 * digest is not a sha256 digest (before any network use) or when `options.signal` aborts.
 */
export async function lookupDigest(
  host: DigestLookupHost,
  digest: string,
  options: LookupDigestOptions = {},
): Promise<CID | undefined> {
  if (!isSha256Digest(digest)) throw new InvalidDigestError(digest);
  options.signal?.throwIfAborted();
  const connections = await askablePeers(host, options.maxPeers ?? defaultMaxPeers);
  if (connections.length === 0) return undefined;
  const settled = new AbortController();
  const signals = [settled.signal, AbortSignal.timeout(options.timeoutMs ?? defaultTimeoutMs)];
  if (options.signal) signals.push(options.signal);
  const signal = AbortSignal.any(signals);
  setMaxListeners(Number.POSITIVE_INFINITY, signal);
  try {
    const found = await new Promise<CID | undefined>((resolve) => {
      signal.addEventListener("abort", () => resolve(undefined), { once: true });
      let pending = connections.length;
      for (const connection of connections) {
        askPeer(connection, digest, signal)
          .then((cid) => cid && resolve(cid))
          .catch(() => undefined)
          .finally(() => {
            pending -= 1;
            if (pending === 0) resolve(undefined);
          });
      }
    });
    options.signal?.throwIfAborted();
    return found;
  } finally {
    // Ends the questions still open: the first answer won, or no answer is coming.
    settled.abort();
  }
}

/** One open connection per peer, leaving out peers that identify says lack the protocol. */
async function askablePeers(host: DigestLookupHost, maxPeers: number): Promise<Connection[]> {
  const byPeer = new Map<string, Connection>();
  for (const connection of host.getConnections()) {
    const id = connection.remotePeer.toString();
    if (connection.status === "open" && !byPeer.has(id)) byPeer.set(id, connection);
  }
  const askable: Connection[] = [];
  for (const connection of byPeer.values()) {
    if (askable.length >= maxPeers) break;
    const peer = await host.peerStore.get(connection.remotePeer).catch(() => undefined);
    // Skip a peer only once identify has told us all it speaks (it records AgentVersion): before
    // that the list holds just the protocols negotiated so far.
    const identified = peer?.metadata.has("AgentVersion") ?? false;
    if (!identified || peer?.protocols.includes(digestLookupProtocol)) askable.push(connection);
  }
  return askable;
}

async function askPeer(
  connection: Connection,
  digest: string,
  signal: AbortSignal,
): Promise<CID | undefined> {
  const stream = await connection.newStream(digestLookupProtocol, { signal });
  try {
    const messages = lpStream(stream, {
      maxDataLength: maxResponseBytes,
      maxBufferSize: maxResponseBytes * 2,
    });
    await messages.write(encoder.encode(digest), { signal });
    await stream.close({ signal });
    const answer = decoder.decode((await messages.read({ signal })).subarray());
    releaseWhenClosed(stream);
    if (answer === "") return undefined;
    const cid = CID.parse(answer);
    return isPlausibleRoot(digest, cid) ? cid : undefined;
  } catch (err) {
    stream.abort(asError(err));
    throw err;
  }
}

/** Resets a stream the peer keeps open after answering, so it cannot pile up. */
function releaseWhenClosed(stream: Stream): void {
  if (stream.status !== "open" && stream.status !== "closing") return;
  const timer = setTimeout(() => stream.abort(new Error("peer kept the stream open")), 1000);
  timer.unref();
  stream.addEventListener("close", () => clearTimeout(timer), { once: true });
}

function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  signal.throwIfAborted();
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

function asError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}
