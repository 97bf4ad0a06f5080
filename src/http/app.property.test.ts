/**
 * Property test of the whole HTTP app: any method, path, query (n, last, artifactType, digest,
 * mount, from), header (Range, Content-Range, Content-Length, Accept, Content-Type) and body gets a
 * well-formed answer: never a 5xx or an exception, and every error is an OCI error body with a
 * known code.
 */
import assert from "node:assert/strict";
import { before, describe, it } from "node:test";
import fc from "fast-check";
import { buildable, illFormed } from "./property-support.ts";
import { createTestRegistry, pushImage, type TestRegistry } from "./test-support.ts";

const runs = { seed: 20261204, numRuns: 400 };
describe("the HTTP app (property)", () => {
  let t: TestRegistry;
  let digest: string;
  let upload: string;
  before(async () => {
    t = await createTestRegistry({ maxManifestBytes: 64 * 1024 });
    digest = (await pushImage(t.app, "alice/app", { tag: "latest" })).digest;
    const res = await t.app.request("/v2/alice/app/blobs/uploads/", { method: "POST" });
    upload = res.headers.get("Location") ?? "";
  });

  it("answers every request well-formed", async () => {
    const garbage = fc.string({ unit: "binary", maxLength: 40 });
    const segment = fc.oneof(
      fc.constantFrom("alice/app", "alice/app/sub", "Bad", "a".repeat(300), "ipfs", "_catalog", ""),
      garbage.map(encodeURIComponent),
      garbage,
    );
    const reference = fc.oneof(
      fc
        .constantFrom(
          () => digest,
          () => "latest",
          () => upload.split("/").at(-1) ?? "",
          () => "sha256:zz",
        )
        .map((f) => f()),
      garbage.map(encodeURIComponent),
    );
    const kind = fc.constantFrom(
      "blobs",
      "manifests",
      "tags/list",
      "referrers",
      "blobs/uploads",
      "blobs/uploads/",
      "",
    );
    const queryValue = fc.oneof(
      fc.constantFrom("0", "1", "-1", "100000", "1e3", "", "%ff"),
      garbage,
    );
    const query = fc.dictionary(
      fc.constantFrom("n", "last", "artifactType", "digest", "mount", "from"),
      queryValue,
      { maxKeys: 3 },
    );
    const path = fc.oneof(
      {
        weight: 5,
        arbitrary: fc
          .tuple(segment, kind, reference, query)
          .map(([repo, k, ref, q]) => `/v2/${repo}/${k}/${ref}?${new URLSearchParams(q)}`),
      },
      { weight: 1, arbitrary: fc.tuple(query).map(([q]) => `${upload}?${new URLSearchParams(q)}`) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.constantFrom("/v2/_catalog", "/v2/", "/v2", "/token", "/api/v1/x", "/"), query)
          .map(([p, q]) => `${p}?${new URLSearchParams(q)}`),
      },
    );
    const headerValue = fc.oneof(
      fc.string({ maxLength: 60 }),
      fc.constantFrom(
        "bytes=0-10",
        "bytes=-5",
        "0-10",
        "bytes */*",
        "99999999999999999",
        "application/vnd.oci.image.index.v1+json",
        `"${"x"}"`,
      ),
    );
    const headers = fc.dictionary(
      fc.constantFrom(
        "Range",
        "Content-Range",
        "Content-Type",
        "Accept",
        "If-None-Match",
        "Authorization",
        "Content-Length",
      ),
      headerValue,
      { maxKeys: 4 },
    );
    const method = fc.constantFrom("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS");
    const body = fc.oneof(
      fc.uint8Array({ maxLength: 1024 }),
      fc.jsonValue({ maxDepth: 3 }).map((v) => new TextEncoder().encode(JSON.stringify(v) ?? "")),
    );

    await fc.assert(
      fc.asyncProperty(method, path, headers, body, async (m, p, h, b) => {
        // A web Request computes Content-Length itself; a declared one must not contradict it.
        const { "Content-Length": _declared, ...rest } = h;
        const init: RequestInit = {
          method: m,
          headers: rest,
          ...(m === "GET" || m === "HEAD" ? {} : { body: b as Uint8Array<ArrayBuffer> }),
        };
        fc.pre(buildable(p, init));
        const problem = await illFormed(t.app, p, init);
        assert.equal(problem, undefined, `${m} ${p} ${JSON.stringify(rest)}`);
      }),
      runs,
    );
  });

  it("n and last never break the tag list and the catalog: a capped page or PAGINATION_NUMBER_INVALID", async () => {
    const n = fc.oneof(fc.nat({ max: 2_000_000 }).map(String), fc.string({ maxLength: 12 }));
    const last = fc.option(fc.string({ unit: "binary", maxLength: 300 }), { nil: undefined });
    await fc.assert(
      fc.asyncProperty(
        n,
        last,
        fc.constantFrom("/v2/alice/app/tags/list", "/v2/_catalog"),
        async (count, after, base) => {
          const query = new URLSearchParams({
            n: count,
            ...(after === undefined ? {} : { last: after }),
          });
          const res = await t.app.request(`${base}?${query}`);
          const body = (await res.json()) as {
            tags?: string[];
            repositories?: string[];
            errors?: { code: string }[];
          };
          if (res.status === 400)
            return assert.equal(body.errors?.[0]?.code, "PAGINATION_NUMBER_INVALID");
          assert.equal(res.status, 200);
          const items = body.tags ?? body.repositories ?? [];
          // An empty n is no n: the default (largest) page.
          const limit = count === "" ? 1000 : Number(count);
          assert.ok(count === "" || /^\d{1,9}$/.test(count), `n=${count} accepted`);
          assert.ok(items.length <= Math.min(limit, 1000));
          if (after !== undefined) for (const item of items) assert.ok(item > after);
        },
      ),
      runs,
    );
  });
});
