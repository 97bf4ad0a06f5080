import assert from "node:assert/strict";
import { connect } from "node:net";
import { after, before, describe, it } from "node:test";
import { silentLogger } from "../log/index.ts";
import { mediaTypes } from "../registry/index.ts";
import { createApp } from "./app.ts";
import { authFixture } from "./auth/test-fixture.ts";
import { defaultLimits, type LimitsOptions } from "./limits.ts";
import { maxPageSize } from "./pagination.ts";
import { listen, type RunningServer } from "./server.ts";
import {
  createTestRegistry,
  errorCode,
  expectError,
  pushImage,
  sha256,
  type TestRegistry,
  withBody,
  withQuery,
} from "./test-support.ts";
import type { HttpApp } from "./types.ts";

const name = "alice/app";

async function appWith(limits: Partial<LimitsOptions>) {
  const t = await createTestRegistry();
  const app = createApp(
    { registry: t.registry, log: silentLogger() },
    {
      limits: { ...defaultLimits, ...limits },
      clientAddress: (c) => c.req.header("x-test-client"),
    },
  );
  return { ...t, app };
}

/** A request body that sends `first` and then waits until `release()` is called. */
function heldBody(first: string) {
  let release = () => {};
  const released = new Promise<void>((resolve) => {
    release = resolve;
  });
  const body = new ReadableStream<Uint8Array>({
    async start(controller) {
      controller.enqueue(new TextEncoder().encode(first));
      await released;
      controller.close();
    },
  });
  return { body, release };
}

async function startUploadOn(app: HttpApp, client: string): Promise<string> {
  const res = await app.request(`/v2/${name}/blobs/uploads/`, {
    method: "POST",
    headers: { "x-test-client": client },
  });
  assert.equal(res.status, 202);
  return res.headers.get("Location") ?? "";
}

describe("concurrent uploads per client", () => {
  it("one upload request too many is 429 TOOMANYREQUESTS with Retry-After, per address", async () => {
    const { app } = await appWith({ maxConcurrentUploadsPerClient: 2 });
    const locations = [
      await startUploadOn(app, "a"),
      await startUploadOn(app, "a"),
      await startUploadOn(app, "a"),
    ];
    const held = [heldBody("abc"), heldBody("abc")];
    const patch = (location: string, client: string, body: string | ReadableStream<Uint8Array>) =>
      app.request(location, {
        method: "PATCH",
        body,
        headers: { "x-test-client": client },
        duplex: "half",
      } as RequestInit);
    const running = held.map((h, i) => patch(locations[i] as string, "a", h.body));
    await new Promise((resolve) => setTimeout(resolve, 50));

    const refused = await patch(locations[2] as string, "a", "abc");
    assert.equal(refused.headers.get("Retry-After"), "2");
    await expectError(refused, 429, "TOOMANYREQUESTS");
    // Starting an upload is an upload request too; reads are not.
    await expectError(
      app.request(`/v2/${name}/blobs/uploads/`, {
        method: "POST",
        headers: { "x-test-client": "a" },
      }),
      429,
      "TOOMANYREQUESTS",
    );
    const status = await app.request(locations[2] as string, { headers: { "x-test-client": "a" } });
    assert.equal(status.status, 204);

    // Another address has its own allowance.
    const other = await startUploadOn(app, "b");
    assert.equal((await patch(other, "b", "xyz")).status, 202);

    for (const h of held) h.release();
    for (const res of await Promise.all(running)) assert.equal(res.status, 202);
    // The slots are free again: the refused chunk goes through and the blob completes.
    assert.equal((await patch(locations[2] as string, "a", "abc")).status, 202);
    const done = await app.request(withQuery(locations[2] as string, `digest=${sha256("abc")}`), {
      method: "PUT",
      headers: { "x-test-client": "a" },
    });
    assert.equal(done.status, 201);
  });
});

