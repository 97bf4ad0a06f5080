/** What a newcomer reads on the terminal when an instance starts. */
import type { Config } from "../config/index.ts";

export interface WelcomeFacts {
  firstStart: boolean;
  dataDir: string;
  port: number;
  authEnabled: boolean;
  admins: number;
}

export function welcomeText(config: Config, facts: WelcomeFacts): string {
  const url = new URL(config.publicUrl);
  const host = url.host;
  const insecure = url.protocol === "http:";
  const tlsFlag = insecure ? " --tls-verify=false" : "";
  const skopeoFlag = insecure ? " --dest-tls-verify=false" : "";
  const who = config.admin.user ?? "alice";
  const image = `${host}/${who}/app:1.0`;
  const lines = [
    "",
    `Flotilla is running at ${config.publicUrl} (listening on ${config.server.host}:${facts.port})`,
    `  data: ${facts.dataDir}${facts.firstStart ? "  (new: this is the first start)" : ""}`,
  ];
  if (!facts.authEnabled) {
    lines.push(
      "",
      "  Access control is OFF (auth.enabled: false): anyone who can reach the port can push and",
      "  delete. Keep this instance on localhost or a private network.",
    );
  } else if (facts.admins === 0) {
    lines.push(
      "",
      "  No administrator yet. Create one (it asks for a password), then log in with it:",
      `    npx flotilla user add ${who} --admin`,
      "  or start once with FLOTILLA_ADMIN_USER and FLOTILLA_ADMIN_PASSWORD set.",
    );
  }
  if (facts.authEnabled) {
    lines.push(
      "",
      "  Log in (pulling public repositories needs no login):",
      `    docker login ${host} -u ${who}`,
      `    podman login${tlsFlag} ${host} -u ${who}`,
      `    skopeo login${tlsFlag} ${host} -u ${who}`,
    );
  }
  lines.push(
    "",
    `  Push an image (users own <user>/*, organizations <org>/*):`,
    `    skopeo copy${skopeoFlag} oci-archive:image.tar docker://${image}`,
    `    podman push${tlsFlag} localhost/app:1.0 ${image}`,
    `    docker tag app:1.0 ${image} && docker push ${image}`,
    "  Pull it:",
    `    docker pull ${image}`,
    `    podman pull${tlsFlag} ${image}`,
    "",
    `  Browse, search and manage tokens: open ${config.publicUrl} in a browser.`,
    `  Follow from the fediverse: @${who}@${host}`,
  );
  if (insecure && !["localhost", "127.0.0.1", "[::1]"].includes(url.hostname)) {
    lines.push(
      "",
      `  Docker talks plain HTTP only to localhost. For ${url.hostname}, configure TLS`,
      "  (server.tls.cert / server.tls.key) or a reverse proxy, or list the host under",
      '  "insecure-registries" in /etc/docker/daemon.json.',
    );
  }
  lines.push(
    "",
    "  Users, organizations, tokens: `npx flotilla user|org|token --help`.",
    "  Configuration: flotilla.yaml or FLOTILLA_* variables (`npx flotilla config --keys` lists them).",
    "",
  );
  return lines.join("\n");
}
