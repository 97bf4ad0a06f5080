/** Starts the registries under test, each as its own process on its own loopback port. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { freePort, startInstance } from "../../test/helpers/instance.ts";
import { track } from "./proc.ts";

export type RegistryName = "flotilla" | "distribution";

export interface Registry {
  name: RegistryName;
  /** http://127.0.0.1:port */
  url: string;
  /** 127.0.0.1:port, as skopeo writes it. */
  host: string;
  pid: number;
  output(): string;
  stop(): Promise<void>;
}

export const DISTRIBUTION_BINARY = "/usr/bin/docker-registry";

async function waitForV2(url: string, child: ChildProcess, output: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`registry exited with ${child.exitCode ?? child.signalCode}:\n${output()}`);
    }
    try {
      const res = await fetch(`${url}/v2/`);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) throw new Error(`${url} did not answer /v2/ within 30 s`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** CNCF Distribution with filesystem storage, no auth, error-level logs and no access log. */
export async function startDistribution(dir: string): Promise<Registry> {
  const port = await freePort();
  const dataDir = join(dir, "data");
  await mkdir(dataDir, { recursive: true });
  const config = join(dir, "config.yml");
  await writeFile(
    config,
    [
      "version: 0.1",
      "log:",
      "  level: error",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${dataDir}`,
      "  cache:",
      "    blobdescriptor: inmemory",
      "  delete:",
      "    enabled: true",
      "http:",
      `  addr: 127.0.0.1:${port}`,
      "",
    ].join("\n"),
  );
  const env: Record<string, string> = {};
  for (const [key, value] of Object.entries(process.env)) {
    // REGISTRY_* variables would override the config file.
    if (value !== undefined && !key.startsWith("REGISTRY_")) env[key] = value;
  }
  const child = track(
    spawn(DISTRIBUTION_BINARY, ["serve", config], { env, stdio: ["ignore", "pipe", "pipe"] }),
  );
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  });
  child.stderr?.on("data", (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  try {
    await waitForV2(url, child, () => out);
  } catch (error) {
    child.kill("SIGKILL");
    throw error;
  }
  return {
    name: "distribution",
    url,
    host: `127.0.0.1:${port}`,
    pid: child.pid ?? 0,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      await exited;
    },
  };
}

/**
 * Flotilla as `node src/main.ts serve`, through the same helper the end-to-end tests use. The
 * registry rows compare like with like: Distribution has no IPFS node, so this one runs without;
 * what IPFS costs (push on/off, import, disk, memory) is the IPFS table's subject.
 */
export async function startFlotilla(dir: string): Promise<Registry> {
  const dataDir = join(dir, "data");
  await mkdir(dataDir, { recursive: true });
  const instance = await startInstance({ dataDir, env: { FLOTILLA_IPFS_ENABLED: "false" } });
  track(instance.process);
  return {
    name: "flotilla",
    url: instance.url,
    host: instance.host,
    pid: instance.process.pid ?? 0,
    output: () => instance.output(),
    async stop() {
      await instance.dispose();
    },
  };
}
