/** Property tests: repository names and tags accepted exactly as the distribution spec's grammar says. */
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import fc from "fast-check";
import { OciError } from "./errors.ts";
import { checkName, checkTag, isValidTag, maxNameLength } from "./names.ts";

const runs = { seed: 20261204, numRuns: 400 };
/** The spec's regular expressions, written independently of names.ts. */
const nameOracle =
  /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*)*$/;
const tagOracle = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;

function codeOf(work: () => unknown): string | undefined {
  try {
    work();
    return undefined;
  } catch (error) {
    assert.ok(error instanceof OciError, `non-OCI error: ${error}`);
    return error.code;
  }
}

const alnum = fc.string({
  unit: fc.constantFrom(..."abcdefghijklmnopqrstuvwxyz0123456789"),
  minLength: 1,
  maxLength: 8,
});
const component = fc
  .tuple(
    alnum,
    fc.array(fc.tuple(fc.constantFrom(".", "_", "__", "-", "--", "---"), alnum), { maxLength: 3 }),
  )
  .map(([first, rest]) => first + rest.map(([sep, part]) => sep + part).join(""));
const validName = fc
  .array(component, { minLength: 1, maxLength: 6 })
  .map((parts) => parts.join("/"));
/** Names made of the right alphabet but in any order: separators doubled, leading, trailing. */
const nearName = fc.string({ unit: fc.constantFrom(..."ab0._-/A:%"), maxLength: 40 });

describe("checkName (property)", () => {
  it("accepts every name the grammar generates, up to the length limit", () => {
    fc.assert(
      fc.property(validName, (name) => {
        const code = codeOf(() => checkName(name));
        assert.equal(code, name.length <= maxNameLength ? undefined : "NAME_INVALID", name);
      }),
      runs,
    );
  });

  it("agrees with the grammar on arbitrary strings, and refuses with NAME_INVALID", () => {
    const anyName = fc.oneof(nearName, fc.string({ unit: "binary", maxLength: 300 }), validName);
    fc.assert(
      fc.property(anyName, (name) => {
        const valid = nameOracle.test(name) && name.length <= maxNameLength;
        const code = codeOf(() => checkName(name));
        assert.equal(code, valid ? undefined : "NAME_INVALID", JSON.stringify(name));
      }),
      runs,
    );
  });
});

describe("checkTag (property)", () => {
  it("agrees with the grammar; a bad tag is MANIFEST_INVALID", () => {
    const anyTag = fc.oneof(
      fc.string({ unit: fc.constantFrom(..."aZ9_.-:/@"), maxLength: 140 }),
      fc.string({ unit: "binary", maxLength: 200 }),
      fc.stringMatching(/^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/),
    );
    fc.assert(
      fc.property(anyTag, (tag) => {
        const valid = tagOracle.test(tag);
        assert.equal(isValidTag(tag), valid);
        assert.equal(
          codeOf(() => checkTag(tag)),
          valid ? undefined : "MANIFEST_INVALID",
        );
      }),
      runs,
    );
  });
});
