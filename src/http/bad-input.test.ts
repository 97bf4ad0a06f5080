import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import { mediaTypes } from "../registry/index.ts";
import {
  assertErrorShape,
  createTestRegistry,
  expectError,
  imageManifest,
  pushImage,
  putManifest,
  rawRequest,
  sha256,
  type TestRegistry,
  withBody,
} from "./test-support.ts";

const name = "alice/app";

describe("repository names", () => {
  let t: TestRegistry;
  before(async () => {
    t = await createTestRegistry();
  });

  it("are refused with 400 NAME_INVALID when malformed", async () => {
    const bad = [
      // upper case; leading and trailing separators; `..` and runs of separators in a component
      ..."Alice/app alice/App -alice/app _alice/app .alice/app alice-/app alice/app.".split(" "),
      ..."alice/a..b alice/a___b alice/app:tag alice/ap%20p".split(" "),
      `${"a".repeat(128)}/${"b".repeat(128)}`, // 257 characters in valid components
      "a".repeat(256),
    ];
    for (const repository of bad) {
      const res = await t.app.request(`/v2/${repository}/tags/list`);
      await expectError(res, 400, "NAME_INVALID");
      const blob = await t.app.request(`/v2/${repository}/blobs/uploads/`, { method: "POST" });
      await expectError(blob, 400, "NAME_INVALID");
    }
  });

  it("accept the full grammar up to 255 characters", async () => {
    const good = [
      "a",
      "a/b/c/d",
      "a.b_c__d-e--f/g",
      "0/1",
      `${"a".repeat(127)}/${"b".repeat(127)}`,
    ];
    for (const repository of good) {
      const res = await t.app.request(`/v2/${repository}/blobs/uploads/`, { method: "POST" });
      assert.equal(res.status, 202, repository);
    }
  });

  it("refuse empty components, encoded characters and dot segments in the raw path", async () => {
    const raw = [
      ..."alice//app /alice/app alice/app/ alice/../app alice/./app ../v2/alice/app".split(" "),
      ..."alice/%2e%2e/app alice%2Fapp %61lice/app".split(" "),
    ].map((repository) => `/v2/${repository}/tags/list`);
    for (const path of raw) {
      await expectError(rawRequest(t.app, path), 400, "NAME_INVALID");
    }
    // Through the web Request path too (`//` and `%` survive URL parsing).
    await expectError(t.app.request("/v2/alice//app/tags/list"), 400, "NAME_INVALID");
    await expectError(t.app.request("/v2/alice%2Fapp/tags/list"), 400, "NAME_INVALID");
  });

  it("an invalid mount source is refused", async () => {
    const query = `?mount=${sha256("x")}&from=Bad/Name`;
    const res = await t.app.request(`/v2/${name}/blobs/uploads/${query}`, { method: "POST" });
    await expectError(res, 400, "NAME_INVALID");
  });
});

describe("methods", () => {
  it("an unknown method on a known path is 405 with an OCI error body", async () => {
    const { app } = await createTestRegistry();
    const digest = sha256("x");
    const cases = [
      ..."POST PATCH OPTIONS".split(" ").map((method) => [method, "manifests/latest"]),
      ["PUT", `blobs/${digest}`],
      ["POST", `blobs/${digest}`],
      ["POST", "tags/list"],
      ["DELETE", "tags/list"],
      ["PUT", `referrers/${digest}`],
      ["POST", "blobs/uploads/00000000-0000-0000-0000-000000000000"],
    ].map(([method, path]) => [method, `/v2/${name}/${path}`] as const);
    for (const [method, path] of cases) {
      const res = await app.request(path, { method });
      assert.equal(res.status, 405, `${method} ${path}`);
      assertErrorShape(await res.json());
    }
  });

  it("an unknown method on /v2/ or /v2/_catalog is 405 as well", async () => {
    const { app } = await createTestRegistry();
    const cases = ["POST /v2/", "DELETE /v2/", "POST /v2/_catalog", "PUT /v2/_catalog"];
    for (const [method, path] of cases.map((c) => c.split(" ") as [string, string])) {
      const res = await app.request(path, { method });
      assert.equal(res.status, 405, `${method} ${path}`);
      assertErrorShape(await res.json());
    }
  });

  it("a 405 names the allowed methods in Allow (RFC 9110 §15.5.6)", async () => {
    const { app } = await createTestRegistry();
    const res = await app.request(`/v2/${name}/manifests/latest`, { method: "POST" });
    assert.equal(res.status, 405);
    const allow = (res.headers.get("Allow") ?? "").split(/,\s*/);
    for (const method of ["GET", "HEAD", "PUT", "DELETE"])
      assert.ok(allow.includes(method), `Allow: ${allow}`);
  });
});

