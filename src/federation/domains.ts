/** Domain names as blocks see them: a block covers the host, its subdomains, and any port. */

/** Normalizes what an administrator typed (`Evil.Example.`, `https://evil.example/x`) to a domain. */
export function normalizeDomain(input: string): string | undefined {
  let text = input.trim().toLowerCase();
  if (text.includes("://")) {
    try {
      text = new URL(text).host;
    } catch {
      return undefined;
    }
  }
  text = text.replace(/\.$/, "");
  if (!/^[a-z0-9.-]+(:\d{1,5})?$/.test(text) || text.startsWith(".") || text.includes(".."))
    return undefined;
  return text;
}

/** Whether `host` (`a.evil.example:443`) falls under `domain` (`evil.example` or `host:port`). */
export function hostMatchesDomain(host: string, domain: string): boolean {
  const h = host.toLowerCase();
  if (h === domain) return true;
  const hostname = h.replace(/:\d+$/, "");
  if (domain.includes(":")) return false;
  return hostname === domain || hostname.endsWith(`.${domain}`);
}

/** The host (with port) of a URL, or undefined when it is not one. */
export function hostOf(url: string | URL | null | undefined): string | undefined {
  if (!url) return undefined;
  try {
    return (typeof url === "string" ? new URL(url) : url).host.toLowerCase();
  } catch {
    return undefined;
  }
}
