/** Docker token scopes: `repository:<name>:<action>[,<action>]` and `registry:catalog:*`. */
import { checkName } from "../../registry/index.ts";

export interface Scope {
  type: "repository" | "registry";
  name: string;
  actions: string[];
}

/** Parses scope strings (several params, or space-separated as OAuth2 sends them); skips garbage. */
export function parseScopes(values: string[]): Scope[] {
  const scopes: Scope[] = [];
  for (const value of values.flatMap((v) => v.split(" "))) {
    const first = value.indexOf(":");
    const last = value.lastIndexOf(":");
    if (first < 0 || last <= first) continue;
    const type = value.slice(0, first).replace(/\(.*\)$/, "");
    const name = value.slice(first + 1, last);
    const actions = [
      ...new Set(
        value
          .slice(last + 1)
          .split(",")
          .filter(Boolean),
      ),
    ];
    if (type === "repository") {
      try {
        checkName(name);
      } catch {
        continue;
      }
      scopes.push({ type, name, actions });
    } else if (type === "registry" && name === "catalog") {
      scopes.push({ type, name, actions });
    }
    if (scopes.length >= 32) break;
  }
  return scopes;
}

export function formatScope(scope: Scope): string {
  return `${scope.type}:${scope.name}:${scope.actions.join(",")}`;
}
