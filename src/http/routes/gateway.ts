/**
 * The IPFS trustless gateway: `GET`/`HEAD /ipfs/<cid>` as a single raw block or a CAR stream of
 * the DAG under it. Only verifiable responses are served, so a request must say which it wants.
 */
import { once } from "node:events";
import type { Writable } from "node:stream";
import type { MultibaseDecoder } from "multiformats/bases/interface";
import { bases } from "multiformats/basics";
import { CID } from "multiformats/cid";
import { BufferPool } from "../../ipfs/buffer-pool.ts";
import {
  carHeader,
  carSection,
  type DagBlock,
  entityScope,
  isIdentity,
  linksOf,
  type MaybeBlockGetter,
  UnsupportedCodecError,
  type WalkScope,
  walkDag,
} from "../../ipfs/car.ts";
import { MalformedDagError } from "../../ipfs/fetch.ts";
import { chunkSize } from "../../ipfs/importer.ts";
import { OciError } from "../../registry/index.ts";
import { sendBody } from "../adapter/node.ts";
import type { HttpApp, HttpContext } from "../types.ts";

export interface GatewayDeps {
  /** One block, verified against its CID, or undefined when it is not available. */
  getBlock: MaybeBlockGetter;
}

const rawType = "application/vnd.ipld.raw";
const carType = "application/vnd.ipld.car";
const askForFormat = `ask for ${rawType} or ${carType} (Accept header or ?format=raw|car)`;
const decoders = new Map<string, MultibaseDecoder<string>>(
  Object.values(bases).map((base) => [base.prefix, base.decoder]),
);
/** Any multibase `multiformats` knows (CID.parse alone takes only base32, base36, base58btc). */
const multibase: MultibaseDecoder<string> = {
  decode(text) {
    const decoder = decoders.get([...text][0] ?? "");
    if (!decoder) throw new Error("unknown multibase prefix");
    return decoder.decode(text);
  },
};

type Format = { kind: "raw" } | { kind: "car"; dups: boolean };
type Scope = "all" | "entity" | "block";

/** Mounts the trustless gateway on `app` (HEAD is answered by the GET routes). */
export function registerGatewayRoutes(app: HttpApp, deps: GatewayDeps): void {
  app.get("/ipfs/:cid", (c) => serve(c, deps));
  app.get("/ipfs/:cid/*", (c) => {
    if (c.req.path === `/ipfs/${c.req.param("cid")}/`) return serve(c, deps);
    throw new OciError("UNSUPPORTED", "paths under a CID are not supported here", {
      status: 400,
    });
  });
}

