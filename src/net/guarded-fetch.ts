/**
 * The guarded fetcher: every fetch Flotilla makes itself goes through here. It resolves the host
 * name once, refuses private and special addresses (unless configured), connects to exactly the
 * address it checked (a second DNS answer could point elsewhere: DNS rebinding), follows redirects
 * by hand checking every hop again, and limits sizes and time.
 */
import { lookup } from "node:dns/promises";
import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import { isIP } from "node:net";
import { forbiddenAddressReason } from "./address-policy.ts";
import type {
  FetchedDocument,
  FetchedStream,
  FetchFailure,
  FetchFailureReason,
  FetchRequest,
  GuardedFetcher,
  GuardedFetchOptions,
  Resolver,
} from "./types.ts";

/** Thrown while a streamed body is read: too long, too slow, or cut off. */
export class GuardedFetchError extends Error {
  readonly reason: FetchFailureReason;

  constructor(reason: FetchFailureReason, message: string) {
    super(message);
    this.name = "GuardedFetchError";
    this.reason = reason;
  }
}

export interface GuardedFetchDeps {
  /** Name resolution; tests substitute their own to show that it happens once per hop. */
  resolve?: Resolver;
  /** Why an address is refused; tests let one loopback address stand in for a public server. */
  forbidden?: (address: string) => string | undefined;
}

const redirects = new Set([301, 302, 303, 307, 308]);

const systemResolver: Resolver = async (hostname) =>
  (await lookup(hostname, { all: true, verbatim: true })).map((a) => ({
    address: a.address,
    family: a.family === 6 ? 6 : 4,
  }));

