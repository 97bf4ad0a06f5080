/** Shared plumbing for the end-to-end tests that drive real container clients. */
import { execFile } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";
import { promisify } from "node:util";

const execFileAsync = promisify(execFile);

/** True when `name` is an executable on PATH. */
export function hasBinary(name: string): boolean {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (!dir) continue;
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      // keep looking
    }
  }
  return false;
}

/**
 * The `skip` option for a test that needs these binaries: false when all are there, else the
 * reason (node:test prints it). With CI set nothing is skipped: `.ci/run` installs them all.
 */
export function needs(...binaries: string[]): false | string {
  const missing = binaries.filter((b) => !hasBinary(b));
  if (missing.length === 0) return false;
  // In CI a missing client is a broken .ci/run, not a reason to pass quietly: run and fail.
  if (process.env.CI) return false;
  return `not installed: ${missing.join(", ")} (skipped; CI installs them)`;
}

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a command; on failure the error message carries the command line, stdout and stderr. */
export async function run(
  command: string,
  args: string[],
  options: { env?: Record<string, string>; cwd?: string; timeout?: number } = {},
): Promise<RunResult> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, {
      env: { ...process.env, ...options.env },
      cwd: options.cwd,
      timeout: options.timeout ?? 180_000,
      maxBuffer: 64 * 1024 * 1024,
      encoding: "utf8",
    });
    return { stdout, stderr };
  } catch (error) {
    const e = error as Error & { stdout?: string; stderr?: string; code?: unknown };
    if (e.code === "ENOENT") {
      throw new Error(`${command} is not installed (.ci/run installs it with apt-get)`);
    }
    throw new Error(
      `${command} ${args.join(" ")} failed (${String(e.code)}): ${e.message}\n` +
        `--- stdout\n${e.stdout ?? ""}\n--- stderr\n${e.stderr ?? ""}`,
    );
  }
}

/** A fresh directory under the OS temp dir, and a function removing it. */
export async function tempDir(prefix: string): Promise<{ path: string; remove(): Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `flotilla-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

/** `skopeo` with the signature policy check off (no /etc/containers/policy.json needed). */
export function skopeo(args: string[], cacheDir: string): Promise<RunResult> {
  return run("skopeo", ["--insecure-policy", ...args], {
    env: { TMPDIR: cacheDir, XDG_RUNTIME_DIR: cacheDir },
  });
}

/**
 * Global flags giving podman and buildah their own storage under `dir` with the vfs driver
 * (works as root in a container without overlay or fuse) and no events journal.
 */
export function storageFlags(dir: string): string[] {
  return [
    "--root",
    join(dir, "root"),
    "--runroot",
    join(dir, "runroot"),
    "--storage-driver",
    "vfs",
  ];
}

export function podman(dir: string, args: string[]): Promise<RunResult> {
  return run("podman", [...storageFlags(dir), "--events-backend", "none", ...args], {
    env: { TMPDIR: dir, XDG_RUNTIME_DIR: join(dir, "runroot") },
  });
}

export function buildah(dir: string, args: string[]): Promise<RunResult> {
  return run("buildah", [...storageFlags(dir), ...args], {
    env: { TMPDIR: dir, XDG_RUNTIME_DIR: join(dir, "runroot") },
  });
}

/** GET or HEAD a registry path with an Accept header; returns status, headers and body. */
export async function http(
  url: string,
  init: RequestInit = {},
): Promise<{ status: number; headers: Headers; body: Buffer }> {
  const res = await fetch(url, init);
  const body = Buffer.from(await res.arrayBuffer());
  return { status: res.status, headers: res.headers, body };
}

export const ACCEPT_ALL_MANIFESTS = [
  "application/vnd.oci.image.manifest.v1+json",
  "application/vnd.oci.image.index.v1+json",
  "application/vnd.docker.distribution.manifest.v2+json",
  "application/vnd.docker.distribution.manifest.list.v2+json",
].join(", ");
