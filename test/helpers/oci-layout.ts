/**
 * Builds OCI images without a network or a container tool: deterministic tar archives, gzip
 * from node:zlib, image configs, manifests, indexes, and OCI image layouts on disk
 * (`oci-layout`, `index.json`, `blobs/sha256/...`) that skopeo, umoci and friends read.
 *
 * Everything is built in memory first (`buildImage`, `buildIndex`), so a caller that talks
 * HTTP to a registry directly (the benchmark) can push the same bytes without a layout.
 */
import { createCipheriv, createHash } from "node:crypto";
import { mkdir, readdir, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { gunzipSync, gzipSync } from "node:zlib";

export const MEDIA_TYPES = {
  manifest: "application/vnd.oci.image.manifest.v1+json",
  index: "application/vnd.oci.image.index.v1+json",
  config: "application/vnd.oci.image.config.v1+json",
  layerGzip: "application/vnd.oci.image.layer.v1.tar+gzip",
  layerTar: "application/vnd.oci.image.layer.v1.tar",
  dockerManifest: "application/vnd.docker.distribution.manifest.v2+json",
  dockerManifestList: "application/vnd.docker.distribution.manifest.list.v2+json",
} as const;

export interface Platform {
  os: string;
  architecture: string;
  variant?: string;
}

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  platform?: Platform;
  annotations?: Record<string, string>;
}

/** A blob with its descriptor and bytes. */
export interface Blob extends Descriptor {
  data: Buffer;
}

export interface TarEntry {
  /** Path inside the archive, without a leading slash, at most 100 bytes. */
  path: string;
  /** File content; omit for a directory (then `path` should end with `/`). */
  content?: Buffer | string;
  /** Defaults to 0o644 for files, 0o755 for directories. */
  mode?: number;
}

/** A layer as stored in the registry plus the digest of its uncompressed tar (the diff_id). */
export interface Layer extends Blob {
  diffId: string;
}

export function sha256(data: Buffer | string): string {
  return `sha256:${createHash("sha256").update(data).digest("hex")}`;
}

function octal(value: number, width: number): string {
  return `${value.toString(8).padStart(width - 1, "0")}\0`;
}

function tarHeader(path: string, size: number, mode: number, type: "0" | "5"): Buffer {
  const header = Buffer.alloc(512, 0);
  const name = Buffer.from(path, "utf8");
  if (name.length > 100) throw new Error(`tar path longer than 100 bytes: ${path}`);
  name.copy(header, 0);
  header.write(octal(mode, 8), 100, "ascii");
  header.write(octal(0, 8), 108, "ascii"); // uid
  header.write(octal(0, 8), 116, "ascii"); // gid
  header.write(octal(size, 12), 124, "ascii");
  header.write(octal(0, 12), 136, "ascii"); // mtime: the epoch, for reproducible archives
  header.write("        ", 148, "ascii"); // checksum placeholder
  header.write(type, 156, "ascii");
  header.write("ustar\0", 257, "ascii");
  header.write("00", 263, "ascii");
  header.write("root", 265, "ascii");
  header.write("root", 297, "ascii");
  let sum = 0;
  for (const byte of header) sum += byte;
  header.write(`${sum.toString(8).padStart(6, "0")}\0 `, 148, "ascii");
  return header;
}

/** A deterministic ustar archive: same entries, same bytes. Parent directories are not implied. */
export function tar(entries: TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    if (entry.content === undefined) {
      const path = entry.path.endsWith("/") ? entry.path : `${entry.path}/`;
      parts.push(tarHeader(path, 0, entry.mode ?? 0o755, "5"));
      continue;
    }
    const content = Buffer.isBuffer(entry.content)
      ? entry.content
      : Buffer.from(entry.content, "utf8");
    parts.push(tarHeader(entry.path, content.length, entry.mode ?? 0o644, "0"));
    parts.push(content);
    const padding = (512 - (content.length % 512)) % 512;
    if (padding) parts.push(Buffer.alloc(padding, 0));
  }
  parts.push(Buffer.alloc(1024, 0));
  return Buffer.concat(parts);
}

/** A gzip-compressed tar layer. `level` 0 stores without compressing (fast for random data). */
export function tarGzLayer(entries: TarEntry[], level = 6): Layer {
  return layerFromTar(tar(entries), level);
}

/** Compresses an uncompressed tar into a layer (node's gzip header has mtime 0: deterministic). */
export function layerFromTar(tarball: Buffer, level = 6): Layer {
  const data = gzipSync(tarball, { level });
  return {
    mediaType: MEDIA_TYPES.layerGzip,
    digest: sha256(data),
    size: data.length,
    data,
    diffId: sha256(tarball),
  };
}

