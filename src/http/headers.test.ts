import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { parseAccept, parseContentRange, parseLength, parseRange } from "./headers.ts";

describe("parseContentRange", () => {
  it("reads <start>-<end> and the bytes forms", () => {
    assert.deepEqual(parseContentRange("0-5"), { start: 0, end: 5 });
    assert.deepEqual(parseContentRange("  6-10 "), { start: 6, end: 10 });
    assert.deepEqual(parseContentRange("bytes 0-5/6"), { start: 0, end: 5 });
    assert.deepEqual(parseContentRange("bytes=0-5"), { start: 0, end: 5 });
    assert.deepEqual(parseContentRange("0-5/*"), { start: 0, end: 5 });
    assert.deepEqual(parseContentRange("7-7"), { start: 7, end: 7 });
    assert.deepEqual(parseContentRange("999999999999999-999999999999999"), {
      start: 999999999999999,
      end: 999999999999999,
    });
  });

  it("returns undefined for garbage, reversed or unbounded ranges", () => {
    for (const value of [
      "",
      "garbage",
      "5-2",
      "-1-4",
      "0-",
      "-5",
      "1-2-3",
      "a-b",
      "0x1-0x2",
      "1.5-2",
      "bytes */10",
      "bytes 0-5/",
      "0-1234567890123456",
      "0 - 5",
    ]) {
      assert.equal(parseContentRange(value), undefined, JSON.stringify(value));
    }
  });
});

describe("parseRange", () => {
  const size = 10;
  it("reads first-last, open-ended and suffix ranges, clamped to the blob", () => {
    assert.deepEqual(parseRange("bytes=0-4", size), { start: 0, end: 4 });
    assert.deepEqual(parseRange("bytes=5-", size), { start: 5, end: 9 });
    assert.deepEqual(parseRange("bytes=5-100", size), { start: 5, end: 9 });
    assert.deepEqual(parseRange("bytes=9-9", size), { start: 9, end: 9 });
    assert.deepEqual(parseRange("bytes=-3", size), { start: 7, end: 9 });
    assert.deepEqual(parseRange("bytes=-30", size), { start: 0, end: 9 });
    assert.deepEqual(parseRange(" bytes=0-0 ", size), { start: 0, end: 0 });
  });

  it("says unsatisfiable for valid ranges outside the blob", () => {
    assert.equal(parseRange("bytes=10-", size), "unsatisfiable");
    assert.equal(parseRange("bytes=10-20", size), "unsatisfiable");
    assert.equal(parseRange("bytes=-0", size), "unsatisfiable");
    assert.equal(parseRange("bytes=0-", 0), "unsatisfiable");
    assert.equal(parseRange("bytes=-5", 0), "unsatisfiable");
  });

  it("returns undefined (serve the whole blob) for anything else", () => {
    for (const value of [
      "",
      "garbage",
      "bytes=",
      "bytes=-",
      "bytes=5-2",
      "bytes=a-b",
      "bytes=0-1,3-4",
      "items=0-1",
      "bytes 0-1",
      "bytes=1234567890123456-",
    ]) {
      assert.equal(parseRange(value, size), undefined, JSON.stringify(value));
    }
  });
});

describe("parseLength", () => {
  it("accepts non-negative decimals only", () => {
    assert.equal(parseLength("0"), 0);
    assert.equal(parseLength("1234"), 1234);
    assert.equal(parseLength("999999999999999"), 999999999999999);
    for (const value of [undefined, "", "-1", "1e3", "1.0", " 1", "0x10", "1234567890123456"]) {
      assert.equal(parseLength(value), undefined, JSON.stringify(value));
    }
  });
});

describe("parseAccept", () => {
  it("splits comma lists and drops empty entries", () => {
    assert.equal(parseAccept(undefined), undefined);
    assert.equal(parseAccept(""), undefined);
    assert.deepEqual(parseAccept("a/b"), ["a/b"]);
    assert.deepEqual(parseAccept("a/b, c/d;q=0.5 ,, "), ["a/b", "c/d;q=0.5"]);
  });
});