async function serve(c: HttpContext, deps: GatewayDeps): Promise<Response> {
  const cid = parseCid(c.req.param("cid") ?? "");
  const format = negotiate(c);
  const scope = format.kind === "car" ? dagScope(c) : "block";
  const etag =
    format.kind === "raw"
      ? `"${cid}.raw"`
      : `"${cid}.car${scope === "all" ? "" : `.${scope}`}${format.dups ? ".dups" : ""}"`;
  const headers: Record<string, string> = {
    ETag: etag,
    "Cache-Control": "public, max-age=29030400, immutable",
    Vary: "Accept",
    "X-Content-Type-Options": "nosniff",
    "X-Ipfs-Path": `/ipfs/${cid}`,
    "X-Ipfs-Roots": cid.toString(),
  };
  if (c.req.query("format") === undefined) {
    const url = new URL(c.req.url);
    url.searchParams.set("format", format.kind);
    headers["Content-Location"] = `${url.pathname}${url.search}`;
  }
  if (ifNoneMatch(c.req.header("if-none-match"), etag)) return c.body(null, 304, headers);

  const root: DagBlock = { cid, bytes: await rootBlock(c, cid, deps) };
  if (format.kind === "raw") {
    headers["Content-Type"] = rawType;
    headers["Content-Length"] = String(root.bytes.length);
    headers["Content-Disposition"] = `attachment; filename="${cid}.bin"`;
    return c.body(root.bytes as Uint8Array<ArrayBuffer>, 200, headers);
  }
  const walkScope = resolveScope(root, scope);
  const dups = format.dups ? "y" : "n";
  headers["Content-Type"] = `${carType}; version=1; order=dfs; dups=${dups}`;
  headers["Content-Disposition"] = `attachment; filename="${cid}.car"`;
  // sendBody's already-sent response does not survive Hono's HEAD-from-GET rewrap on a socket.
  if (c.req.method === "HEAD") return c.body(null, 200, headers);
  return sendBody(c, 200, headers, async (out) => {
    // A client that goes away stops the walk and the fetches it has in flight.
    const gone = new AbortController();
    const onClose = () => gone.abort(new Error("client went away"));
    out.once("close", onClose);
    try {
      await write(out, carHeader(cid), gone.signal);
      // Leaves are read into a few reused buffers, each back in the pool once the socket took
      // it; two blocks read ahead keep the socket busy, more would only hold memory longer.
      const pool = new BufferPool(chunkSize, 4);
      const pooled: MaybeBlockGetter = async (block, options) => {
        const into = await pool.acquire();
        let bytes: Uint8Array | undefined;
        try {
          bytes = await deps.getBlock(block, { ...options, into });
        } finally {
          if (!bytes || bytes.buffer !== into.buffer) pool.release(into);
        }
        return bytes;
      };
      const blocks = walkDag(root, pooled, {
        scope: walkScope,
        dups: format.dups,
        signal: gone.signal,
        window: 2,
      });
      for await (const block of blocks) {
        const [head, body] = carSection(block);
        await write(out, head, gone.signal);
        const owner = pool.owner(body);
        await write(out, body, gone.signal, owner && (() => pool.release(owner)));
      }
    } finally {
      out.off("close", onClose);
    }
  });
}

function parseCid(text: string): CID {
  try {
    if (text.length > 0 && text.length <= 512) return CID.parse(text, multibase);
  } catch {
    // answered below
  }
  throw new OciError("DIGEST_INVALID", "invalid CID", { detail: { cid: text.slice(0, 128) } });
}

/** Raw or CAR, from `?format=` (which wins) or the best supported entry of `Accept`. */
function negotiate(c: HttpContext): Format {
  const format = c.req.query("format");
  const accepted = acceptedFormat(c.req.header("accept"));
  if (format === "raw") return { kind: "raw" };
  if (format === "car") {
    return { kind: "car", dups: carDups(c, accepted?.kind === "car" && accepted.dups) };
  }
  if (format !== undefined) {
    throw new OciError(
      "UNSUPPORTED",
      `format=${format.slice(0, 32)} is not served; ${askForFormat}`,
      {
        status: 400,
      },
    );
  }
  if (!c.req.header("accept")) {
    throw new OciError("UNSUPPORTED", `this is a trustless gateway: ${askForFormat}`, {
      status: 400,
    });
  }
  if (!accepted) {
    throw new OciError("UNSUPPORTED", `none of the accepted types is served; ${askForFormat}`, {
      status: 406,
    });
  }
  return accepted.kind === "car" ? { kind: "car", dups: carDups(c, accepted.dups) } : accepted;
}

/** The supported entry of an `Accept` header with the highest quality (the first among equals). */
function acceptedFormat(accept: string | undefined): Format | undefined {
  let best: { format: Format; q: number } | undefined;
  for (const entry of (accept ?? "").split(",")) {
    const [type = "", ...rest] = entry.split(";").map((part) => part.trim());
    const params = new Map(
      rest.map((param) => {
        const [name = "", value = ""] = param.split("=").map((part) => part.trim());
        return [name.toLowerCase(), value.replace(/^"|"$/g, "")] as const;
      }),
    );
    const q = params.has("q") ? Number(params.get("q")) : 1;
    if (!(q > 0) || (best && q <= best.q)) continue;
    const format = formatOf(type.toLowerCase(), params);
    if (format) best = { format, q };
  }
  return best?.format;
}

