/** Fixtures for route tests: an app on temporary stores, and helpers that push blobs and manifests. */
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { silentLogger } from "../log/index.ts";
import { SqliteMetaStore } from "../meta/index.ts";
import { createRegistry, mediaTypes, type Registry } from "../registry/index.ts";
import { FsBlobStore } from "../storage/index.ts";
import { createApp } from "./app.ts";
import type { HttpApp } from "./types.ts";

export interface TestRegistry {
  app: HttpApp;
  registry: Registry;
  meta: SqliteMetaStore;
  /** Blob store root (reuse it to simulate a restart). */
  root: string;
}

export interface TestRegistryOptions {
  maxManifestBytes?: number;
  /** Reuse an existing blob store root instead of a fresh temporary directory. */
  root?: string;
  /** SQLite file; `:memory:` by default. */
  metaPath?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
  platform?: { architecture: string; os: string };
}

export interface PushedManifest {
  digest: string;
  bytes: Uint8Array;
  descriptor: Descriptor;
}

const roots: string[] = [];
process.on("exit", () => {
  for (const root of roots) rmSync(root, { recursive: true, force: true });
});

/** A fresh temporary directory, removed when the test process exits. */
export async function tempDir(prefix = "flotilla-http-"): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), prefix));
  roots.push(root);
  return root;
}

/** Builds the app as production does, on a temporary directory and an in-memory database. */
export async function createTestRegistry(options: TestRegistryOptions = {}): Promise<TestRegistry> {
  const root = options.root ?? (await tempDir());
  const log = silentLogger();
  const meta = new SqliteMetaStore({ path: options.metaPath ?? ":memory:" });
  const registry = createRegistry(
    { blobs: await FsBlobStore.create({ root }), meta, log },
    { maxManifestBytes: options.maxManifestBytes ?? 4 * 1024 * 1024, manifestCacheBytes: 1 << 20 },
  );
  return { app: createApp({ registry, log }), registry, meta, root };
}

export function bytesOf(content: string | Uint8Array): Uint8Array {
  return typeof content === "string" ? new TextEncoder().encode(content) : content;
}

export function sha256(content: string | Uint8Array): string {
  return `sha256:${createHash("sha256").update(bytesOf(content)).digest("hex")}`;
}

export function sha512(content: string | Uint8Array): string {
  return `sha512:${createHash("sha512").update(bytesOf(content)).digest("hex")}`;
}

/**
 * A request body with an explicit Content-Length, as a real client sends it (a web Request does
 * not add one by itself, and the server relies on it to tell an empty PUT from a last chunk).
 */
export function withBody(
  method: string,
  content: string | Uint8Array,
  headers: Record<string, string> = {},
): RequestInit {
  const body = bytesOf(content);
  return {
    method,
    body: body as Uint8Array<ArrayBuffer>,
    headers: { "Content-Length": String(body.byteLength), ...headers },
  };
}

/** Starts an upload (POST) and returns its Location. */
export async function startUpload(app: HttpApp, name: string): Promise<string> {
  const res = await app.request(`/v2/${name}/blobs/uploads/`, { method: "POST" });
  assert.equal(res.status, 202);
  const location = res.headers.get("Location");
  assert.ok(location, "upload Location");
  return location;
}

/** Appends `query` (e.g. `digest=...`) to an upload Location that may already carry a query. */
export function withQuery(location: string, query: string): string {
  return `${location}${location.includes("?") ? "&" : "?"}${query}`;
}

/** Asserts that GET of a blob in `name` answers 200 with `content`. */
export async function expectBlob(app: HttpApp, name: string, digest: string, content: string) {
  const res = await app.request(`/v2/${name}/blobs/${digest}`);
  assert.equal(res.status, 200, `blob ${digest} in ${name}`);
  assert.equal(await res.text(), content);
}

/** Pushes a blob monolithically (POST ?digest=) and checks it was created. */
export async function pushBlob(
  app: HttpApp,
  name: string,
  content: string | Uint8Array,
  mediaType = "application/vnd.oci.image.layer.v1.tar+gzip",
): Promise<Descriptor> {
  const bytes = bytesOf(content);
  const digest = sha256(bytes);
  const res = await app.request(
    `/v2/${name}/blobs/uploads/?digest=${digest}`,
    withBody("POST", bytes),
  );
  assert.equal(res.status, 201, `pushing blob ${digest} to ${name}`);
  return { mediaType, digest, size: bytes.byteLength };
}

/** PUTs manifest JSON (or raw bytes) under a tag or digest. */
export async function putManifest(
  app: HttpApp,
  name: string,
  reference: string,
  manifest: object | string | Uint8Array,
  contentType: string | undefined = mediaTypes.ociManifest,
): Promise<Response> {
  const bytes =
    typeof manifest === "object" && !(manifest instanceof Uint8Array)
      ? bytesOf(JSON.stringify(manifest))
      : bytesOf(manifest);
  const headers: Record<string, string> = contentType ? { "Content-Type": contentType } : {};
  return app.request(`/v2/${name}/manifests/${reference}`, withBody("PUT", bytes, headers));
}