describe("bodies outside the blob API", () => {
  it("a token request larger than the limit is 413 SIZE_INVALID, declared or streamed", async () => {
    const fixture = await authFixture();
    const big = "grant_type=password&username=alice&password=".padEnd(1024 * 1024 + 10, "x");
    const declared = await fixture.app.request("/token", withBody("POST", big));
    await expectError(declared, 413, "SIZE_INVALID");
    const chunks = [big.slice(0, 600_000), big.slice(600_000)];
    const streamed = await fixture.app.request("/token", {
      method: "POST",
      body: new ReadableStream({
        pull(controller) {
          const next = chunks.shift();
          if (next === undefined) controller.close();
          else controller.enqueue(new TextEncoder().encode(next));
        },
      }),
      duplex: "half",
    } as RequestInit);
    await expectError(streamed, 413, "SIZE_INVALID");
    // A normal one still works.
    const ok = await fixture.app.request(
      "/token",
      withBody("POST", "grant_type=password&username=alice&password=alice-password", {
        "Content-Type": "application/x-www-form-urlencoded",
      }),
    );
    assert.equal(ok.status, 200);
  });

  it("any JSON API path refuses a body over the limit before routing", async () => {
    const { app } = await appWith({ maxApiBodyBytes: 1000 });
    const res = await app.request("/api/v1/anything", withBody("POST", "x".repeat(1001)));
    await expectError(res, 413, "SIZE_INVALID");
    // The blob API is not subject to it (its bodies stream).
    const blob = "y".repeat(5000);
    const pushed = await app.request(
      `/v2/${name}/blobs/uploads/?digest=${sha256(blob)}`,
      withBody("POST", blob),
    );
    assert.equal(pushed.status, 201);
  });
});

describe("very long tag lists", () => {
  let t: TestRegistry;
  const total = 10_000;
  before(async () => {
    t = await createTestRegistry();
    const image = await pushImage(t.app, name, { tag: "t00000" });
    const record = { repository: name, digest: image.digest, mediaType: mediaTypes.ociManifest };
    for (let i = 1; i < total; i++) {
      await t.meta.putManifest(
        { ...record, size: image.bytes.byteLength },
        [],
        `t${String(i).padStart(5, "0")}`,
      );
    }
  });

  it("?n=100000 is capped to one page with a next link, and the pages walk all tags", async () => {
    const res = await t.app.request(`/v2/${name}/tags/list?n=100000`);
    assert.equal(res.status, 200);
    const text = await res.text();
    const first = JSON.parse(text) as { tags: string[] };
    const cap = maxPageSize;
    assert.equal(first.tags.length, cap);
    assert.ok(text.length < 20 * cap, `one page stays small (${text.length} bytes)`);
    const link = res.headers.get("Link") ?? "";
    assert.match(link, /rel="next"/);

    const seen = new Set(first.tags);
    let next = /<([^>]+)>/.exec(link)?.[1];
    let pages = 1;
    const heapBefore = process.memoryUsage().heapUsed;
    while (next) {
      const page = await t.app.request(next);
      const body = (await page.json()) as { tags: string[] };
      assert.ok(body.tags.length <= cap);
      for (const tag of body.tags) seen.add(tag);
      next = /<([^>]+)>/.exec(page.headers.get("Link") ?? "")?.[1];
      pages++;
    }
    assert.equal(seen.size, total);
    assert.equal(pages, Math.ceil(total / cap) + (total % cap === 0 ? 1 : 0));
    const grown = process.memoryUsage().heapUsed - heapBefore;
    assert.ok(grown < 64 * 1024 * 1024, `walking ${pages} pages grew the heap by ${grown} bytes`);
  });

  it("an invalid n is 400 PAGINATION_NUMBER_INVALID", async () => {
    for (const n of ["-1", "1e9", "abc", "9999999999"]) {
      const res = await t.app.request(`/v2/${name}/tags/list?n=${n}`);
      assert.equal(res.status, 400, n);
      assert.equal(await errorCode(res), "PAGINATION_NUMBER_INVALID");
    }
  });
});

