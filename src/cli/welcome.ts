/** What a newcomer reads on the terminal when an instance starts. */
import type { Config } from "../config/index.ts";

export function welcomeText(config: Config, options: { firstStart: boolean; dataDir: string; port: number }): string {
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
    `  Log in (clients send credentials once accounts are enforced):`,
    `    docker login ${host}      podman login${tlsFlag} ${host}`,
  ];
  if (insecure && !["localhost", "127.0.0.1", "[::1]"].includes(url.hostname)) {
    lines.push(
      "",
      `  Docker talks plain HTTP only to localhost. For ${url.hostname}, configure TLS`,
      "  (server.tls.cert / server.tls.key) or a reverse proxy, or list the host under",
      '  "insecure-registries" in /etc/docker/daemon.json.',
    );
  }
  if (config.admin.user) {
    lines.push("", `  Administrator: ${config.admin.user}`);
  } else if (options.firstStart) {
    lines.push(
      "",
      "  No administrator yet. Start once with FLOTILLA_ADMIN_USER and FLOTILLA_ADMIN_PASSWORD set",
      "  to create one.",
    );
  }
  lines.push("", "  Configuration: flotilla.yaml or FLOTILLA_* variables (`flotilla config` lists them).", "");
  return lines.join("\n");
}
