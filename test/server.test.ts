/** The server as an operator runs it: first start, shutdown, TLS, raw request targets, cut bodies. */
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile } from "node:fs/promises";
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { promisify } from "node:util";
import { freePort, type Instance, startInstance } from "./helpers/instance.ts";

const exec = promisify(execFile);
const root = new URL("..", import.meta.url).pathname;

/** Sends a request target byte for byte (no URL normalisation) and returns status and body. */
function rawGet(port: number, target: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1", () => {
      socket.write(`GET ${target} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    });
    let data = "";
    socket.on("data", (d) => {
      data += d.toString();
    });
    socket.on("end", () => {
      const status = Number(data.split(" ")[1]);
      resolve({ status, body: data.slice(data.indexOf("\r\n\r\n") + 4) });
    });
    socket.on("error", reject);
  });
}

describe("a running instance", () => {
  let flotilla: Instance;
  before(async () => {
    flotilla = await startInstance({ env: { FLOTILLA_LOG_LEVEL: "info" } });
  });
  after(async () => {
    await flotilla.dispose();
  });

  it("tells a newcomer on first start where it is and how to push and pull", () => {
    const out = flotilla.output();
    assert.match(out, new RegExp(`Flotilla is running at ${flotilla.url}`));
    assert.match(out, /first start/);
    assert.match(out, /Access control is OFF/);
    assert.match(
      out,
      new RegExp(
        `skopeo copy --dest-tls-verify=false .* docker://127\\.0\\.0\\.1:${flotilla.port}/alice/app:1\\.0`,
      ),
    );
    assert.match(out, new RegExp(`docker pull 127\\.0\\.0\\.1:${flotilla.port}/alice/app:1\\.0`));
  });

  it("tells how to create the administrator when there is none, and how to log in when there is", async () => {
    const bare = await startInstance({ env: { FLOTILLA_AUTH_ENABLED: "true" } });
    try {
      assert.match(bare.output(), /No administrator yet/);
      assert.match(bare.output(), /npx flotilla user add alice --admin/);
      assert.match(bare.output(), /FLOTILLA_ADMIN_USER and FLOTILLA_ADMIN_PASSWORD/);
    } finally {
      await bare.dispose();
    }
    const managed = await startInstance({ auth: true });
    try {
      assert.doesNotMatch(managed.output(), /No administrator yet/);
      assert.match(
        managed.output(),
        new RegExp(`docker login 127\\.0\\.0\\.1:${managed.port} -u admin`),
      );
      assert.match(
        managed.output(),
        new RegExp(`docker://127\\.0\\.0\\.1:${managed.port}/admin/app:1\\.0`),
      );
    } finally {
      await managed.dispose();
    }
  });

  it("logs structured lines with a request id that the error body repeats", async () => {
    const res = await fetch(`${flotilla.url}/v2/nope/manifests/latest`);
    const body = (await res.json()) as {
      errors: Array<{ code: string; detail: { requestId: string } }>;
    };
    assert.equal(res.status, 404);
    const requestId = res.headers.get("x-request-id");
    assert.ok(requestId);
    assert.equal(body.errors[0]?.detail.requestId, requestId);
    await new Promise((r) => setTimeout(r, 100));
    const line = flotilla
      .output()
      .split("\n")
      .find((l) => l.includes(requestId));
    assert.ok(line, "the request's log line carries its id");
    const entry = JSON.parse(line);
    assert.equal(entry.status, 404);
    assert.equal(entry.category, "http");
  });

  it("refuses dot segments and encoded slashes in the request target", async () => {
    for (const target of [
      "/v2/a/../b/manifests/latest",
      "/v2/a/./b/tags/list",
      "/v2/a%2Fb/manifests/latest",
      "/v2/a/%2e%2e/b/tags/list",
      "/v2//a/tags/list",
    ]) {
      const res = await rawGet(flotilla.port, target);
      assert.equal(res.status, 400, target);
      assert.equal(JSON.parse(res.body).errors[0].code, "NAME_INVALID", target);
    }
  });

  it("never makes a blob visible when the client disconnects mid-upload", async () => {
    const blob = randomBytes(4 << 20);
    const digest = `sha256:${createHash("sha256").update(blob).digest("hex")}`;
    await new Promise<void>((resolve) => {
      const req = httpRequest(`${flotilla.url}/v2/cut/short/blobs/uploads/?digest=${digest}`, {
        method: "POST",
        headers: {
          "Content-Length": String(blob.length),
          "Content-Type": "application/octet-stream",
        },
      });
      req.on("error", () => resolve());
      req.write(blob.subarray(0, 1 << 20), () => setTimeout(() => req.destroy(), 100));
      req.on("close", () => resolve());
    });
    await new Promise((r) => setTimeout(r, 300));
    const head = await fetch(`${flotilla.url}/v2/cut/short/blobs/${digest}`, { method: "HEAD" });
    assert.equal(head.status, 404);
    const blobs = join(flotilla.dataDir, "blobs", "sha256", digest.slice(7, 9));
    assert.deepEqual(await readdir(blobs).catch(() => []), []);
    assert.deepEqual(
      await readdir(join(flotilla.dataDir, "uploads")),
      [],
      "the cut upload is cleaned up",
    );
    // The server is still healthy afterwards.
    assert.equal((await fetch(`${flotilla.url}/v2/`)).status, 200);
  });

  it("stops cleanly on SIGTERM with exit code 0", async () => {
    const second = await startInstance({ env: { FLOTILLA_LOG_LEVEL: "info" } });
    assert.equal(await second.stop(), 0);
    assert.match(second.output(), /stopped cleanly/);
    await second.dispose();
  });
});

