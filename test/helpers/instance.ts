/** Starts Flotilla as its own process for end-to-end tests, the way an operator would. */
import { type ChildProcess, spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = new URL("../..", import.meta.url).pathname;

export interface Instance {
  url: string;
  /** host:port, as container clients write it. */
  host: string;
  port: number;
  dataDir: string;
  process: ChildProcess;
  /** Output the process wrote so far (stdout and stderr). */
  output(): string;
  /** SIGTERM and wait for the exit code. */
  stop(): Promise<number | null>;
  /** SIGKILL, as a crash would. */
  kill(): Promise<void>;
  /** Stop, and remove the data directory unless `keepData`. */
  dispose(): Promise<void>;
}

export interface InstanceOptions {
  port?: number;
  dataDir?: string;
  env?: Record<string, string>;
  keepData?: boolean;
  args?: string[];
  /** Extra flags for node itself (profiling: `--cpu-prof`), before the script. */
  nodeArgs?: string[];
  /**
   * Token authentication with an administrator (`admin` / `admin-secret-1`). Off by default: tests
   * about clients and the OCI API run against an open registry (`auth.enabled: false`).
   */
  auth?: boolean;
  /** How to tell the instance is up (default: GET /v2/ over plain HTTP answers 200 or 401). */
  ready?: () => Promise<boolean>;
}

/** Asks the kernel for a free TCP port on loopback. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.unref();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      const port = typeof address === "object" && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/** The administrator of instances started with `auth: true`. */
export const admin = { user: "admin", password: "admin-secret-1" };

export async function startInstance(options: InstanceOptions = {}): Promise<Instance> {
  const port = options.port ?? (await freePort());
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), "flotilla-test-")));
  const url = `http://127.0.0.1:${port}`;
  const child = spawn(
    process.execPath,
    // The same V8 flag `npm start` uses (package.json), so tests and benchmarks see what operators run.
    [
      "--max-semi-space-size=1",
      ...(options.nodeArgs ?? []),
      join(root, "src/main.ts"),
      ...(options.args ?? ["serve"]),
    ],
    {
      cwd: root,
      env: {
        ...process.env,
        FLOTILLA_PORT: String(port),
        FLOTILLA_DATA_DIR: dataDir,
        FLOTILLA_PUBLIC_URL: url,
        FLOTILLA_LOG_LEVEL: process.env.FLOTILLA_LOG_LEVEL ?? "warn",
        ...(options.auth
          ? { FLOTILLA_ADMIN_USER: admin.user, FLOTILLA_ADMIN_PASSWORD: admin.password }
          : { FLOTILLA_AUTH_ENABLED: "false" }),
        ...options.env,
      },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let out = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => resolve(code)),
  );

  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`flotilla exited with ${child.exitCode}:\n${out}`);
    try {
      if (options.ready) {
        if (await options.ready()) break;
      } else {
        const res = await fetch(`${url}/v2/`);
        await res.arrayBuffer();
        if (res.status === 200 || res.status === 401) break;
      }
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill("SIGKILL");
      throw new Error(`flotilla did not start within 30 s:\n${out}`);
    }
    await new Promise((r) => setTimeout(r, 100));
  }

  const instance: Instance = {
    url,
    host: `127.0.0.1:${port}`,
    port,
    dataDir,
    process: child,
    output: () => out,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGTERM");
      return exited;
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
    async dispose() {
      await instance.stop();
      if (!options.keepData) await rm(dataDir, { recursive: true, force: true });
    },
  };
  return instance;
}

/** The instance's IPFS node address on loopback, for another instance's FLOTILLA_PEERS. */
export async function ipfsAddress(instance: Instance): Promise<string> {
  const info = (await (await fetch(`${instance.url}/api/v1/ipfs`)).json()) as {
    addresses: string[];
  };
  const address = info.addresses.find((a) => a.startsWith("/ip4/127.0.0.1/"));
  if (!address) throw new Error(`no loopback IPFS address in ${info.addresses.join(", ")}`);
  return address;
}
