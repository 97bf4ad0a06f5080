/** Property tests: the header parsers return a sane value or undefined for anything a client sends. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { parseAccept, parseContentRange, parseLength, parseRange } from "./headers.ts";

const runs = { seed: 20261204, numRuns: 500 };
const number = fc.oneof(
  fc.nat(),
  fc.bigInt({ min: 0n, max: 10n ** 20n }).map(String),
  fc.constant("-1"),
);
/** Header-shaped garbage around the right characters, plus anything at all. */
const rangeish = fc.oneof(
  fc
    .tuple(
      fc.constantFrom("", "bytes ", "bytes=", "items "),
      number,
      fc.constantFrom("-", "--", ","),
      number,
      fc.constantFrom("", "/*", "/100", "/x"),
    )
    .map((parts) => parts.join("")),
  fc.string({ unit: fc.constantFrom(..."0123456789-=/ *,bytes"), maxLength: 40 }),
  fc.string({ unit: "binary", maxLength: 60 }),
);

describe("Content-Range (property)", () => {
  it("parses generated ranges exactly, with or without the bytes prefix and total", () => {
    fc.assert(
      fc.property(
        fc.nat({ max: 1e12 }),
        fc.nat({ max: 1e12 }),
        fc.constantFrom("", "bytes ", "bytes="),
        fc.constantFrom("", "/*", "/5000"),
        (a, b, prefix, total) => {
          const [start, end] = a <= b ? [a, b] : [b, a];
          assert.deepEqual(parseContentRange(`${prefix}${start}-${end}${total}`), { start, end });
        },
      ),
      runs,
    );
  });

  it("anything else is either a range with 0 <= start <= end or undefined", () => {
    fc.assert(
      fc.property(rangeish, (value) => {
        const range = parseContentRange(value);
        if (range === undefined) return;
        assert.ok(Number.isSafeInteger(range.start) && Number.isSafeInteger(range.end));
        assert.ok(range.start >= 0 && range.start <= range.end, JSON.stringify({ value, range }));
      }),
      runs,
    );
  });
});

describe("Range (property)", () => {
  it("a range always lies inside the blob; unsatisfiable only for a real range outside it", () => {
    const value = fc.oneof(
      rangeish,
      fc
        .tuple(
          fc.option(fc.nat({ max: 5000 }), { nil: undefined }),
          fc.option(fc.nat({ max: 5000 }), { nil: undefined }),
        )
        .map(([a, b]) => `bytes=${a ?? ""}-${b ?? ""}`),
    );
    fc.assert(
      fc.property(value, fc.nat({ max: 4000 }), (header, size) => {
        const range = parseRange(header, size);
        if (range === undefined) return;
        if (range === "unsatisfiable") {
          assert.match(header.trim(), /^bytes=\d*-\d*$/, header);
          return;
        }
        assert.ok(
          range.start >= 0 && range.start <= range.end && range.end < size,
          JSON.stringify({ header, size, range }),
        );
      }),
      runs,
    );
  });

  it("a suffix range returns the last n bytes", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 10_000 }),
        fc.integer({ min: 1, max: 10_000 }),
        (n, size) => {
          assert.deepEqual(parseRange(`bytes=-${n}`, size), {
            start: Math.max(0, size - n),
            end: size - 1,
          });
        },
      ),
      runs,
    );
  });
});

describe("Content-Length and Accept (property)", () => {
  it("Content-Length is a non-negative safe integer or undefined", () => {
    fc.assert(
      fc.property(
        fc.option(fc.oneof(rangeish, number.map(String)), { nil: undefined }),
        (value) => {
          const length = parseLength(value);
          if (length !== undefined) {
            assert.ok(Number.isSafeInteger(length) && length >= 0);
            assert.equal(String(length), String(Number(value)));
          }
        },
      ),
      runs,
    );
  });

  it("Accept splits into trimmed non-empty media types and never throws", () => {
    fc.assert(
      fc.property(
        fc.option(fc.string({ unit: "binary", maxLength: 200 }), { nil: undefined }),
        (value) => {
          const types = parseAccept(value);
          if (!value) return assert.equal(types, undefined);
          for (const type of types ?? []) assert.ok(type.length > 0 && type === type.trim());
        },
      ),
      runs,
    );
  });
});
