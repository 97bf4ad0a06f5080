/** The OpenAPI 3.1 description of the JSON API, served at /api/v1/openapi.json. */

const error = { $ref: "#/components/responses/Error" };
const ok = (description: string, schema: object = { type: "object" }) => ({
  description,
  content: { "application/json": { schema } },
});
const noContent = { description: "done" };
const body = (properties: Record<string, object>, required: string[] = []) => ({
  required: true,
  content: { "application/json": { schema: { type: "object", properties, required } } },
});
const str = { type: "string" };
const repoPath = {
  name: "name",
  in: "path",
  required: true,
  description: "repository name; may contain slashes (e.g. alice/app)",
  schema: str,
};
const op = (summary: string, responses: Record<string, object>, extra: object = {}) => ({
  summary,
  responses: { ...responses, "4XX": error },
  ...extra,
});

export function openApiDocument(publicUrl: string) {
  return {
    openapi: "3.1.0",
    info: {
      title: "Flotilla web API",
      version: "1",
      description:
        "The JSON API behind every page. Authenticate with HTTP basic credentials (user name and password or personal access token), or a browser session cookie plus the X-CSRF-Token header on writes. Errors are OCI error bodies: {errors:[{code,message,detail}]}.",
    },
    servers: [{ url: publicUrl }],
    components: {
      securitySchemes: {
        basic: { type: "http", scheme: "basic" },
        session: { type: "apiKey", in: "cookie", name: "flotilla_session" },
      },
      responses: {
        Error: ok("OCI error body", { type: "object", properties: { errors: { type: "array" } } }),
      },
    },
    security: [{}, { basic: [] }, { session: [] }],
    paths: {
      "/api/v1/instance": {
        get: op("Instance name, description, host and features", { 200: ok("instance") }),
      },
      "/api/v1/me": { get: op("Who the caller is", { 200: ok("user, admin, scope") }) },
      "/api/v1/home": {
        get: op("Recent pushes, recently mirrored, curated (boosted), most starred", {
          200: ok("home"),
        }),
      },
      "/api/v1/search": {
        get: op(
          "Search local and known remote repositories",
          {
            200: ok(
              "results, ranked: exact name, prefix, substring, description/tags; then stars and recency",
            ),
          },
          {
            parameters: [
              { name: "q", in: "query", schema: str },
              {
                name: "instance",
                in: "query",
                schema: str,
                description: "`local` or a remote host",
              },
              { name: "namespace", in: "query", schema: str },
              { name: "platform", in: "query", schema: str, description: "e.g. linux/amd64" },
              { name: "signed", in: "query", schema: { type: "boolean" } },
              { name: "limit", in: "query", schema: { type: "integer", minimum: 1, maximum: 100 } },
            ],
          },
        ),
      },
      "/api/v1/repositories/{name}": {
        parameters: [repoPath],
        get: op(
          "Repository: description, README, tags with digests, sizes, platforms, pull commands, counts, origin",
          { 200: ok("repository") },
        ),
        patch: op(
          "Change description, README, visibility (namespace owners)",
          { 200: ok("repository") },
          {
            requestBody: body({
              description: str,
              readme: str,
              visibility: { enum: ["public", "private", "inherit"] },
            }),
          },
        ),
      },
      "/api/v1/repositories/{name}/-/manifests/{reference}": {
        parameters: [repoPath, { name: "reference", in: "path", required: true, schema: str }],
        get: op("Manifest details: config, layers, child manifests, platforms, referrers, CID", {
          200: ok("manifest"),
        }),
      },
      "/api/v1/repositories/{name}/-/star": {
        parameters: [repoPath],
        put: op("Star (federation)", { 204: noContent }),
        delete: op("Unstar", { 204: noContent }),
      },
      "/api/v1/repositories/{name}/-/boost": {
        parameters: [repoPath],
        put: op("Boost as the instance (administrators)", { 204: noContent }),
        delete: op("Unboost", { 204: noContent }),
      },
      "/api/v1/repositories/{name}/-/report": {
        parameters: [repoPath],
        post: op(
          "Report to the administrators",
          { 201: ok("report id") },
          { requestBody: body({ text: str }, ["text"]) },
        ),
      },
      "/api/v1/namespaces/{namespace}": {
        parameters: [{ name: "namespace", in: "path", required: true, schema: str }],
        get: op("User or organization: repositories, members (for members), handle", {
          200: ok("namespace"),
        }),
      },
      "/api/v1/namespaces/{namespace}/members/{user}": {
        parameters: [
          { name: "namespace", in: "path", required: true, schema: str },
          { name: "user", in: "path", required: true, schema: str },
        ],
        put: op(
          "Add a member or change a role (owners)",
          { 204: noContent },
          { requestBody: body({ role: { enum: ["owner", "maintainer", "reader"] } }, ["role"]) },
        ),
        delete: op("Remove a member", { 204: noContent }),
      },
      "/api/v1/namespaces/{namespace}/visibility": {
        parameters: [{ name: "namespace", in: "path", required: true, schema: str }],
        put: op(
          "Default visibility of the namespace",
          { 204: noContent },
          { requestBody: body({ visibility: { enum: ["public", "private"] } }, ["visibility"]) },
        ),
      },
      "/api/v1/tokens": {
        get: op("The caller's personal access tokens (no secrets)", { 200: ok("tokens") }),
        post: op(
          "Create a token; the value is returned once",
          { 201: ok("id, token, expiresAt") },
          {
            requestBody: body(
              {
                name: str,
                scope: { enum: ["pull", "push", "admin"] },
                expiresInDays: { type: "integer" },
              },
              ["name"],
            ),
          },
        ),
      },
      "/api/v1/tokens/{id}": {
        parameters: [{ name: "id", in: "path", required: true, schema: str }],
        delete: op("Revoke a token", { 204: noContent }),
      },
      "/api/v1/me/follows": {
        get: op("Remote repositories and namespaces this instance follows", { 200: ok("follows") }),
        post: op(
          "Follow a handle (@alice@host) or a repository URL",
          { 201: ok("follow") },
          { requestBody: body({ target: str }, ["target"]) },
        ),
        delete: op("Unfollow (administrators); ?target=", { 204: noContent }),
      },
      "/api/v1/admin/overview": {
        get: op("Settings, storage, mirrors, blocked domains, open reports", {
          200: ok("overview"),
        }),
      },
      "/api/v1/admin/settings": {
        put: op(
          "Instance name and description",
          { 200: ok("settings") },
          { requestBody: body({ name: str, description: str }) },
        ),
      },
      "/api/v1/admin/blocks": {
        post: op(
          "Block a domain",
          { 204: noContent },
          { requestBody: body({ domain: str, reason: str }, ["domain"]) },
        ),
      },
      "/api/v1/admin/blocks/{domain}": {
        parameters: [{ name: "domain", in: "path", required: true, schema: str }],
        delete: op("Unblock a domain", { 204: noContent }),
      },
      "/api/v1/admin/reports/{id}/resolve": {
        parameters: [{ name: "id", in: "path", required: true, schema: str }],
        post: op("Mark a report handled", { 204: noContent }),
      },
    },
  };
}
