/** Repository names and tags, with the grammar of the OCI distribution spec. */
import { NameInvalidError, TagInvalidError } from "./errors.ts";

const component = /^[a-z0-9]+(?:(?:\.|_|__|-+)[a-z0-9]+)*$/;
const tagGrammar = /^[a-zA-Z0-9_][a-zA-Z0-9._-]{0,127}$/;
export const maxNameLength = 255;

/** Validates a repository name; throws NAME_INVALID saying what is wrong. */
export function checkName(name: string): string {
  if (name.length === 0) throw new NameInvalidError(name, "empty");
  if (name.length > maxNameLength) {
    throw new NameInvalidError(name.slice(0, 64), `longer than ${maxNameLength} characters`);
  }
  for (const part of name.split("/")) {
    if (part === "." || part === "..") throw new NameInvalidError(name, "path traversal");
    if (!component.test(part)) {
      throw new NameInvalidError(
        name,
        part === ""
          ? "empty path component"
          : `component "${part.slice(0, 64)}" must be lower-case letters, digits and separators`,
      );
    }
  }
  return name;
}

export function isValidTag(tag: string): boolean {
  return tagGrammar.test(tag);
}

/** Validates a tag; throws MANIFEST_INVALID with the tag in the detail. */
export function checkTag(tag: string): string {
  if (!isValidTag(tag)) throw new TagInvalidError(tag.slice(0, 200));
  return tag;
}
