/** What a newcomer reads on the terminal when an instance starts. */
import type { Config } from "../config/index.ts";

export function welcomeText(
  config: Config,
  options: { firstStart: boolean; dataDir: string; port: number },
): string {
  const url = new URL(config.publicUrl);
  const host = url.host;
  const insecure = url.protocol === "http:";
  const tlsFlag = insecure ? " --tls-verify=false" : "";
  const skopeoFlag = insecure ? " --dest-tls-verify=false" : "";
  const lines = [
    "",
    `Flotilla is running at ${config.publicUrl} (listening on ${config.server.host}:${options.port})`,
    `  data: ${options.dataDir}${options.firstStart ? "  (new: this is the first start)" : ""}`,
    "",
    "  Push an image:",
    `    skopeo copy${skopeoFlag} oci-archive:image.tar docker://${host}/alice/app:1.0`,
    `    podman push${tlsFlag} localhost/app:1.0 ${host}/alice/app:1.0`,
    `    docker tag app:1.0 ${host}/alice/app:1.0 && docker push ${host}/alice/app:1.0`,
    "  Pull it:",
    `    docker pull ${host}/alice/app:1.0      podman pull${tlsFlag} ${host}/alice/app:1.0`,
  ];
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
    "  Access: this version does not check credentials yet, so anyone who can reach the port can",
    "  push. Keep it on localhost or a private network. Accounts arrive with the administrator set",
    `  by FLOTILLA_ADMIN_USER / FLOTILLA_ADMIN_PASSWORD, then \`docker login ${host}\`.`,
  );
  lines.push(
    "",
    "  Configuration: flotilla.yaml or FLOTILLA_* variables (`npx flotilla config --keys` lists them).",
    "",
  );
  return lines.join("\n");
}