describe("invalid manifests", () => {
  let t: TestRegistry;
  let valid: Awaited<ReturnType<typeof imageManifest>>;
  before(async () => {
    t = await createTestRegistry();
    valid = await imageManifest(t.app, name);
  });

  it("every malformed manifest is 400 MANIFEST_INVALID", async () => {
    const { config: _config, ...noConfig } = valid;
    const { layers: _layers, ...noLayers } = valid;
    const index = { schemaVersion: 2, mediaType: mediaTypes.ociIndex };
    const subject = { mediaType: mediaTypes.ociManifest, digest: "sha256:1", size: 1 };
    const cases: [string, object | string | Uint8Array, string?][] = [
      ["malformed JSON", "{not json"],
      ["empty body", ""],
      ["invalid UTF-8", new Uint8Array([0x7b, 0xff, 0xfe, 0x7d])],
      ...["[]", "null", "42", '"manifest"', "true"].map((json): [string, string] => [json, json]),
      ["schemaVersion 1", { ...valid, schemaVersion: 1 }],
      ["schema 1 type", valid, "application/vnd.docker.distribution.manifest.v1+prettyjws"],
      ["schemaVersion 3", { ...valid, schemaVersion: 3 }],
      ["schemaVersion string", { ...valid, schemaVersion: "2" }],
      ["text/plain", valid, "text/plain"],
      ["unknown Content-Type", valid, "application/vnd.example+json"],
      ["Content-Type index", valid, mediaTypes.ociIndex],
      ["Content-Type docker", valid, mediaTypes.dockerManifest],
      ["unknown mediaType", { ...valid, mediaType: "application/vnd.x" }, "application/json"],
      ["no config", noConfig],
      ["no layers", noLayers],
      ["layers object", { ...valid, layers: {} }],
      ["config null", { ...valid, config: null }],
      ["no descriptor type", { ...valid, config: { ...valid.config, mediaType: undefined } }],
      ["annotation number", { ...valid, annotations: { key: 1 } }],
      ["manifests string", { ...index, manifests: "none" }, mediaTypes.ociIndex],
      ["no manifests", index, mediaTypes.ociIndex],
      ["subject digest", { ...valid, subject }],
    ];
    for (const digest of ["sha256:abc", "md5:5d41402abc4b2a76b9719d911017c592", "", 42]) {
      cases.push([`digest ${digest}`, { ...valid, config: { ...valid.config, digest } }]);
    }
    for (const size of [-1, 1.5, "10", Number.MAX_SAFE_INTEGER + 2, null]) {
      cases.push([`size ${size}`, { ...valid, config: { ...valid.config, size } }]);
    }
    for (const [label, body, contentType] of cases) {
      const res = await putManifest(
        t.app,
        name,
        "bad",
        body,
        contentType ?? mediaTypes.ociManifest,
      );
      const text = await res.text();
      assert.equal(res.status, 400, `${label}: ${text}`);
      const parsed = JSON.parse(text);
      assertErrorShape(parsed);
      assert.equal(parsed.errors[0].code, "MANIFEST_INVALID", label);
    }
  });

  it("nothing invalid was stored under the tag", async () => {
    await expectError(t.app.request(`/v2/${name}/manifests/bad`), 404, "MANIFEST_UNKNOWN");
  });
});

/** A small deterministic PRNG, so a failing hostile request can be replayed. */
function prng(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let x = Math.imul(state ^ (state >>> 15), 1 | state);
    x = (x + Math.imul(x ^ (x >>> 7), 61 | x)) ^ x;
    return ((x ^ (x >>> 14)) >>> 0) / 4294967296;
  };
}

