/**
 * HTTPS through the guarded fetcher: it connects to the address it checked, yet the certificate
 * is verified against the host name, as if the name had been looked up the usual way.
 */
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:https";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, test } from "node:test";
import { getCACertificates, setDefaultCACertificates } from "node:tls";
import { createGuardedFetcher } from "./guarded-fetch.ts";

const skip = (() => {
  try {
    execFileSync("openssl", ["version"], { stdio: "ignore" });
    return false;
  } catch {
    return "openssl is not installed";
  }
})();
const dir = mkdtempSync(join(tmpdir(), "flotilla-tls-"));
const servers: Server[] = [];
after(() => {
  for (const s of servers) s.close();
  rmSync(dir, { recursive: true, force: true });
});

function certificate(name: string): { key: Buffer; cert: Buffer } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  execFileSync(
    "openssl",
    [
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:prime256v1",
      "-nodes",
      "-keyout",
      key,
      "-out",
      cert,
      "-days",
      "1",
      "-subj",
      `/CN=${name}`,
      "-addext",
      `subjectAltName=DNS:${name}`,
    ],
    { stdio: "ignore" },
  );
  return { key: readFileSync(key), cert: readFileSync(cert) };
}

async function serve(credentials: { key: Buffer; cert: Buffer }): Promise<number> {
  const server = createServer(credentials, (req, res) => res.end(`hello ${req.headers.host}`));
  servers.push(server);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return (server.address() as AddressInfo).port;
}

const fetcher = createGuardedFetcher(
  { resolve: async () => [{ address: "127.0.0.1", family: 4 }] },
  { allowPrivateAddresses: true, timeoutMs: 5000, maxDocumentBytes: 1024 },
);

test("the certificate is checked against the host name, not the address connected to", {
  skip,
}, async () => {
  const good = certificate("mirror.test");
  const other = certificate("other.test");
  const goodPort = await serve(good);
  const otherPort = await serve(other);

  const untrusted = await fetcher.fetchDocument(`https://mirror.test:${goodPort}/`);
  assert.equal(untrusted.ok, false, "a certificate nobody vouches for is refused");

  setDefaultCACertificates([
    ...getCACertificates("default"),
    good.cert.toString(),
    other.cert.toString(),
  ]);
  const trusted = await fetcher.fetchDocument(`https://mirror.test:${goodPort}/`);
  assert.ok(trusted.ok, JSON.stringify(trusted));
  assert.equal(new TextDecoder().decode(trusted.bytes), `hello mirror.test:${goodPort}`);

  const mismatch = await fetcher.fetchDocument(`https://mirror.test:${otherPort}/`);
  assert.equal(mismatch.ok, false, "a trusted certificate for another name is refused");
  assert.match((mismatch as { message: string }).message, /mirror\.test|altnames|Hostname/i);
});
