/** The one way Flotilla fetches from other servers (manifests, blobs, remote pages). */

/** A host name resolved to the addresses it may be reached at. */
export type Resolver = (hostname: string) => Promise<Array<{ address: string; family: 4 | 6 }>>;

export interface GuardedFetchOptions {
  /** Let fetches reach loopback, private and link-local addresses (tests, private networks). */
  allowPrivateAddresses: boolean;
  /** Time limit from the first connection to the last header (documents: to the last byte). */
  timeoutMs: number;
  /** Largest document `fetchDocument` reads. */
  maxDocumentBytes: number;
  /** Redirects followed, each one checked again (default 5). */
  maxRedirects?: number;
  /** Sent as `User-Agent`. */
  userAgent?: string;
}

export interface FetchRequest {
  method?: "GET" | "HEAD";
  headers?: Record<string, string>;
  signal?: AbortSignal;
  /** Largest body accepted; a longer one fails with `too-large` (blobs: their expected size). */
  maxBytes?: number;
}

export type FetchFailureReason =
  | "invalid-url"
  | "unsupported-scheme"
  | "forbidden-address"
  | "dns-failed"
  | "too-many-redirects"
  | "timeout"
  | "too-large"
  | "network"
  | "aborted";

/** An expected failure: the remote side or the network, never a bug here. */
export interface FetchFailure {
  ok: false;
  reason: FetchFailureReason;
  message: string;
  url: string;
}

export interface FetchedHead {
  /** Final status after redirects (any status: the caller decides what a 404 or 401 means). */
  status: number;
  /** The URL that answered, after redirects. */
  url: string;
  /** Lower-case header names. */
  headers: Record<string, string>;
}

/** A response whose body streams; iterating it throws `GuardedFetchError` on limits and timeouts. */
export interface FetchedStream extends FetchedHead {
  ok: true;
  contentLength?: number;
  body: AsyncIterable<Uint8Array>;
  /** Drops the connection without reading the body. */
  discard(): void;
}

export interface FetchedDocument extends FetchedHead {
  ok: true;
  bytes: Uint8Array;
}

export interface GuardedFetcher {
  /** Opens a response; the body streams. */
  open(url: string, request?: FetchRequest): Promise<FetchedStream | FetchFailure>;
  /** Reads a whole response of at most `maxBytes` (default `maxDocumentBytes`) within the timeout. */
  fetchDocument(url: string, request?: FetchRequest): Promise<FetchedDocument | FetchFailure>;
  readonly options: Readonly<GuardedFetchOptions>;
}