/** A layer from bytes that are already a tar.gz (or a plain tar, if they do not gunzip). */
export function layerFromBytes(data: Buffer): Layer {
  let diffId: string;
  let mediaType: string = MEDIA_TYPES.layerGzip;
  try {
    diffId = sha256(gunzipSync(data));
  } catch {
    diffId = sha256(data);
    mediaType = MEDIA_TYPES.layerTar;
  }
  return { mediaType, digest: sha256(data), size: data.length, data, diffId };
}

/**
 * `size` bytes that do not compress, the same for the same seed (AES-256-CTR keystream),
 * or fresh random-looking bytes for each call without a seed.
 */
export function randomBytes(size: number, seed?: string): Buffer {
  const key = createHash("sha256")
    .update(seed ?? `${process.pid}-${Date.now()}-${Math.random()}`)
    .digest();
  const cipher = createCipheriv("aes-256-ctr", key, Buffer.alloc(16, 0));
  const out = cipher.update(Buffer.alloc(size, 0));
  cipher.final();
  return out;
}

/**
 * A valid tar.gz layer holding one file, `random.bin` (or `name`), of `size` incompressible
 * bytes. The blob is about `size` + 1.5 KiB (tar headers + stored gzip blocks).
 */
export function randomLayer(size: number, options: { seed?: string; name?: string } = {}): Layer {
  const content = randomBytes(size, options.seed);
  return tarGzLayer([{ path: options.name ?? "random.bin", content }], 0);
}

/** What a layer can be given as: a ready layer, tar.gz bytes, entries, or a size of random data. */
export type LayerSpec = Layer | Buffer | TarEntry[] | number;

function toLayer(spec: LayerSpec, index: number, seed?: string): Layer {
  if (typeof spec === "number") {
    const options = seed === undefined ? {} : { seed: `${seed}-${index}` };
    return randomLayer(spec, options);
  }
  if (Buffer.isBuffer(spec)) return layerFromBytes(spec);
  if (Array.isArray(spec)) return tarGzLayer(spec);
  return spec;
}

export interface ImageOptions {
  /** Defaults to one small layer holding `hello.txt`. */
  layers?: LayerSpec[];
  /** Defaults to linux/amd64. */
  platform?: Platform;
  /** Seed for layers given as sizes, to make them reproducible. */
  seed?: string;
  /** Extra image config (`config` field of the image config: Env, Cmd, Labels, ...). */
  config?: Record<string, unknown>;
  annotations?: Record<string, string>;
  /** ISO date in the image config; fixed by default so that images are reproducible. */
  created?: string;
}

export interface BuiltImage {
  manifest: Blob;
  config: Blob;
  layers: Layer[];
  platform: Platform;
  /** Every blob that the manifest references (config first, then layers). */
  blobs: Blob[];
}

function blobOf(mediaType: string, json: unknown): Blob {
  const data = Buffer.from(JSON.stringify(json), "utf8");
  return { mediaType, digest: sha256(data), size: data.length, data };
}

function descriptor(blob: Descriptor): Descriptor {
  const out: Descriptor = { mediaType: blob.mediaType, digest: blob.digest, size: blob.size };
  if (blob.platform) out.platform = blob.platform;
  if (blob.annotations) out.annotations = blob.annotations;
  return out;
}

/** An OCI image (manifest, config, layers) in memory. */
export function buildImage(options: ImageOptions = {}): BuiltImage {
  const platform = options.platform ?? { os: "linux", architecture: "amd64" };
  const specs = options.layers ?? [
    [{ path: "hello.txt", content: `hello from ${platform.os}/${platform.architecture}\n` }],
  ];
  const layers = specs.map((spec, i) => toLayer(spec, i, options.seed));
  const configJson: Record<string, unknown> = {
    created: options.created ?? "2024-01-01T00:00:00Z",
    architecture: platform.architecture,
    os: platform.os,
    ...(platform.variant ? { variant: platform.variant } : {}),
    config: options.config ?? { Env: ["PATH=/usr/bin:/bin"] },
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.diffId) },
    history: layers.map(() => ({
      created: options.created ?? "2024-01-01T00:00:00Z",
      created_by: "flotilla test/helpers/oci-layout.ts",
    })),
  };
  const config = blobOf(MEDIA_TYPES.config, configJson);
  const manifestJson: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.manifest,
    config: descriptor(config),
    layers: layers.map(descriptor),
  };
  if (options.annotations) manifestJson.annotations = options.annotations;
  const manifest = blobOf(MEDIA_TYPES.manifest, manifestJson);
  return { manifest, config, layers, platform, blobs: [config, ...layers] };
}