describe("hostile requests", () => {
  it("never answer 5xx, and every error body is an OCI error", async () => {
    const { app } = await createTestRegistry();
    const image = await pushImage(app, name, { tag: "latest" });
    const upload = (
      await app.request(`/v2/${name}/blobs/uploads/`, { method: "POST" })
    ).headers.get("Location");
    assert.ok(upload);
    const random = prng(20250101);
    const pick = <T>(list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;

    const segments = [
      ..."v2 alice app blobs uploads manifests tags list referrers _catalog sha256: sha256:zz".split(
        " ",
      ),
      ..."%00 %ff %2F 😀 latest - __ A ipfs ?n=-1 ?last=%ff ?digest=md5:00 ?mount=".split(" "),
      image.digest,
      "a".repeat(300),
    ];
    const methods = ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "FOO"];
    const headerValues: Record<string, string[]> = {
      Range: ["bytes=99999999999999999-", "bytes=-", "bytes=--1", "bytes=0-0,0-0", "\u00ff"],
      "Content-Range": ["0-99999999999999999", "bytes */*", "-", "5-1", "0-0/0"],
      "Content-Length": ["-1", "1e3", "99999999999999999999", "0", "abc"],
      "Content-Type": [mediaTypes.ociIndex, "application/json; charset=utf-16", "x/y", ""],
      Accept: ["*/*", ",,,", "a".repeat(5000), mediaTypes.dockerManifest],
      "If-None-Match": ["*", `"${image.digest}"`, 'W/"x"'],
    };
    const bodies = [
      "",
      "{",
      "[".repeat(100_000),
      `{"schemaVersion":2,"manifests":[${'{"a":1},'.repeat(100)}{}]}`,
      `{"schemaVersion":2,"config":{"__proto__":{"x":1}},"layers":[]}`,
      JSON.stringify({ ...JSON.parse(new TextDecoder().decode(image.bytes)), layers: [null] }),
      new Uint8Array(4096).map(() => Math.floor(random() * 256)),
    ];

    const id = upload.split("/").at(-1) ?? "";
    const repositories = [name, "alice/app/sub", "Bad", "a".repeat(300)];
    const kinds = "blobs manifests referrers blobs/uploads tags/list blobs/uploads/".split(" ");
    const references = [image.digest, "latest", id, "sha256:zz", "", "%ff", "sha512:00"];
    const queries = ["", "?n=-1", "?digest=md5:00", "?mount=x&from=Y", `?mount=${image.digest}`];
    const requests: [string, RequestInit][] = [];
    for (let i = 0; i < 600; i++) {
      const depth = 1 + Math.floor(random() * 6);
      const path =
        random() < 0.5
          ? `/${Array.from({ length: depth }, () => pick(segments)).join("/")}`
          : `/${pick(repositories)}/${pick(kinds)}/${pick(references)}${pick(queries)}`;
      const method = pick(methods);
      const headers: Record<string, string> = {};
      for (const [header, values] of Object.entries(headerValues)) {
        if (random() < 0.3) headers[header] = pick(values);
      }
      const body = method === "GET" || method === "HEAD" ? undefined : pick(bodies);
      requests.push([
        random() < 0.8 ? `/v2${path}` : path,
        { method, headers, body: body as RequestInit["body"] },
      ]);
    }
    // Hand-picked ones aimed at real resources.
    requests.push(
      [`${upload}?digest=${sha256("")}`, { method: "PUT", headers: { "Content-Length": "0" } }],
      [upload, withBody("PATCH", "x", { "Content-Range": "0-99999999999999" })],
      [`/v2/${name}/blobs/uploads/${id}/extra`, { method: "PATCH", body: "x" }],
      [
        `/v2/${name}/manifests/${image.digest}`,
        withBody("PUT", image.bytes, { "Content-Type": "a/b" }),
      ],
      [`/v2/${name}/manifests/sha512:${"0".repeat(128)}`, withBody("PUT", image.bytes)],
      [`/v2/${name}/referrers/${image.digest}?artifactType=${"x".repeat(10_000)}`, {}],
      [`/v2/_catalog?n=1&last=${"%ff".repeat(100)}`, {}],
      [`/v2/${name}/tags/list?n=999999999`, {}],
      [`/v2/${name}/blobs/${image.digest}`, { headers: { Range: `bytes=${"9".repeat(15)}-` } }],
    );

    const failures: string[] = [];
    for (const [path, init] of requests) {
      let res: Response;
      try {
        res = await app.request(path, init);
      } catch (error) {
        failures.push(`${init.method} ${path.slice(0, 120)}: threw ${(error as Error).message}`);
        continue;
      }
      const text = await res.text();
      if (res.status >= 500)
        failures.push(`${init.method} ${path.slice(0, 120)}: ${res.status} ${text.slice(0, 200)}`);
      if (res.status >= 400 && init.method !== "HEAD") {
        try {
          assertErrorShape(JSON.parse(text));
        } catch {
          failures.push(
            `${init.method} ${path.slice(0, 120)}: ${res.status} body is not an OCI error: ${text.slice(0, 100)}`,
          );
        }
      }
    }
    assert.deepEqual(failures, []);
  });
});

describe("concurrent requests on one upload", () => {
  it("a DELETE racing a PUT or PATCH never answers 5xx", async () => {
    const { app } = await createTestRegistry();
    const statuses: string[] = [];
    for (let i = 0; i < 10; i++) {
      const start = await app.request(`/v2/${name}/blobs/uploads/`, { method: "POST" });
      const location = start.headers.get("Location") ?? "";
      await app.request(location, withBody("PATCH", "abc"));
      const racer =
        i % 2 === 0
          ? app.request(`${location}?digest=${sha256("abc")}`, { method: "PUT" })
          : app.request(location, withBody("PATCH", "more"));
      const results = await Promise.all([racer, app.request(location, { method: "DELETE" })]);
      for (const res of results) {
        statuses.push(`${i % 2 === 0 ? "PUT" : "PATCH"}/DELETE → ${res.status}`);
        if (res.status >= 400) assertErrorShape(await res.json());
      }
    }
    assert.deepEqual(
      statuses.filter((s) => s.endsWith("→ 500")),
      [],
    );
  });
});
