import assert from "node:assert/strict";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { after, test } from "node:test";
import { forbiddenAddressReason } from "./address-policy.ts";
import { createGuardedFetcher } from "./guarded-fetch.ts";
import type { FetchFailure, GuardedFetchOptions } from "./types.ts";

const servers: Server[] = [];
after(() => {
  for (const s of servers) s.closeAllConnections?.();
  for (const s of servers) s.close();
});

/** A loopback HTTP server; returns its base URL and the requests it saw. */
async function serve(
  handler: (req: IncomingMessage, res: ServerResponse) => void,
): Promise<{ url: string; port: number; seen: IncomingMessage[] }> {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    seen.push(req);
    handler(req, res);
  });
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const port = (server.address() as AddressInfo).port;
  return { url: `http://127.0.0.1:${port}`, port, seen };
}

const base: GuardedFetchOptions = {
  allowPrivateAddresses: false,
  timeoutMs: 2000,
  maxDocumentBytes: 1024,
};

function failure(result: { ok: boolean }): FetchFailure {
  assert.equal(result.ok, false, "expected a refusal");
  return result as FetchFailure;
}

test("refuses every private and special address class before connecting", async () => {
  const fetcher = createGuardedFetcher({}, base);
  const urls = [
    "http://127.0.0.1:1/",
    "http://[::1]:1/",
    "http://10.0.0.1/",
    "http://172.16.5.4/",
    "http://192.168.0.1/",
    "http://[fd00::1]/",
    "http://169.254.169.254/latest/meta-data/",
    "http://[fe80::1]/",
    "http://0.0.0.0/",
    "http://[::]/",
    "http://224.0.0.1/",
    "http://[ff02::1]/",
    "http://100.64.0.1/",
    "http://[::ffff:127.0.0.1]/",
    "http://[::ffff:169.254.169.254]/",
    "http://[::ffff:10.0.0.1]/",
  ];
  for (const url of urls) {
    const result = failure(await fetcher.fetchDocument(url));
    assert.equal(result.reason, "forbidden-address", url);
    assert.match(result.message, /allowPrivateAddresses is off/);
  }
});

test("refuses a name that resolves to loopback, and a name with any private answer", async () => {
  const fetcher = createGuardedFetcher(
    {
      resolve: async (host) =>
        host === "mixed.test"
          ? [
              { address: "93.184.216.34", family: 4 },
              { address: "10.0.0.7", family: 4 },
            ]
          : [{ address: "127.0.0.1", family: 4 }],
    },
    base,
  );
  const loop = failure(await fetcher.fetchDocument("http://localhost:5000/"));
  assert.equal(loop.reason, "forbidden-address");
  assert.match(loop.message, /loopback/);
  const mixed = failure(await fetcher.fetchDocument("http://mixed.test/"));
  assert.match(mixed.message, /10\.0\.0\.7, a private address/);
});

test("refuses schemes other than http and https", async () => {
  const fetcher = createGuardedFetcher({}, base);
  for (const url of ["file:///etc/passwd", "ftp://example.org/x", "gopher://example.org/"]) {
    assert.equal(failure(await fetcher.fetchDocument(url)).reason, "unsupported-scheme");
  }
  assert.equal(failure(await fetcher.fetchDocument("not a url")).reason, "invalid-url");
});

test("a redirect to a private address is refused at that hop", async () => {
  const internal = await serve((_req, res) => res.end("secret"));
  const targets = [
    `http://127.0.0.2:${internal.port}/`,
    `http://[::1]:${internal.port}/`,
    "http://169.254.169.254/latest/meta-data/",
    `http://[::ffff:127.0.0.1]:${internal.port}/`,
    "file:///etc/passwd",
  ];
  const origin = await serve((req, res) => {
    const i = Number(req.url?.slice(1));
    res.writeHead(302, { location: targets[i] }).end();
  });
  // 127.0.0.1 stands in for a public server here; every other address is judged as usual.
  const fetcher = createGuardedFetcher(
    { forbidden: (a) => (a === "127.0.0.1" ? undefined : forbiddenAddressReason(a)) },
    base,
  );
  for (let i = 0; i < targets.length; i++) {
    const result = failure(await fetcher.fetchDocument(`${origin.url}/${i}`));
    assert.equal(
      result.reason,
      i === targets.length - 1 ? "unsupported-scheme" : "forbidden-address",
      targets[i],
    );
  }
  assert.equal(internal.seen.length, 0, "the internal server was never reached");
  assert.equal(origin.seen.length, targets.length);
});

