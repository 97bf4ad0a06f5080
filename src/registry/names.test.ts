import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { NameInvalidError, type OciError, TagInvalidError } from "./errors.ts";
import { checkName, checkTag, isValidTag, maxNameLength } from "./names.ts";

function nameError(name: string): OciError {
  try {
    checkName(name);
  } catch (error) {
    assert.ok(error instanceof NameInvalidError, `${name}: ${error}`);
    return error;
  }
  assert.fail(`${JSON.stringify(name)} was accepted`);
}

describe("checkName", () => {
  it("accepts the distribution grammar and returns the name", () => {
    for (const name of [
      "a",
      "alice/app",
      "a/b/c/d/e",
      "a.b",
      "a_b",
      "a__b",
      "a-b",
      "a---b",
      "0",
      "127.0.0.1_5001/alice/app",
      "x".repeat(maxNameLength),
    ]) {
      assert.equal(checkName(name), name);
    }
  });

  it("refuses bad names with NAME_INVALID (400)", () => {
    for (const name of [
      "",
      "Alice",
      "alice/App",
      "-alice",
      "_alice",
      ".alice",
      "alice-",
      "alice.",
      "alice/",
      "/alice",
      "alice//app",
      "alice/../app",
      "..",
      ".",
      "a..b",
      "a___b",
      "a._b",
      "a b",
      "a:b",
      "a@b",
      "a%2fb",
      "x".repeat(maxNameLength + 1),
      `${"a".repeat(200)}/${"b".repeat(60)}`,
    ]) {
      const error = nameError(name);
      assert.equal(error.code, "NAME_INVALID", name);
      assert.equal(error.status, 400);
    }
  });

  it("says why in the message", () => {
    assert.match(nameError("a/../b").message, /traversal/);
    assert.match(nameError("a//b").message, /empty/);
    assert.match(nameError("x".repeat(300)).message, /longer than 255/);
    assert.match(nameError("Upper").message, /lower-case/);
  });
});

describe("checkTag", () => {
  it("accepts the tag grammar", () => {
    for (const tag of ["latest", "v1.2.3", "_x", "A-b_c.d", "1", "a".repeat(128), "sha256-abc"]) {
      assert.equal(checkTag(tag), tag);
      assert.equal(isValidTag(tag), true);
    }
  });

  it("refuses bad tags with a 400 carrying the tag", () => {
    for (const tag of ["", ".x", "-x", "a".repeat(129), "a/b", "a:b", "a b", "ä", "a+b"]) {
      assert.equal(isValidTag(tag), false, tag);
      assert.throws(
        () => checkTag(tag),
        (error: unknown) =>
          error instanceof TagInvalidError &&
          error.status === 400 &&
          (error.detail as { tag: string }).tag === tag,
      );
    }
  });
});
