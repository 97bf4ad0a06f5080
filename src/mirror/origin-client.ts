/**
 * The origin's registry API, as an anonymous client: manifests, tag lists and blobs, through the
 * guarded fetcher, answering the origin's token challenge (`WWW-Authenticate: Bearer realm=…`)
 * by asking the realm for an anonymous token, as `docker pull` of a public image does.
 */
import type { FetchedStream, FetchFailure, GuardedFetcher } from "../net/index.ts";
import { manifestKinds } from "../registry/index.ts";

export type OriginResult<T> = ({ ok: true } & T) | { ok: false; reason: string };

const manifestAccept = [...manifestKinds.keys()].join(", ");
/** Tokens are reused for a minute at most: enough for a sync, short enough not to go stale. */
const tokenReuseMs = 60_000;

export class OriginClient {
  readonly #fetcher: GuardedFetcher;
  readonly #tokens = new Map<string, { token: string; until: number }>();

  constructor(deps: { fetcher: GuardedFetcher }) {
    this.#fetcher = deps.fetcher;
  }

  /** A manifest by tag or digest; at most `maxBytes` are read. */
  async manifest(
    registry: URL,
    name: string,
    reference: string,
    options: { maxBytes: number; signal?: AbortSignal },
  ): Promise<OriginResult<{ bytes: Uint8Array; contentType?: string }>> {
    const url = new URL(`/v2/${name}/manifests/${reference}`, registry).href;
    const got = await this.#withToken(registry, name, (headers) =>
      this.#fetcher.fetchDocument(url, {
        headers: { ...headers, accept: manifestAccept },
        maxBytes: options.maxBytes,
        signal: options.signal,
      }),
    );
    if (!got.ok) return failed(got);
    if (got.status !== 200)
      return { ok: false, reason: `the origin answered ${got.status} for ${url}` };
    return { ok: true, bytes: got.bytes, contentType: got.headers["content-type"] };
  }

  /** Every tag, following `Link: <…>; rel="next"` pages on the same origin, up to `max`. */
  async tags(
    registry: URL,
    name: string,
    options: { max: number; signal?: AbortSignal },
  ): Promise<OriginResult<{ tags: string[] }>> {
    const tags: string[] = [];
    let next: string | undefined = new URL(`/v2/${name}/tags/list?n=100`, registry).href;
    while (next && tags.length < options.max) {
      const url: string = next;
      const got = await this.#withToken(registry, name, (headers) =>
        this.#fetcher.fetchDocument(url, { headers, signal: options.signal }),
      );
      if (!got.ok) return failed(got);
      if (got.status !== 200)
        return { ok: false, reason: `the origin answered ${got.status} for ${url}` };
      let page: unknown;
      try {
        page = JSON.parse(new TextDecoder().decode(got.bytes));
      } catch {
        return { ok: false, reason: "the origin's tag list is not JSON" };
      }
      const listed = (page as { tags?: unknown })?.tags;
      if (listed !== null && listed !== undefined && !Array.isArray(listed))
        return { ok: false, reason: "the origin's tag list has no tags array" };
      for (const tag of (listed ?? []) as unknown[]) if (typeof tag === "string") tags.push(tag);
      next = nextPage(got.headers.link, url, registry);
    }
    return { ok: true, tags: tags.slice(0, options.max) };
  }

  /** A blob's bytes, unverified (the registry checks the digest), at most `size` of them. */
  async blob(
    registry: URL,
    name: string,
    digest: string,
    options: { size?: number; signal?: AbortSignal },
  ): Promise<OriginResult<{ stream: FetchedStream }>> {
    const url = new URL(`/v2/${name}/blobs/${digest}`, registry).href;
    const got = await this.#withToken(registry, name, (headers) =>
      this.#fetcher.open(url, { headers, maxBytes: options.size, signal: options.signal }),
    );
    if (!got.ok) return failed(got);
    if (got.status !== 200) {
      got.discard();
      return { ok: false, reason: `the origin answered ${got.status} for ${url}` };
    }
    return { ok: true, stream: got };
  }

  /** Runs a request, and once more with an anonymous token if the origin asks for one. */
  async #withToken<T extends { ok: true; status: number; headers: Record<string, string> }>(
    registry: URL,
    name: string,
    send: (headers: Record<string, string>) => Promise<T | FetchFailure>,
  ): Promise<T | FetchFailure> {
    const key = `${registry.origin} ${name}`;
    const cached = this.#tokens.get(key);
    const first = await send(
      cached && cached.until > Date.now() ? { authorization: `Bearer ${cached.token}` } : {},
    );
    if (!first.ok || first.status !== 401) return first;
    if ("discard" in first && typeof first.discard === "function") first.discard();
    const challenge = parseChallenge(first.headers["www-authenticate"]);
    if (!challenge?.realm) return first;
    const token = await this.#anonymousToken(challenge, name);
    if (!token) return first;
    this.#tokens.set(key, { token, until: Date.now() + tokenReuseMs });
    return send({ authorization: `Bearer ${token}` });
  }

  async #anonymousToken(
    challenge: Record<string, string>,
    name: string,
  ): Promise<string | undefined> {
    let realm: URL;
    try {
      realm = new URL(challenge.realm as string);
    } catch {
      return undefined;
    }
    if (challenge.service) realm.searchParams.set("service", challenge.service);
    realm.searchParams.set("scope", challenge.scope ?? `repository:${name}:pull`);
    const got = await this.#fetcher.fetchDocument(realm.href, { maxBytes: 64 * 1024 });
    if (!got.ok || got.status !== 200) return undefined;
    try {
      const body = JSON.parse(new TextDecoder().decode(got.bytes)) as Record<string, unknown>;
      const token = body.token ?? body.access_token;
      return typeof token === "string" && token.length > 0 ? token : undefined;
    } catch {
      return undefined;
    }
  }
}

function failed(failure: FetchFailure): { ok: false; reason: string } {
  return { ok: false, reason: `${failure.reason}: ${failure.message}` };
}

/** `Bearer realm="…",service="…",scope="…"` as a record, or undefined for other schemes. */
export function parseChallenge(header: string | undefined): Record<string, string> | undefined {
  if (!header) return undefined;
  const match = /^\s*Bearer\s+(.*)$/i.exec(header);
  if (!match) return undefined;
  const params: Record<string, string> = {};
  for (const m of (match[1] as string).matchAll(/([a-zA-Z_]+)\s*=\s*(?:"([^"]*)"|([^,\s]*))/g)) {
    params[(m[1] as string).toLowerCase()] = m[2] ?? m[3] ?? "";
  }
  return params;
}

/** The next page of a paginated list, only on the origin itself. */
function nextPage(link: string | undefined, current: string, registry: URL): string | undefined {
  const target = link && /<([^>]+)>\s*;\s*rel="?next"?/i.exec(link)?.[1];
  if (!target) return undefined;
  try {
    const next = new URL(target, current);
    return next.origin === registry.origin && next.href !== current ? next.href : undefined;
  } catch {
    return undefined;
  }
}
