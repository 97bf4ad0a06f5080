/** Mirrored manifests over IPFS: the claim's CID fetched from peers, before asking the origin. */
import { CID } from "multiformats/cid";
import type { CidFetcher } from "./manifests.ts";

/** What the mirror needs of the IPFS node. */
export interface CidSource {
  peers(): string[];
  fetch(cid: CID, options?: { signal?: AbortSignal }): AsyncIterable<Uint8Array>;
}

/**
 * A CidFetcher on the IPFS node. Peers are asked only when there are any, and briefly: the origin
 * is the fallback, and a claim should not wait long on a CID nobody near has.
 */
export function ipfsManifestFetcher(node: CidSource, timeoutMs = 5000): CidFetcher {
  return async (text, { maxBytes, signal }) => {
    if (node.peers().length === 0) return undefined;
    let cid: CID;
    try {
      cid = CID.parse(text);
    } catch {
      return undefined;
    }
    const timeout = AbortSignal.timeout(timeoutMs);
    const chunks: Uint8Array[] = [];
    let total = 0;
    for await (const chunk of node.fetch(cid, {
      signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
    })) {
      total += chunk.byteLength;
      if (total > maxBytes) return undefined;
      chunks.push(chunk);
    }
    return Buffer.concat(chunks);
  };
}