function formatOf(type: string, params: Map<string, string>): Format | undefined {
  if (type === rawType) return { kind: "raw" };
  if (type !== carType) return undefined;
  const version = params.get("version") ?? "1";
  const order = params.get("order") ?? "dfs";
  const dups = params.get("dups") ?? "n";
  if (version !== "1" || !["dfs", "unk"].includes(order) || !["y", "n"].includes(dups)) {
    return undefined;
  }
  return { kind: "car", dups: dups === "y" };
}

/** CAR parameters from the `car-*` query (which win over `Accept`); only CAR v1 in DFS order. */
function carDups(c: HttpContext, fromAccept: boolean): boolean {
  const version = c.req.query("car-version");
  const order = c.req.query("car-order");
  const dups = c.req.query("car-dups");
  if (version !== undefined && version !== "1") throw badParam("car-version", version);
  if (order !== undefined && order !== "dfs" && order !== "unk") throw badParam("car-order", order);
  if (dups !== undefined && dups !== "y" && dups !== "n") throw badParam("car-dups", dups);
  return dups === undefined ? fromAccept : dups === "y";
}

function dagScope(c: HttpContext): Scope {
  if (c.req.query("entity-bytes") !== undefined) {
    throw new OciError("UNSUPPORTED", "entity-bytes is not supported; ask for the whole entity", {
      status: 400,
    });
  }
  const scope = c.req.query("dag-scope") ?? "all";
  if (scope === "all" || scope === "entity" || scope === "block") return scope;
  throw badParam("dag-scope", scope);
}

function badParam(name: string, value: string): OciError {
  return new OciError("UNSUPPORTED", `${name}=${value.slice(0, 32)} is not supported`, {
    status: 400,
  });
}

/** True when `If-None-Match` lists `etag` (weak or strong). */
function ifNoneMatch(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(",").some((tag) => tag.trim().replace(/^W\//, "") === etag);
}

/** The root block; an identity CID (the `bafkqaaa` probe) is answered without a lookup. */
async function rootBlock(c: HttpContext, cid: CID, deps: GatewayDeps): Promise<Uint8Array> {
  if (isIdentity(cid)) return cid.multihash.digest;
  const bytes = await deps.getBlock(cid, { signal: c.req.raw.signal });
  if (bytes) return bytes;
  if (/only-if-cached/i.test(c.req.header("cache-control") ?? "")) {
    throw new OciError("BLOB_UNKNOWN", "block not in this gateway's store", {
      status: 412,
      detail: { cid: cid.toString() },
    });
  }
  throw new OciError("BLOB_UNKNOWN", "block not found", { detail: { cid: cid.toString() } });
}

/** What the walk covers; checked on the root before the first byte so a bad root is a 4xx/5xx. */
function resolveScope(root: DagBlock, scope: Scope): WalkScope {
  try {
    const resolved = scope === "entity" ? entityScope(root) : scope;
    if (resolved === undefined) {
      throw new OciError("UNSUPPORTED", "dag-scope=entity of a HAMT directory is not supported", {
        status: 501,
      });
    }
    if (resolved === "all") linksOf(root);
    return resolved;
  } catch (error) {
    if (error instanceof MalformedDagError) {
      throw new OciError("UNSUPPORTED", `${error.message}; ask for dag-scope=block or raw`, {
        status: 422,
      });
    }
    if (error instanceof UnsupportedCodecError) {
      throw new OciError("UNSUPPORTED", `${error.message}; ask for dag-scope=block or raw`, {
        status: 501,
      });
    }
    throw error;
  }
}

/**
 * Writes one chunk, waiting while the client is slower than the walk; `sent` runs once the
 * socket no longer needs the chunk's memory (written, or failed).
 */
async function write(
  out: Writable,
  chunk: Uint8Array,
  signal: AbortSignal,
  sent?: () => void,
): Promise<void> {
  if (signal.aborted) {
    sent?.();
    signal.throwIfAborted();
  }
  if (!out.write(chunk, sent && (() => sent()))) await once(out, "drain", { signal });
}
