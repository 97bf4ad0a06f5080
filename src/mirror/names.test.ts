import assert from "node:assert/strict";
import { test } from "node:test";
import { hostNamespace, mirroredName, plainRegistryActor, registryOrigin } from "./names.ts";
import { parseChallenge } from "./origin-client.ts";

test("mirrored names: the origin's host, a port after _, then the name", () => {
  assert.equal(mirroredName("http://127.0.0.1:5001", "alice/app"), "127.0.0.1_5001/alice/app");
  assert.equal(
    mirroredName("https://Registry.Example.org/", "team/a/b"),
    "registry.example.org/team/a/b",
  );
  assert.equal(mirroredName("https://registry.example.org:443", "x/y"), "registry.example.org/x/y");
  assert.equal(hostNamespace("http://localhost:8080/some/path"), "localhost_8080");
  assert.equal(registryOrigin("http://127.0.0.1:5001/v2/").href, "http://127.0.0.1:5001/");
  assert.equal(plainRegistryActor("http://r.example/", "a/b"), "http://r.example/v2/a/b/");
});

test("mirrored names refuse what cannot be a repository name", () => {
  assert.throws(() => mirroredName("http://[::1]:5000", "a/b"), /IPv6/);
  assert.throws(() => mirroredName("ftp://example.org", "a/b"), /http or https/);
  assert.throws(() => mirroredName("not a url", "a/b"), /not a URL/);
  assert.throws(() => mirroredName("http://example.org", "Alice/App"), /NAME_INVALID|lower-case/);
  assert.throws(() => mirroredName("http://example.org", "a/../b"), /traversal/);
});

test("token challenges are parsed; other schemes are not", () => {
  assert.deepEqual(
    parseChallenge(
      'Bearer realm="https://auth.example/token",service="registry.example",scope="repository:a/b:pull"',
    ),
    {
      realm: "https://auth.example/token",
      service: "registry.example",
      scope: "repository:a/b:pull",
    },
  );
  assert.deepEqual(parseChallenge("bearer realm=https://x/token"), { realm: "https://x/token" });
  assert.equal(parseChallenge('Basic realm="x"'), undefined);
  assert.equal(parseChallenge(undefined), undefined);
});
