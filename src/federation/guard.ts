/**
 * In front of Fedify's inbox: size limits, per-remote-host rate limits and domain blocks, before
 * any JSON parsing or key fetching. Signatures are Fedify's job, right after this.
 */
import { hostOf } from "./domains.ts";

export interface InboxGuardOptions {
  maxBytes: number;
  perHostPerMinute: number;
  isBlocked(host: string): boolean;
  /** Key ids of signed deliveries by activity id, kept as evidence for tag claims. */
  signers: Map<string, string>;
}

const maxSigners = 1000;
const maxHosts = 10_000;

/** Paths Fedify answers: WebFinger, NodeInfo and everything under the actor prefix. */
export function isFederationPath(path: string): boolean {
  return (
    path === "/.well-known/webfinger" ||
    path === "/.well-known/nodeinfo" ||
    path.startsWith("/nodeinfo/") ||
    path === "/ap" ||
    path.startsWith("/ap/")
  );
}

export class InboxGuard {
  readonly #options: InboxGuardOptions;
  readonly #windows = new Map<string, { start: number; count: number }>();

  constructor(options: InboxGuardOptions) {
    this.#options = options;
  }

  /** A response that refuses the delivery, or the request to hand on (its body read and bounded). */
  async check(request: Request, clientAddress: string | undefined): Promise<Request | Response> {
    if (request.method !== "POST" || !new URL(request.url).pathname.startsWith("/ap/inbox"))
      return request;
    const keyId = signatureKeyId(request.headers);
    const signerHost = hostOf(keyId);
    if (signerHost && this.#options.isBlocked(signerHost)) return text(403, "domain blocked");
    if (!this.#allow(signerHost ?? `address:${clientAddress ?? "unknown"}`))
      return text(429, "too many deliveries; slow down", { "Retry-After": "60" });
    const length = Number(request.headers.get("content-length") ?? Number.NaN);
    if (length > this.#options.maxBytes) return text(413, "activity too large");
    const body = await readBounded(request, this.#options.maxBytes);
    if (!body) return text(413, "activity too large");
    const facts = peek(body);
    if (!facts.object) return text(400, "an activity is a JSON object");
    if (facts.actorHost && this.#options.isBlocked(facts.actorHost))
      return text(403, "domain blocked");
    if (keyId && facts.id) this.#remember(facts.id, keyId);
    const headers = new Headers(request.headers);
    headers.delete("transfer-encoding");
    return new Request(request.url, { method: "POST", headers, body });
  }

  #allow(key: string): boolean {
    const now = Date.now();
    let window = this.#windows.get(key);
    if (!window || now - window.start >= 60_000) {
      if (this.#windows.size >= maxHosts) this.#windows.clear();
      window = { start: now, count: 0 };
      this.#windows.set(key, window);
    }
    window.count++;
    return window.count <= this.#options.perHostPerMinute;
  }

  #remember(id: string, keyId: string) {
    const { signers } = this.#options;
    if (signers.size >= maxSigners) {
      const oldest = signers.keys().next().value;
      if (oldest !== undefined) signers.delete(oldest);
    }
    signers.set(id, keyId);
  }
}

/** The key id of a draft-cavage `Signature` or an RFC 9421 `Signature-Input` header. */
export function signatureKeyId(headers: Headers): string | undefined {
  const header = headers.get("signature-input") ?? headers.get("signature") ?? "";
  return /keyid="([^"]{1,2000})"/i.exec(header)?.[1];
}

async function readBounded(request: Request, max: number): Promise<Uint8Array | undefined> {
  if (!request.body) return new Uint8Array();
  const chunks: Uint8Array[] = [];
  let total = 0;
  const reader = request.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.byteLength;
    if (total > max) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks);
}

function peek(body: Uint8Array): { object: boolean; id?: string; actorHost?: string } {
  try {
    const json = JSON.parse(Buffer.from(body).toString("utf8")) as unknown;
    if (typeof json !== "object" || json === null || Array.isArray(json)) return { object: false };
    const { id, actor } = json as { id?: unknown; actor?: unknown };
    const actorId =
      typeof actor === "string"
        ? actor
        : typeof (actor as { id?: unknown } | null)?.id === "string"
          ? (actor as { id: string }).id
          : undefined;
    return {
      object: true,
      id: typeof id === "string" ? id : undefined,
      actorHost: hostOf(actorId),
    };
  } catch {
    return { object: false };
  }
}

function text(status: number, message: string, headers: Record<string, string> = {}): Response {
  return new Response(message, {
    status,
    headers: { "Content-Type": "text/plain; charset=utf-8", ...headers },
  });
}