describe("configuration errors", () => {
  it("exit with a readable message and code 2", async () => {
    const result = await exec(process.execPath, [join(root, "src/main.ts"), "serve"], {
      env: {
        ...process.env,
        FLOTILLA_PORT: "not-a-port",
        FLOTILLA_DATA_DIR: await mkdtemp(join(tmpdir(), "flotilla-")),
      },
    }).catch((e: { code: number; stderr: string }) => e);
    assert.equal((result as { code: number }).code, 2);
    assert.match(
      (result as { stderr: string }).stderr,
      /invalid configuration:\n {2}port: .*\(from FLOTILLA_PORT\)/,
    );
    assert.doesNotMatch((result as { stderr: string }).stderr, /at .*\.ts:\d+/, "no stack trace");
  });
});

describe("TLS", () => {
  it("serves the API over HTTPS from a configured certificate", async (t) => {
    const dir = await mkdtemp(join(tmpdir(), "flotilla-tls-"));
    const cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    try {
      await exec("openssl", [
        "req",
        "-x509",
        "-newkey",
        "rsa:2048",
        "-nodes",
        "-days",
        "1",
        "-subj",
        "/CN=127.0.0.1",
        "-addext",
        "subjectAltName=IP:127.0.0.1",
        "-keyout",
        key,
        "-out",
        cert,
      ]);
    } catch {
      t.skip("openssl is not installed");
      return;
    }
    const port = await freePort();
    const ca = await readFile(cert);
    const get = () =>
      new Promise<{ code: number; header: string | undefined }>((resolve, reject) => {
        const req = httpsRequest(`https://127.0.0.1:${port}/v2/`, { ca }, (res) => {
          res.resume();
          resolve({
            code: res.statusCode ?? 0,
            header: res.headers["docker-distribution-api-version"] as string,
          });
        });
        req.on("error", reject);
        req.end();
      });
    const instance = await startInstance({
      port,
      env: {
        FLOTILLA_SERVER_TLS_CERT: cert,
        FLOTILLA_SERVER_TLS_KEY: key,
        FLOTILLA_PUBLIC_URL: `https://127.0.0.1:${port}`,
      },
      ready: async () => (await get()).code === 200,
    });
    try {
      const response = await get();
      assert.equal(response.code, 200);
      assert.equal(response.header, "registry/2.0");
    } finally {
      await instance.dispose();
    }
  });
});
