/**
 * IPFS as a registry BlobSource: a blob's bytes from peers, by the root CID this instance recorded
 * for its digest, the CID a single-block blob's digest implies, or the CID a peer names when asked
 * with the digest-lookup protocol. Blocks are checked against their CIDs as they arrive; the
 * registry checks the whole against the digest.
 */
import type { CID } from "multiformats/cid";
import type { Logger } from "../log/index.ts";
import type { BlobSource, BlobSourceRequest, BlobSourceStream } from "../registry/index.ts";
import { isSha256Digest } from "./digest-lookup.ts";
import { chunkSize, cidFromSha256Digest } from "./importer.ts";
import type { IpfsNode } from "./node.ts";
import type { CidIndex } from "./types.ts";

/** A blob's leaves, in file order, as a fetch took them (each checked against its CID). */
export type FetchedLeaves = { cid: CID; length: number }[];

export interface IpfsBlobSourceDeps {
  node: Pick<IpfsNode, "fetch" | "lookupDigest">;
  index: Pick<CidIndex, "rootOf">;
  log: Logger;
  /** Told of every fetch that ran to its end and matched the blob's digest. */
  fetched?: (digest: string, root: CID, leaves: FetchedLeaves) => void;
}

/** Finds the CID to fetch a request by; the default asks the index, then the peers. */
export type CidResolver = (
  request: BlobSourceRequest,
  signal?: AbortSignal,
) => Promise<CID | undefined>;

export class IpfsBlobSource implements BlobSource {
  readonly name = "ipfs";
  readonly #deps: IpfsBlobSourceDeps;
  readonly #resolve: CidResolver;

  constructor(deps: IpfsBlobSourceDeps, resolve?: CidResolver) {
    this.#deps = deps;
    this.#resolve = resolve ?? ((request, signal) => this.cidOf(request, signal));
  }

  /** The CID a blob is known by: recorded here, implied by a small digest, or named by a peer. */
  async cidOf(request: BlobSourceRequest, signal?: AbortSignal): Promise<CID | undefined> {
    if (!isSha256Digest(request.digest)) return undefined;
    const indexed = await this.#deps.index.rootOf(request.digest);
    if (indexed) return indexed;
    if (request.size !== undefined && request.size <= chunkSize)
      return cidFromSha256Digest(request.digest);
    return this.#deps.node.lookupDigest(request.digest, { signal });
  }

  async open(
    request: BlobSourceRequest,
    options: { signal?: AbortSignal } = {},
  ): Promise<BlobSourceStream | undefined> {
    const cid = await this.#resolve(request, options.signal);
    if (!cid) return undefined;
    const leaves: FetchedLeaves = [];
    const chunks = this.#deps.node.fetch(cid, {
      signal: options.signal,
      onLeaf: (leaf, length) => leaves.push({ cid: leaf, length }),
    });
    // The first bytes say whether any peer has the content: without them this source lacks it.
    let first: IteratorResult<Uint8Array>;
    try {
      first = await chunks.next();
    } catch (error) {
      this.#deps.log.info(
        { digest: request.digest, cid: cid.toString(), err: String(error) },
        "no peer sent the blob",
      );
      return undefined;
    }
    this.#deps.log.info({ digest: request.digest, cid: cid.toString() }, "fetching from peers");
    let complete = false;
    return {
      stream: prepend(first, chunks, () => {
        complete = true;
      }),
      size: request.size,
      matched: () => {
        if (complete) this.#deps.fetched?.(request.digest, cid, leaves);
      },
    };
  }
}

async function* prepend(
  first: IteratorResult<Uint8Array>,
  rest: AsyncGenerator<Uint8Array>,
  ended: () => void,
): AsyncGenerator<Uint8Array> {
  try {
    if (first.done) return;
    yield first.value;
    yield* rest;
    ended();
  } finally {
    await rest.return(undefined);
  }
}
