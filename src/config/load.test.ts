import assert from "node:assert/strict";
import { mkdtemp, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, it } from "node:test";
import { ConfigError, configKeys, loadConfig } from "./load.ts";

async function yamlFile(text: string): Promise<string> {
  const path = join(await mkdtemp(join(tmpdir(), "flotilla-config-")), "flotilla.yaml");
  await writeFile(path, text);
  return path;
}

describe("loadConfig", () => {
  it("gives the embedded defaults with nothing set", () => {
    const config = loadConfig(undefined, {});
    assert.equal(config.port, 5000);
    assert.equal(config.dataDir, "./data");
    assert.equal(config.publicUrl, "http://localhost:5000");
    assert.deepEqual(config.ipfs.peers, []);
    assert.equal(config.registry.maxManifestBytes, 4 * 1024 * 1024);
  });

  it("reads YAML and lets the environment override it", async () => {
    const file = await yamlFile("port: 6000\nserver:\n  host: 127.0.0.1\nlog:\n  level: debug\n");
    const config = loadConfig(file, {
      FLOTILLA_PORT: "7000",
      FLOTILLA_PEERS: "/ip4/1.2.3.4/tcp/1, /ip4/5.6.7.8/tcp/2",
    });
    assert.equal(config.port, 7000);
    assert.equal(config.server.host, "127.0.0.1");
    assert.equal(config.log.level, "debug");
    assert.equal(config.publicUrl, "http://localhost:7000");
    assert.deepEqual(config.ipfs.peers, ["/ip4/1.2.3.4/tcp/1", "/ip4/5.6.7.8/tcp/2"]);
  });

  it("has an environment variable for every key", () => {
    const names = configKeys().map((k) => k.env);
    for (const fixed of [
      "FLOTILLA_PORT",
      "FLOTILLA_DATA_DIR",
      "FLOTILLA_PUBLIC_URL",
      "FLOTILLA_ADMIN_USER",
      "FLOTILLA_ADMIN_PASSWORD",
    ]) {
      assert.ok(names.includes(fixed), fixed);
    }
    assert.equal(
      loadConfig(undefined, { FLOTILLA_SERVER_TRUST_PROXY: "true" }).server.trustProxy,
      true,
    );
    assert.deepEqual(
      loadConfig(undefined, { FLOTILLA_SERVER_TRUST_PROXY: "10.0.0.1,10.0.0.2" }).server.trustProxy,
      ["10.0.0.1", "10.0.0.2"],
    );
    assert.equal(
      loadConfig(undefined, { FLOTILLA_REGISTRY_UPLOAD_EXPIRY_HOURS: "2" }).registry
        .uploadExpiryHours,
      2,
    );
  });

  it("explains each problem with the key and where the value came from", async () => {
    const file = await yamlFile("port: 70000\nserer:\n  host: x\n");
    const error = (() => {
      try {
        loadConfig(file, { FLOTILLA_LOG_LEVEL: "loud" });
      } catch (e) {
        return e as Error;
      }
    })();
    assert.ok(error instanceof ConfigError);
    assert.match(error.message, /port: .*\(from .*flotilla\.yaml\)/);
    assert.match(error.message, /serer/);
    assert.match(error.message, /log\.level: .*\(from FLOTILLA_LOG_LEVEL\)/);
  });

  it("refuses broken YAML, a non-mapping file, half a TLS pair and bad URLs", async () => {
    assert.throws(
      () => loadConfig(join(tmpdir(), "does-not-exist.yaml"), {}),
      /cannot read config file/,
    );
    assert.throws(
      () => loadConfig(undefined, { FLOTILLA_CONFIG: "/nonexistent/flotilla.yaml" }),
      ConfigError,
    );
    assert.throws(
      () => loadConfig(undefined, {}) && loadConfig(undefined, { FLOTILLA_PUBLIC_URL: "ftp://x" }),
      /publicUrl/,
    );
    assert.throws(
      () => loadConfig(undefined, { FLOTILLA_SERVER_TLS_CERT: "/x.pem" }),
      /cert and key/,
    );
    const broken = await yamlFile("port: [1,\n");
    assert.throws(() => loadConfig(broken, {}), /not valid YAML/);
    const list = await yamlFile("- a\n- b\n");
    assert.throws(() => loadConfig(list, {}), /mapping/);
  });
});