test("reaches a loopback server when private addresses are allowed; follows redirects, at most 5", async () => {
  const server = await serve((req, res) => {
    const n = Number(req.url?.slice(1) || "0");
    if (n > 0) res.writeHead(307, { location: `/${n - 1}` }).end();
    else res.writeHead(200, { "content-type": "text/plain" }).end("hello");
  });
  const fetcher = createGuardedFetcher({}, { ...base, allowPrivateAddresses: true });
  const direct = await fetcher.fetchDocument(`${server.url}/0`);
  assert.ok(direct.ok);
  assert.equal(new TextDecoder().decode(direct.bytes), "hello");
  assert.equal(direct.headers["content-type"], "text/plain");
  const five = await fetcher.fetchDocument(`${server.url}/5`);
  assert.ok(five.ok);
  assert.equal(five.url, `${server.url}/0`);
  const six = failure(await fetcher.fetchDocument(`${server.url}/6`));
  assert.equal(six.reason, "too-many-redirects");
});

test("connects to the address it checked: one lookup per hop, no second answer", async () => {
  const server = await serve((_req, res) => res.end("ok"));
  let lookups = 0;
  const fetcher = createGuardedFetcher(
    {
      // A rebinding name: the first answer is the server, any later one somewhere else.
      resolve: async () => {
        lookups++;
        return [{ address: lookups === 1 ? "127.0.0.1" : "10.9.9.9", family: 4 }];
      },
    },
    { ...base, allowPrivateAddresses: true },
  );
  const result = await fetcher.fetchDocument(`http://rebind.test:${server.port}/`);
  assert.ok(result.ok);
  assert.equal(lookups, 1);
  assert.equal(server.seen[0]?.headers.host, `rebind.test:${server.port}`);
});

test("credentials are not carried to another origin on a redirect", async () => {
  const other = await serve((_req, res) => res.end("other"));
  const first = await serve((_req, res) =>
    res.writeHead(302, { location: `${other.url}/x` }).end(),
  );
  const fetcher = createGuardedFetcher({}, { ...base, allowPrivateAddresses: true });
  const result = await fetcher.fetchDocument(first.url, {
    headers: { authorization: "Bearer secret" },
  });
  assert.ok(result.ok);
  assert.equal(first.seen[0]?.headers.authorization, "Bearer secret");
  assert.equal(other.seen[0]?.headers.authorization, undefined);
});

test("size limits: a declared length and a streamed body past the limit", async () => {
  const server = await serve((req, res) => {
    if (req.url === "/denied") res.writeHead(401, { "content-length": "100" }).end("x".repeat(100));
    else if (req.url === "/declared")
      res.writeHead(200, { "content-length": "5000" }).end("x".repeat(5000));
    else {
      res.writeHead(200);
      res.write("y".repeat(800));
      res.end("y".repeat(800));
    }
  });
  const fetcher = createGuardedFetcher({}, { ...base, allowPrivateAddresses: true });
  assert.equal(failure(await fetcher.fetchDocument(`${server.url}/declared`)).reason, "too-large");
  assert.equal(failure(await fetcher.fetchDocument(`${server.url}/streamed`)).reason, "too-large");
  const stream = await fetcher.open(`${server.url}/streamed`, { maxBytes: 1000 });
  assert.ok(stream.ok);
  await assert.rejects(async () => {
    for await (const _ of stream.body);
  }, /more than 1000 bytes/);
  // An error answer larger than a blob's size still reaches the caller (a token challenge).
  const denied = await fetcher.open(`${server.url}/denied`, { maxBytes: 10 });
  assert.ok(denied.ok);
  assert.equal(denied.status, 401);
  denied.discard();
  const enough = await fetcher.fetchDocument(`${server.url}/streamed`, { maxBytes: 1600 });
  assert.ok(enough.ok);
  assert.equal(enough.bytes.byteLength, 1600);
});

test("timeouts: no headers, and a body that stalls", async () => {
  const server = await serve((req, res) => {
    if (req.url === "/stall") {
      res.writeHead(200);
      res.write("partial");
    }
    // otherwise: never answer
  });
  const fetcher = createGuardedFetcher(
    {},
    { ...base, allowPrivateAddresses: true, timeoutMs: 300 },
  );
  const started = Date.now();
  assert.equal(failure(await fetcher.fetchDocument(`${server.url}/silent`)).reason, "timeout");
  assert.equal(failure(await fetcher.fetchDocument(`${server.url}/stall`)).reason, "timeout");
  assert.ok(Date.now() - started < 5000);
});

test("an AbortSignal cancels a fetch", async () => {
  const server = await serve(() => {});
  const fetcher = createGuardedFetcher({}, { ...base, allowPrivateAddresses: true });
  const controller = new AbortController();
  setTimeout(() => controller.abort(), 50);
  const result = failure(await fetcher.fetchDocument(server.url, { signal: controller.signal }));
  assert.equal(result.reason, "aborted");
});