describe("socket limits", () => {
  let server: RunningServer;
  let app: HttpApp;
  before(async () => {
    ({ app } = await appWith({ maxHeaderBytes: 4096, slowBodySeconds: 1, slowBodyMinBytes: 64 }));
    server = await listen(app, {
      port: 0,
      host: "127.0.0.1",
      headersTimeoutSeconds: 10,
      idleTimeoutSeconds: 60,
      limits: {
        ...defaultLimits,
        maxHeaderBytes: 4096,
        slowBodySeconds: 1,
        slowBodyMinBytes: 64,
      },
    });
  });
  after(() => server.close(100));

  /** Writes raw bytes and resolves with everything the server sent until it closed. */
  function raw(write: (send: (data: string) => boolean) => Promise<void> | void) {
    return new Promise<{ reply: string; ms: number }>((resolve, reject) => {
      const started = Date.now();
      const socket = connect(server.port, "127.0.0.1");
      let reply = "";
      socket.on("data", (d) => {
        reply += d.toString();
      });
      socket.on("error", () => {});
      socket.on("close", () => resolve({ reply, ms: Date.now() - started }));
      socket.on("connect", () => {
        Promise.resolve(
          write((data) => {
            if (socket.destroyed) return false;
            socket.write(data);
            return true;
          }),
        ).catch(reject);
      });
    });
  }

  it("a request head over the limit is 431 with an OCI error body", async () => {
    const { reply } = await raw((send) => {
      send(`GET /v2/ HTTP/1.1\r\nHost: x\r\nX-Big: ${"a".repeat(8000)}\r\n\r\n`);
    });
    assert.match(reply, /^HTTP\/1\.1 431 /);
    const body = JSON.parse(reply.slice(reply.indexOf("\r\n\r\n") + 4));
    assert.equal(body.errors[0].code, "SIZE_INVALID");
  });

  it("garbage instead of HTTP is 400 with an OCI error body", async () => {
    const { reply } = await raw((send) => {
      send("\u0000\u0001 nonsense\r\n\r\n");
    });
    assert.match(reply, /^HTTP\/1\.1 400 /);
    assert.match(reply, /"code":"UNSUPPORTED"/);
  });

  it("a body trickling one byte at a time is cut, and the upload resumes intact", async () => {
    const url = `http://127.0.0.1:${server.port}`;
    const location = (await fetch(`${url}/v2/${name}/blobs/uploads/`, { method: "POST" })).headers
      .get("Location")
      ?.toString();
    assert.ok(location);
    const data = Buffer.from("0123456789".repeat(20));
    let sent = 0;
    const { ms } = await raw(async (send) => {
      send(
        `PATCH ${location} HTTP/1.1\r\nHost: x\r\nContent-Type: application/octet-stream\r\n` +
          `Content-Length: ${data.length}\r\n\r\n`,
      );
      // One byte every 250 ms: far below 64 bytes a second. The server must hang up.
      while (sent < data.length) {
        if (!send(data.subarray(sent, sent + 1).toString())) break;
        sent++;
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    });
    assert.ok(ms < 8000, `cut after ${ms} ms`);
    // What arrived is kept and reported; the rest resumes from there.
    let offset = -1;
    for (let i = 0; i < 20; i++) {
      const status = await fetch(`${url}${location}`);
      offset = Number((status.headers.get("Range") ?? "0-0").split("-")[1]) + 1;
      if (offset > 0) break;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    assert.ok(offset > 0 && offset <= sent, `kept ${offset} of ${sent} bytes sent`);
    const rest = data.subarray(offset);
    const patched = await fetch(`${url}${location}`, {
      method: "PATCH",
      body: rest,
      headers: { "Content-Range": `${offset}-${data.length - 1}` },
    });
    assert.equal(patched.status, 202);
    const done = await fetch(`${url}${withQuery(location, `digest=${sha256(data)}`)}`, {
      method: "PUT",
    });
    assert.equal(done.status, 201, await done.text());
    const blob = Buffer.from(
      await (await fetch(`${url}/v2/${name}/blobs/${sha256(data)}`)).bytes(),
    );
    assert.ok(blob.equals(data));
  });

  it("a normal upload over the socket is untouched by the watchdog", async () => {
    const url = `http://127.0.0.1:${server.port}`;
    const data = Buffer.alloc(3 * 1024 * 1024, 7);
    const res = await fetch(`${url}/v2/${name}/blobs/uploads/?digest=${sha256(data)}`, {
      method: "POST",
      body: data,
    });
    assert.equal(res.status, 201);
  });
});
