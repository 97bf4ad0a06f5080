/**
 * Actor identifiers and the URLs built from them. Actors live at `/ap/<identifier>`:
 * `instance`, `users/<name>`, `orgs/<name>`, `repos/<namespace>/<repo…>`. Collections and inboxes
 * sit under their own prefixes (`/ap/inbox/<identifier>`), never as suffixes, so no repository
 * name (say `alice/app/inbox`) can collide with another actor's collection.
 */
import { Temporal as Polyfill } from "@js-temporal/polyfill";

export type ActorRef =
  | { kind: "instance" }
  | { kind: "user" | "org"; name: string }
  | { kind: "repository"; name: string };

export const instanceIdentifier = "instance";

export function identifierOf(ref: ActorRef): string {
  switch (ref.kind) {
    case "instance":
      return instanceIdentifier;
    case "user":
      return `users/${ref.name}`;
    case "org":
      return `orgs/${ref.name}`;
    case "repository":
      return `repos/${ref.name}`;
  }
}

export function parseIdentifier(identifier: string): ActorRef | undefined {
  if (identifier === instanceIdentifier) return { kind: "instance" };
  const slash = identifier.indexOf("/");
  if (slash < 0) return undefined;
  const prefix = identifier.slice(0, slash);
  const name = identifier.slice(slash + 1);
  if (!name) return undefined;
  if (prefix === "users" && !name.includes("/")) return { kind: "user", name };
  if (prefix === "orgs" && !name.includes("/")) return { kind: "org", name };
  if (prefix === "repos" && name.includes("/")) return { kind: "repository", name };
  return undefined;
}

/** The repository's page in the web interface. */
export function repositoryPageUrl(publicUrl: string, repository: string): URL {
  return new URL(`/r/${repository}`, publicUrl);
}

/** The namespace's page in the web interface. */
export function namespacePageUrl(publicUrl: string, namespace: string): URL {
  return new URL(`/u/${namespace}`, publicUrl);
}

/** What `docker pull` takes for a repository of this instance. */
export function pullReference(publicUrl: string, repository: string, tag?: string): string {
  return `${new URL(publicUrl).host}/${repository}${tag ? `:${tag}` : ""}`;
}

/** Fedify's vocabulary wants Temporal instants; Node has no Temporal yet, Fedify ships a polyfill. */
export function instant(epochMs: number = Date.now()): Temporal.Instant {
  return Polyfill.Instant.fromEpochMilliseconds(epochMs) as unknown as Temporal.Instant;
}

/** Milliseconds since the epoch of an instant from a parsed activity, if any. */
export function epochMs(value: Temporal.Instant | null | undefined): number | undefined {
  return value ? Number(value.epochMilliseconds) : undefined;
}