export function createGuardedFetcher(
  deps: GuardedFetchDeps,
  options: GuardedFetchOptions,
): GuardedFetcher {
  const resolve = deps.resolve ?? systemResolver;
  const forbidden = deps.forbidden ?? forbiddenAddressReason;
  const maxRedirects = options.maxRedirects ?? 5;

  const fail = (reason: FetchFailureReason, message: string, url: string): FetchFailure => ({
    ok: false,
    reason,
    message,
    url,
  });

  /** Where `url` may be reached, or why not. */
  async function target(url: URL): Promise<{ address: string; family: 4 | 6 } | FetchFailure> {
    if (url.protocol !== "http:" && url.protocol !== "https:")
      return fail(
        "unsupported-scheme",
        `only http and https are fetched, not ${url.protocol}`,
        url.href,
      );
    const host = url.hostname.replace(/^\[|\]$/g, "");
    let addresses: Array<{ address: string; family: 4 | 6 }>;
    const literal = isIP(host);
    if (literal) addresses = [{ address: host, family: literal === 6 ? 6 : 4 }];
    else {
      try {
        addresses = await resolve(host);
      } catch (error) {
        return fail("dns-failed", `cannot resolve ${host}: ${(error as Error).message}`, url.href);
      }
      if (addresses.length === 0) return fail("dns-failed", `${host} has no address`, url.href);
    }
    if (!options.allowPrivateAddresses) {
      // Every answer is checked: a name with one public and one private address is refused.
      for (const a of addresses) {
        const reason = forbidden(a.address);
        if (reason)
          return fail(
            "forbidden-address",
            `${host} resolves to ${a.address}, a ${reason} address; outbound.allowPrivateAddresses is off`,
            url.href,
          );
      }
    }
    return addresses[0] as { address: string; family: 4 | 6 };
  }

  function send(
    url: URL,
    to: { address: string; family: 4 | 6 },
    request: FetchRequest,
    signal: AbortSignal,
  ): Promise<IncomingMessage> {
    const host = url.hostname.replace(/^\[|\]$/g, "");
    const make = url.protocol === "https:" ? httpsRequest : httpRequest;
    return new Promise((resolvePromise, reject) => {
      const req = make({
        // The checked address itself: no name is looked up again between check and connect.
        host: to.address,
        family: to.family,
        port: url.port || (url.protocol === "https:" ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        method: request.method ?? "GET",
        headers: {
          host: url.host,
          "user-agent": options.userAgent ?? "Flotilla",
          ...request.headers,
        },
        // TLS checks the certificate against the name, as if it had been looked up normally.
        servername: isIP(host) ? undefined : host,
        agent: false,
        signal,
      });
      req.setTimeout(options.timeoutMs, () =>
        req.destroy(
          new GuardedFetchError("timeout", `no data from ${url.host} for ${options.timeoutMs} ms`),
        ),
      );
      req.once("response", resolvePromise);
      req.once("error", reject);
      req.end();
    });
  }

  async function open(
    href: string,
    request: FetchRequest = {},
  ): Promise<FetchedStream | FetchFailure> {
    let url: URL;
    try {
      url = new URL(href);
    } catch {
      return fail("invalid-url", "not a URL", href.slice(0, 200));
    }
    const timer = new AbortController();
    const timeout = setTimeout(() => timer.abort(), options.timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timer.signal]) : timer.signal;
    let headers = { ...request.headers };
    let method = request.method ?? "GET";
    try {
      for (let hop = 0; ; hop++) {
        const to = await target(url);
        if ("ok" in to) return to;
        if (signal.aborted) throw signal.reason;
        const res = await send(url, to, { ...request, method, headers }, signal);
        const status = res.statusCode ?? 0;
        const location = res.headers.location;
        if (redirects.has(status) && location) {
          res.destroy();
          if (hop >= maxRedirects)
            return fail("too-many-redirects", `more than ${maxRedirects} redirects`, url.href);
          let next: URL;
          try {
            next = new URL(location, url);
          } catch {
            return fail("invalid-url", "redirect to something that is not a URL", url.href);
          }
          // Credentials meant for one server are not handed to another.
          if (next.origin !== url.origin) {
            headers = Object.fromEntries(
              Object.entries(headers).filter(([k]) => k.toLowerCase() !== "authorization"),
            );
          }
          if (status === 303) method = "GET";
          url = next;
          continue;
        }
        const length = Number(res.headers["content-length"]);
        const contentLength = Number.isSafeInteger(length) && length >= 0 ? length : undefined;
        // Only a successful answer is refused up front: an error (a 401 with its challenge, a 404)
        // is the caller's to read, and its body is still cut at the limit.
        if (
          request.maxBytes !== undefined &&
          status >= 200 &&
          status < 300 &&
          contentLength !== undefined &&
          contentLength > request.maxBytes
        ) {
          res.destroy();
          return fail(
            "too-large",
            `${contentLength} bytes is more than the limit of ${request.maxBytes}`,
            url.href,
          );
        }
        clearTimeout(timeout);
        return {
          ok: true,
          status,
          url: url.href,
          headers: flatten(res),
          contentLength,
          body: limited(res, request.maxBytes, url.href),
          discard: () => res.destroy(),
        };
      }
    } catch (error) {
      if (request.signal?.aborted) return fail("aborted", "the fetch was cancelled", url.href);
      if (
        timer.signal.aborted ||
        (error instanceof GuardedFetchError && error.reason === "timeout")
      )
        return fail(
          "timeout",
          `no answer from ${url.host} within ${options.timeoutMs} ms`,
          url.href,
        );
      return fail("network", `${url.host}: ${(error as Error).message}`, url.href);
    } finally {
      clearTimeout(timeout);
    }
  }

  async function fetchDocument(
    href: string,
    request: FetchRequest = {},
  ): Promise<FetchedDocument | FetchFailure> {
    const maxBytes = request.maxBytes ?? options.maxDocumentBytes;
    const started = Date.now();
    const timer = new AbortController();
    const timeout = setTimeout(() => timer.abort(), options.timeoutMs);
    const signal = request.signal ? AbortSignal.any([request.signal, timer.signal]) : timer.signal;
    try {
      const opened = await open(href, { ...request, maxBytes, signal });
      if (!opened.ok) {
        if (opened.reason === "aborted" && timer.signal.aborted && !request.signal?.aborted)
          return fail("timeout", `no complete answer within ${options.timeoutMs} ms`, opened.url);
        return opened;
      }
      const chunks: Uint8Array[] = [];
      let total = 0;
      try {
        for await (const chunk of opened.body) {
          chunks.push(chunk);
          total += chunk.byteLength;
        }
      } catch (error) {
        if (request.signal?.aborted) return fail("aborted", "the fetch was cancelled", opened.url);
        if (timer.signal.aborted)
          return fail(
            "timeout",
            `document not complete after ${Date.now() - started} ms`,
            opened.url,
          );
        if (error instanceof GuardedFetchError)
          return fail(error.reason, error.message, opened.url);
        return fail("network", (error as Error).message, opened.url);
      }
      const bytes = new Uint8Array(total);
      let at = 0;
      for (const chunk of chunks) {
        bytes.set(chunk, at);
        at += chunk.byteLength;
      }
      const { body: _body, discard: _discard, contentLength: _length, ...head } = opened;
      return { ...head, bytes };
    } finally {
      clearTimeout(timeout);
    }
  }

  return { open, fetchDocument, options: Object.freeze({ ...options }) };
}

function flatten(res: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(res.headers)) {
    if (value !== undefined) out[name] = Array.isArray(value) ? value.join(", ") : value;
  }
  return out;
}

/** The body, cut off with `too-large` as soon as it passes `maxBytes`. */
async function* limited(
  res: IncomingMessage,
  maxBytes: number | undefined,
  url: string,
): AsyncGenerator<Uint8Array> {
  let total = 0;
  try {
    for await (const chunk of res as AsyncIterable<Buffer>) {
      total += chunk.byteLength;
      if (maxBytes !== undefined && total > maxBytes)
        throw new GuardedFetchError("too-large", `more than ${maxBytes} bytes from ${url}`);
      yield chunk;
    }
    if (!res.complete) throw new GuardedFetchError("network", `response from ${url} was cut short`);
  } finally {
    res.destroy();
  }
}
