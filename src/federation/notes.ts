/**
 * A tag push as a Note: HTML that reads well in Mastodon (the pull command, the page first in
 * `url`), and the facts machine-readably as PropertyValue attachments and links.
 */
import { Link, Note, PropertyValue, PUBLIC_COLLECTION } from "@fedify/vocab";
import { escapeHtml, registryField, repositoryField } from "./actors.ts";
import { instant, pullReference, repositoryPageUrl } from "./names.ts";
import { fields } from "./remote.ts";

/** What a Note about a tag says. */
export interface TagFacts {
  repository: string;
  tag: string;
  digest: string;
  mediaType: string;
  size: number;
  /** `os/arch[/variant]` of an index's images; empty for a single image. */
  platforms: string[];
  cid?: string;
}

export interface NoteAddress {
  id: URL;
  actor: URL;
  /** Followers collections to address (the repository's and its namespace's). */
  cc: URL[];
  published: number;
  updated?: number;
}

const field = {
  tag: "tag",
  digest: "digest",
  mediaType: "mediaType",
  size: "size",
  platforms: "platforms",
  cid: "cid",
  manifest: "manifest",
} as const;

export function buildNote(publicUrl: string, facts: TagFacts, address: NoteAddress): Note {
  const { repository, tag, digest } = facts;
  const pull = pullReference(publicUrl, repository, tag);
  const page = repositoryPageUrl(publicUrl, repository);
  const manifestUrl = new URL(`/v2/${repository}/manifests/${digest}`, publicUrl);
  const platforms = facts.platforms.length ? ` for ${facts.platforms.join(", ")}` : "";
  const content = [
    `<p><a href="${escapeHtml(page.href)}">${escapeHtml(repository)}</a>:<strong>${escapeHtml(tag)}</strong> is now <code>${escapeHtml(digest.slice(0, 19))}…</code>${escapeHtml(platforms)}</p>`,
    `<p><code>docker pull ${escapeHtml(pull)}</code></p>`,
  ].join("");
  const urls = [
    new Link({ href: page, rel: "alternate", mediaType: "text/html" }),
    new Link({ href: manifestUrl, rel: "describedby", mediaType: facts.mediaType }),
  ];
  if (facts.cid) urls.push(new Link({ href: new URL(`ipfs://${facts.cid}`), rel: "alternate" }));
  const values: Array<[string, string]> = [
    [repositoryField, repository],
    [registryField, publicUrl],
    [field.tag, tag],
    [field.digest, digest],
    [field.mediaType, facts.mediaType],
    [field.size, String(facts.size)],
    [field.manifest, manifestUrl.href],
  ];
  if (facts.platforms.length) values.push([field.platforms, facts.platforms.join(", ")]);
  if (facts.cid) values.push([field.cid, facts.cid]);
  return new Note({
    id: address.id,
    attribution: address.actor,
    to: PUBLIC_COLLECTION,
    ccs: address.cc,
    content,
    urls,
    attachments: values.map(([name, value]) => new PropertyValue({ name, value })),
    published: instant(address.published),
    updated: address.updated ? instant(address.updated) : null,
  });
}

/** The facts a Note from another instance claims; undefined when it is not a well-formed tag Note. */
export interface ClaimedFacts {
  repository: string;
  registryUrl: string;
  tag: string;
  digest: string;
  mediaType: string;
  size: number;
  cid?: string;
}

const digestPattern = /^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$/;
const tagPattern = /^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$/;
const cidPattern = /^[A-Za-z0-9]{10,200}$/;

export async function claimedFacts(note: Note): Promise<ClaimedFacts | undefined> {
  // Only embedded attachments: a Note that points elsewhere for its facts is not believed.
  const values = await fields(note);
  const size = Number(values.get(field.size));
  const facts = {
    repository: values.get(repositoryField) ?? "",
    registryUrl: values.get(registryField) ?? "",
    tag: values.get(field.tag) ?? "",
    digest: values.get(field.digest) ?? "",
    mediaType: values.get(field.mediaType) ?? "",
    size,
    cid: values.get(field.cid),
  };
  if (!digestPattern.test(facts.digest) || !tagPattern.test(facts.tag)) return undefined;
  if (!Number.isSafeInteger(size) || size < 0 || !facts.mediaType || facts.mediaType.length > 255)
    return undefined;
  if (facts.cid !== undefined && !cidPattern.test(facts.cid)) return undefined;
  return facts;
}
