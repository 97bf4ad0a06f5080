/**
 * `/flotilla/gateway-url/1.0.0`: tells a peer where this instance's trustless gateway is, so it
 * can fetch raw blocks over plain HTTP, several at a time, instead of through bitswap (whose
 * encrypted, multiplexed stream was a tenth of HTTP's speed). One stream per question: the asker
 * opens it and closes its write end; the answerer writes one length-prefixed message, its public
 * base URL (UTF-8, or empty for none), and closes. An answer is a hint: every block fetched from
 * it is checked against its CID, and the URL is fetched only as `config.outbound` allows.
 */
import type { Connection, Libp2p } from "@libp2p/interface";
import { lpStream } from "@libp2p/utils";
import type { Logger } from "../log/index.ts";

export const gatewayUrlProtocol = "/flotilla/gateway-url/1.0.0";

const maxUrlBytes = 512;
const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });
/** How long an answer is kept; a peer that restarts elsewhere is asked again after this. */
const answerTtlMs = 10 * 60_000;
/** A peer without an answer (old version, no gateway) is asked again after this. */
const noAnswerTtlMs = 60_000;

/** Answers peers' questions with `url`, this instance's public base URL. */
export async function serveGatewayUrl(
  host: Pick<Libp2p, "handle">,
  url: string,
  options: { logger: Logger; timeoutMs?: number },
): Promise<void> {
  const log = options.logger.child({ category: "ipfs.gateway-url" });
  const answer = encoder.encode(url.slice(0, maxUrlBytes));
  await host.handle(gatewayUrlProtocol, async (stream) => {
    const signal = AbortSignal.timeout(options.timeoutMs ?? 5000);
    try {
      await lpStream(stream).write(answer, { signal });
      await stream.close({ signal });
    } catch (err) {
      log.debug({ err: String(err) }, "gateway URL not sent");
      stream.abort(err instanceof Error ? err : new Error(String(err)));
    }
  });
}

/** A base URL as peers may give it: http or https, nothing else. */
export function parseGatewayUrl(text: string): URL | undefined {
  try {
    const url = new URL(text);
    if (url.protocol !== "http:" && url.protocol !== "https:") return undefined;
    if (url.username || url.password) return undefined;
    if (!url.pathname.endsWith("/")) url.pathname += "/";
    url.search = "";
    url.hash = "";
    return url;
  } catch {
    return undefined;
  }
}

/** Asks one connected peer for its gateway URL; undefined when it has none or does not say. */
export async function askGatewayUrl(
  connection: Connection,
  signal: AbortSignal,
): Promise<URL | undefined> {
  const stream = await connection.newStream(gatewayUrlProtocol, { signal });
  try {
    const messages = lpStream(stream, {
      maxDataLength: maxUrlBytes,
      maxBufferSize: maxUrlBytes * 2,
    });
    await stream.close({ signal });
    const text = decoder.decode((await messages.read({ signal })).subarray());
    return parseGatewayUrl(text);
  } catch (err) {
    stream.abort(err instanceof Error ? err : new Error(String(err)));
    throw err;
  }
}

export interface PeerGateway {
  peerId: string;
  url: URL;
}

/** Remembers connected peers' gateway URLs, asking each peer at most once in a while. */
export class PeerGateways {
  readonly #host: Pick<Libp2p, "getConnections">;
  readonly #timeoutMs: number;
  readonly #known = new Map<string, { url: URL | undefined; until: number }>();
  readonly #asking = new Map<string, Promise<URL | undefined>>();

  constructor(host: Pick<Libp2p, "getConnections">, options: { timeoutMs?: number } = {}) {
    this.#host = host;
    this.#timeoutMs = options.timeoutMs ?? 3000;
  }

  /** Gateways of the peers connected now (asked in parallel where not known). */
  async list(signal?: AbortSignal): Promise<PeerGateway[]> {
    const byPeer = new Map<string, Connection>();
    for (const connection of this.#host.getConnections()) {
      const id = connection.remotePeer.toString();
      if (connection.status === "open" && !byPeer.has(id)) byPeer.set(id, connection);
    }
    const answers = await Promise.all(
      [...byPeer].map(async ([peerId, connection]) => {
        const url = await this.#urlOf(peerId, connection, signal);
        return url ? { peerId, url } : undefined;
      }),
    );
    return answers.filter((answer) => answer !== undefined);
  }

  async #urlOf(
    peerId: string,
    connection: Connection,
    signal?: AbortSignal,
  ): Promise<URL | undefined> {
    const known = this.#known.get(peerId);
    if (known && known.until > Date.now()) return known.url;
    let asking = this.#asking.get(peerId);
    if (!asking) {
      const timeout = AbortSignal.timeout(this.#timeoutMs);
      asking = askGatewayUrl(connection, signal ? AbortSignal.any([signal, timeout]) : timeout)
        .catch(() => undefined)
        .then((url) => {
          if (this.#known.size > 1000) this.#known.clear();
          this.#known.set(peerId, {
            url,
            until: Date.now() + (url ? answerTtlMs : noAnswerTtlMs),
          });
          return url;
        })
        .finally(() => this.#asking.delete(peerId));
      this.#asking.set(peerId, asking);
    }
    return asking;
  }
}
