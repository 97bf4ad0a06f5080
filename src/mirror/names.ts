/** The names mirrored repositories are served under: `<remote-host>/<name>`, `:` written as `_`. */
import { checkName, NameInvalidError } from "../registry/index.ts";

/** The origin's registry base URL, reduced to its origin (`http://host:port`); throws if unusable. */
export function registryOrigin(registryUrl: string): URL {
  let url: URL;
  try {
    url = new URL(registryUrl);
  } catch {
    throw new NameInvalidError(registryUrl.slice(0, 100), "the registry URL is not a URL");
  }
  if (url.protocol !== "http:" && url.protocol !== "https:")
    throw new NameInvalidError(registryUrl.slice(0, 100), "the registry URL must be http or https");
  return new URL(url.origin);
}

/** The host namespace of an origin: its host with the port after `_` (`127.0.0.1_5001`). */
export function hostNamespace(registryUrl: string): string {
  const url = registryOrigin(registryUrl);
  const host = url.hostname.toLowerCase();
  if (host.startsWith("["))
    throw new NameInvalidError(host, "an IPv6 address cannot be a repository namespace");
  return url.port ? `${host}_${url.port}` : host;
}

/** `<host namespace>/<name>`, checked against the repository name grammar. */
export function mirroredName(registryUrl: string, name: string): string {
  checkName(name);
  return checkName(`${hostNamespace(registryUrl)}/${name}`);
}

/** The id a repository of a plain registry (no ActivityPub actor) is tracked under. */
export function plainRegistryActor(registryUrl: string, name: string): string {
  return `${registryUrl.replace(/\/+$/, "")}/v2/${name}/`;
}