export interface ImageOptions {
  tag?: string;
  /** Distinguishes otherwise identical images. */
  layerContent?: string;
  config?: Descriptor;
  configMediaType?: string;
  artifactType?: string;
  subject?: Descriptor;
  annotations?: Record<string, string>;
  mediaType?: string;
}

/** The JSON of an image manifest whose config and layer are pushed first. */
export async function imageManifest(app: HttpApp, name: string, options: ImageOptions = {}) {
  const mediaType = options.mediaType ?? mediaTypes.ociManifest;
  const docker = mediaType === mediaTypes.dockerManifest;
  const config =
    options.config ??
    (await pushBlob(
      app,
      name,
      `{"architecture":"amd64","os":"linux","n":${JSON.stringify(options.layerContent ?? "")}}`,
      options.configMediaType ??
        (docker
          ? "application/vnd.docker.container.image.v1+json"
          : "application/vnd.oci.image.config.v1+json"),
    ));
  const layer = await pushBlob(
    app,
    name,
    `layer:${options.layerContent ?? "base"}`,
    docker ? "application/vnd.docker.image.rootfs.diff.tar.gzip" : undefined,
  );
  return {
    schemaVersion: 2,
    mediaType,
    ...(options.artifactType ? { artifactType: options.artifactType } : {}),
    config,
    layers: [layer],
    ...(options.subject ? { subject: options.subject } : {}),
    ...(options.annotations ? { annotations: options.annotations } : {}),
  };
}

/** Pushes an image manifest (config + one layer) by tag, or by digest when no tag is given. */
export async function pushImage(
  app: HttpApp,
  name: string,
  options: ImageOptions = {},
): Promise<PushedManifest> {
  const manifest = await imageManifest(app, name, options);
  return pushJson(app, name, manifest, manifest.mediaType, options.tag);
}

/** Pushes an index of the given children by tag, or by digest when no tag is given. */
export async function pushIndex(
  app: HttpApp,
  name: string,
  children: Descriptor[],
  options: { tag?: string; mediaType?: string; subject?: Descriptor; artifactType?: string } = {},
): Promise<PushedManifest> {
  const mediaType = options.mediaType ?? mediaTypes.ociIndex;
  const index = {
    schemaVersion: 2,
    mediaType,
    ...(options.artifactType ? { artifactType: options.artifactType } : {}),
    manifests: children,
    ...(options.subject ? { subject: options.subject } : {}),
  };
  return pushJson(app, name, index, mediaType, options.tag);
}

async function pushJson(
  app: HttpApp,
  name: string,
  manifest: object,
  mediaType: string,
  tag: string | undefined,
): Promise<PushedManifest> {
  const bytes = bytesOf(JSON.stringify(manifest));
  const digest = sha256(bytes);
  const res = await putManifest(app, name, tag ?? digest, bytes, mediaType);
  assert.equal(res.status, 201, `pushing manifest to ${name}: ${await res.clone().text()}`);
  assert.equal(res.headers.get("Docker-Content-Digest"), digest);
  return { digest, bytes, descriptor: { mediaType, digest, size: bytes.byteLength } };
}

export interface OciErrorEntry {
  code: string;
  message: string;
  detail: unknown;
}

/** Asserts the response is an OCI error with `status` and `code`, and returns the first error. */
export async function expectError(
  response: Response | Promise<Response>,
  status: number,
  code: string,
): Promise<OciErrorEntry> {
  const res = await response;
  const text = await res.text();
  assert.equal(res.status, status, `expected ${status} ${code}, got ${res.status} ${text}`);
  const body = JSON.parse(text) as { errors: OciErrorEntry[] };
  assertErrorShape(body);
  const first = body.errors[0] as OciErrorEntry;
  assert.equal(first.code, code, text);
  return first;
}

/** The first OCI error code of a response, after checking the body's shape. */
export async function errorCode(res: Response): Promise<string> {
  const body: unknown = await res.json();
  assertErrorShape(body);
  return (body as { errors: OciErrorEntry[] }).errors[0]?.code ?? "";
}

/** Asserts `{errors:[{code, message, detail}]}` with string code and message. */
export function assertErrorShape(body: unknown): void {
  assert.ok(body && typeof body === "object", "error body is an object");
  const errors = (body as { errors?: unknown }).errors;
  assert.ok(Array.isArray(errors) && errors.length > 0, "error body has errors[]");
  for (const error of errors as Record<string, unknown>[]) {
    assert.equal(typeof error.code, "string");
    assert.match(error.code as string, /^[A-Z_]+$/);
    assert.equal(typeof error.message, "string");
    assert.ok("detail" in error, "error has a detail");
  }
}

/**
 * A request whose raw target differs from the URL a web Request would normalise to (`..`, `%2F`),
 * as the Node adapter sees it.
 */
export function rawRequest(app: HttpApp, rawUrl: string, init: RequestInit = {}) {
  const normalised = new URL(rawUrl, "http://localhost").pathname;
  return app.request(normalised, init, { incoming: { url: rawUrl, socket: {} } });
}
