/**
 * Blob sources: where the registry gets the bytes of a blob it should have but lacks (a linked
 * blob whose file is missing, or a blob a repository's manifest references but that was never
 * linked, as in a mirror). Sources are asked in the order they were added; what they send is
 * unverified until the whole blob hashed to its digest, so nothing a source sends is stored, and no
 * client sees a complete-looking response, before that check passed.
 */

/** What the registry asks a source for. */
export interface BlobSourceRequest {
  /** The repository the blob is wanted for (a source may map it to an origin name). */
  repository: string;
  digest: string;
  /** The size the registry expects, when it knows one (from a link or a manifest descriptor). */
  size?: number;
}

/** Bytes a source offers: unverified, to be checked against the digest by the registry. */
export interface BlobSourceStream {
  stream: AsyncIterable<Uint8Array>;
  /** The size the source claims (e.g. an origin's Content-Length); checked, never trusted. */
  size?: number;
  /** Told once the whole stream matched the digest, before the blob is committed. */
  matched?: () => void;
}

export interface BlobSource {
  /** For logs: `ipfs`, `origin`, ... */
  readonly name: string;
  /** Unverified bytes of the blob from elsewhere, or undefined when this source lacks it. */
  open(
    request: BlobSourceRequest,
    options?: { signal?: AbortSignal },
  ): Promise<BlobSourceStream | undefined>;
}
