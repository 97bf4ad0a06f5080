/** Random, incompressible test content: raw blobs and OCI image layouts of uncompressed tar layers. */
import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { mkdir, open, rename, writeFile } from "node:fs/promises";
import { join } from "node:path";

export const MiB = 1024 * 1024;
const CHUNK = 4 * MiB;

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
}

export interface Layout {
  dir: string;
  /** skopeo source reference, `oci:<dir>:latest`. */
  ref: string;
  manifestDigest: string;
  layers: Descriptor[];
  /** Bytes of all layers. */
  bytes: number;
}

/** Random bytes at a few GB/s: AES-128-CTR over zeros with a random key. */
function randomStream(): (length: number) => Buffer {
  const cipher = createCipheriv("aes-128-ctr", randomBytes(16), randomBytes(16));
  const zeros = Buffer.alloc(CHUNK);
  return (length) => cipher.update(zeros.subarray(0, length));
}

/** A ustar header for one regular file of `size` bytes. */
function tarHeader(name: string, size: number): Buffer {
  const header = Buffer.alloc(512);
  const put = (value: string, offset: number, length: number) => {
    header.write(value.slice(0, length), offset, "ascii");
  };
  const octal = (value: number, length: number) =>
    `${value.toString(8).padStart(length - 1, "0")}\0`;
  put(name, 0, 100);
  put(octal(0o644, 8), 100, 8);
  put(octal(0, 8), 108, 8);
  put(octal(0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(1_700_000_000, 12), 136, 12);
  put("        ", 148, 8);
  put("0", 156, 1);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  put("root", 265, 32);
  put("root", 297, 32);
  let sum = 0;
  for (const byte of header) sum += byte;
  put(`${sum.toString(8).padStart(6, "0")}\0 `, 148, 8);
  return header;
}

/**
 * Writes `size` random bytes (wrapped as a one-file tar if `tar`) to `path`, hashing as it goes.
 * Returns the sha256 digest and the size of what was written.
 */
export async function writeRandomFile(
  path: string,
  size: number,
  tar = false,
): Promise<{ digest: string; size: number }> {
  const next = randomStream();
  const hash = createHash("sha256");
  const file = await open(path, "w");
  let written = 0;
  const write = async (buf: Buffer) => {
    hash.update(buf);
    await file.write(buf);
    written += buf.length;
  };
  try {
    if (tar) await write(tarHeader("data.bin", size));
    for (let left = size; left > 0; left -= CHUNK) await write(next(Math.min(CHUNK, left)));
    if (tar) {
      const pad = (512 - (size % 512)) % 512;
      await write(Buffer.alloc(pad + 1024));
    }
  } finally {
    await file.close();
  }
  return { digest: `sha256:${hash.digest("hex")}`, size: written };
}

async function writeBlob(dir: string, content: Buffer | string): Promise<Descriptor["digest"]> {
  const digest = createHash("sha256").update(content).digest("hex");
  await writeFile(join(dir, "blobs", "sha256", digest), content);
  return `sha256:${digest}`;
}

/**
 * Writes an OCI image layout at `dir` holding one image tagged `latest` whose layers are
 * uncompressed tars of random data, one per entry of `layerSizes`.
 */
export async function writeLayout(dir: string, layerSizes: number[]): Promise<Layout> {
  const blobs = join(dir, "blobs", "sha256");
  await mkdir(blobs, { recursive: true });
  const layers: Descriptor[] = [];
  for (const [i, size] of layerSizes.entries()) {
    const tmp = join(blobs, `tmp-${i}`);
    const { digest, size: written } = await writeRandomFile(tmp, size, true);
    await rename(tmp, join(blobs, digest.slice("sha256:".length)));
    layers.push({ mediaType: "application/vnd.oci.image.layer.v1.tar", digest, size: written });
  }
  const config = JSON.stringify({
    created: "2024-01-01T00:00:00Z",
    architecture: "amd64",
    os: "linux",
    config: {},
    rootfs: { type: "layers", diff_ids: layers.map((l) => l.digest) },
    history: layers.map(() => ({ created: "2024-01-01T00:00:00Z", created_by: "flotilla bench" })),
  });
  const configDescriptor: Descriptor = {
    mediaType: "application/vnd.oci.image.config.v1+json",
    digest: await writeBlob(dir, config),
    size: Buffer.byteLength(config),
  };
  const manifest = JSON.stringify({
    schemaVersion: 2,
    mediaType: "application/vnd.oci.image.manifest.v1+json",
    config: configDescriptor,
    layers,
  });
  const manifestDigest = await writeBlob(dir, manifest);
  await writeFile(join(dir, "oci-layout"), JSON.stringify({ imageLayoutVersion: "1.0.0" }));
  await writeFile(
    join(dir, "index.json"),
    JSON.stringify({
      schemaVersion: 2,
      mediaType: "application/vnd.oci.image.index.v1+json",
      manifests: [
        {
          mediaType: "application/vnd.oci.image.manifest.v1+json",
          digest: manifestDigest,
          size: Buffer.byteLength(manifest),
          annotations: { "org.opencontainers.image.ref.name": "latest" },
        },
      ],
    }),
  );
  return {
    dir,
    ref: `oci:${dir}:latest`,
    manifestDigest,
    layers,
    bytes: layers.reduce((n, l) => n + l.size, 0),
  };
}
