/** curl against a registry: timed transfers with status, headers and curl's own timing. */
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";
import { run } from "./proc.ts";

/** Where a registry answers: `http://127.0.0.1:port`. */
export interface Endpoint {
  url: string;
}

/** Runs curl, returning status, headers, body and curl's own timing. */
export async function curl(args: string[]): Promise<{
  status: number;
  headers: Record<string, string>;
  body: string;
  time: number;
  size: number;
  /** curl's exit code and message when the transfer failed (e.g. 18: body cut short). */
  error?: string;
}> {
  const marker = "\n__CURL__";
  const result = await run(
    "curl",
    ["-sS", "-D", "-", "-w", `${marker} %{http_code} %{time_total} %{size_download}`, ...args],
    { allowFailure: true },
  );
  const at = result.stdout.lastIndexOf(marker);
  const [status = "0", time = "0", size = "0"] = result.stdout
    .slice(at + marker.length)
    .trim()
    .split(" ");
  const response = result.stdout.slice(0, at);
  // With redirects or 100-continue there may be several header blocks; the last one counts.
  const blocks = response.split(/\r?\n\r?\n/);
  let headerBlock = "";
  let bodyStart = 0;
  for (let i = 0, offset = 0; i < blocks.length; i++) {
    const block = blocks[i] ?? "";
    if (/^HTTP\/[\d.]+ \d+/.test(block)) {
      headerBlock = block;
      bodyStart = offset + block.length;
    }
    offset += block.length + 2;
  }
  const headers: Record<string, string> = {};
  for (const line of headerBlock.split(/\r?\n/).slice(1)) {
    const colon = line.indexOf(":");
    if (colon > 0)
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
  }
  return {
    status: Number(status),
    headers,
    body: response.slice(bodyStart).replace(/^\r?\n\r?\n/, ""),
    time: Number(time),
    size: Number(size),
    error: result.code === 0 ? undefined : `curl exit ${result.code}: ${result.stderr.trim()}`,
  };
}

export function describe(
  method: string,
  url: string,
  res: Awaited<ReturnType<typeof curl>>,
): string {
  const body = res.body ? ` body ${JSON.stringify(res.body.slice(0, 500))}` : "";
  const error = res.error ? ` (${res.error}; ${res.size} bytes received)` : "";
  return `${method} ${url} -> ${res.status} ${JSON.stringify(res.headers)}${body}${error}`;
}

/** POST to start an upload, then PUT the whole body with ?digest= (monolithic). */
export async function upload(
  registry: Endpoint,
  repo: string,
  file: string,
  digest: string,
): Promise<{ post: number; put: number }> {
  const start = `${registry.url}/v2/${repo}/blobs/uploads/`;
  const post = await curl(["-X", "POST", "-H", "Content-Length: 0", start]);
  if (post.error || post.status !== 202 || !post.headers.location) {
    throw new Error(`expected 202 with Location: ${describe("POST", start, post)}`);
  }
  let location = post.headers.location;
  if (location.startsWith("/")) location = `${registry.url}${location}`;
  const target = `${location}${location.includes("?") ? "&" : "?"}digest=${encodeURIComponent(digest)}`;
  const put = await curl([
    "-H",
    "Expect:",
    "-H",
    "Content-Type: application/octet-stream",
    "-T",
    file,
    target,
  ]);
  if (put.error || put.status !== 201)
    throw new Error(`expected 201: ${describe("PUT", target, put)}`);
  const echoed = put.headers["docker-content-digest"];
  if (echoed && echoed !== digest) throw new Error(`PUT answered digest ${echoed}, sent ${digest}`);
  return { post: post.time, put: put.time };
}

export async function download(registry: Endpoint, repo: string, digest: string, size: number) {
  const url = `${registry.url}/v2/${repo}/blobs/${digest}`;
  const res = await curl(["-L", "-o", "/dev/null", url]);
  if (res.error || res.status !== 200 || res.size !== size) {
    throw new Error(`expected 200 with ${size} bytes: ${describe("GET", url, res)}`);
  }
  return res.time;
}

export type CurlResult = Awaited<ReturnType<typeof curl>>;

/** The sha256 digest of a file, `sha256:<hex>`. */
export async function sha256File(path: string): Promise<string> {
  const hash = createHash("sha256");
  for await (const chunk of createReadStream(path, { highWaterMark: 4 * 1024 * 1024 }))
    hash.update(chunk as Buffer);
  return `sha256:${hash.digest("hex")}`;
}