export interface BuiltIndex {
  index: Blob;
  images: BuiltImage[];
  /** Every blob below the index: each image's manifest, config and layers (deduplicated). */
  blobs: Blob[];
}

/** An OCI image index over one image per entry, each with its own platform. */
export function buildIndex(
  images: ImageOptions[],
  annotations?: Record<string, string>,
): BuiltIndex {
  const built = images.map((options) => buildImage(options));
  const indexJson: Record<string, unknown> = {
    schemaVersion: 2,
    mediaType: MEDIA_TYPES.index,
    manifests: built.map((image) => ({ ...descriptor(image.manifest), platform: image.platform })),
  };
  if (annotations) indexJson.annotations = annotations;
  const index = blobOf(MEDIA_TYPES.index, indexJson);
  const seen = new Map<string, Blob>();
  for (const image of built) {
    for (const blob of [image.manifest, ...image.blobs]) seen.set(blob.digest, blob);
  }
  return { index, images: built, blobs: [...seen.values()] };
}

/** Writes blobs into `<dir>/blobs/sha256/`, creating the layout skeleton if needed. */
export async function writeBlobs(dir: string, blobs: Blob[]): Promise<void> {
  await mkdir(join(dir, "blobs", "sha256"), { recursive: true });
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  for (const blob of blobs) {
    const [algorithm, hex] = blob.digest.split(":") as [string, string];
    await mkdir(join(dir, "blobs", algorithm), { recursive: true });
    await writeFile(join(dir, "blobs", algorithm, hex), blob.data);
  }
}

async function writeLayoutIndex(dir: string, entries: Descriptor[]): Promise<void> {
  await writeFile(
    join(dir, "index.json"),
    JSON.stringify({ schemaVersion: 2, mediaType: MEDIA_TYPES.index, manifests: entries }),
  );
}

export interface LayoutOptions {
  /** The `org.opencontainers.image.ref.name` of the entry in index.json; default `latest`. */
  tag?: string;
}

/**
 * Writes an OCI image layout holding one image, reachable as `oci:<dir>:<tag>`.
 * Returns the image, so a test can compare digests and bytes later.
 */
export async function writeImageLayout(
  dir: string,
  options: ImageOptions & LayoutOptions = {},
): Promise<BuiltImage> {
  const image = buildImage(options);
  await writeBlobs(dir, [image.manifest, ...image.blobs]);
  await writeLayoutIndex(dir, [
    {
      ...descriptor(image.manifest),
      annotations: { "org.opencontainers.image.ref.name": options.tag ?? "latest" },
    },
  ]);
  return image;
}

/**
 * Writes an OCI image layout whose tag points at an image index with one image per platform,
 * e.g. `writeIndexLayout(dir, [{platform: {os: "linux", architecture: "amd64"}}, {platform:
 * {os: "linux", architecture: "arm64"}}])`. Reachable as `oci:<dir>:<tag>` (copy with `--all`).
 */
export async function writeIndexLayout(
  dir: string,
  images: ImageOptions[],
  options: LayoutOptions & { annotations?: Record<string, string> } = {},
): Promise<BuiltIndex> {
  const built = buildIndex(images, options.annotations);
  await writeBlobs(dir, [built.index, ...built.blobs]);
  await writeLayoutIndex(dir, [
    {
      ...descriptor(built.index),
      annotations: { "org.opencontainers.image.ref.name": options.tag ?? "latest" },
    },
  ]);
  return built;
}

export interface LayoutContents {
  /** The entries of index.json. */
  entries: Descriptor[];
  /** digest -> size of each file under blobs/, each checked to hash to its own name. */
  blobs: Map<string, number>;
}

/** Reads a layout and verifies that every blob file's sha256 matches its file name. */
export async function readLayout(dir: string): Promise<LayoutContents> {
  const indexJson = JSON.parse(await readFile(join(dir, "index.json"), "utf8")) as {
    manifests: Descriptor[];
  };
  const blobs = new Map<string, number>();
  for (const hex of await readdir(join(dir, "blobs", "sha256"))) {
    const data = await readFile(join(dir, "blobs", "sha256", hex));
    const digest = sha256(data);
    if (digest !== `sha256:${hex}`) throw new Error(`blob ${hex} in ${dir} hashes to ${digest}`);
    blobs.set(digest, data.length);
  }
  return { entries: indexJson.manifests, blobs };
}

/** Reads one blob of a layout by digest. */
export async function readLayoutBlob(dir: string, digest: string): Promise<Buffer> {
  const [algorithm, hex] = digest.split(":") as [string, string];
  return readFile(join(dir, "blobs", algorithm, hex));
}
