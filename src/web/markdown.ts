/** READMEs rendered safely: no raw HTML, and links only to http(s), mailto and relative targets. */
import MarkdownIt from "markdown-it";

const allowed = /^(https?:|mailto:|#|\/(?!\/)|\.{0,2}\/?[\w.-])/i;

const markdown = new MarkdownIt({ html: false, linkify: true, typographer: false });
markdown.validateLink = (url: string) => {
  const trimmed = url.trim();
  // Images are limited to http(s) like links; data: and javascript: URLs never pass.
  if (/^(javascript|vbscript|data|file):/i.test(trimmed)) return false;
  return allowed.test(trimmed);
};
// Links in user content must not carry the reader's session to another site's referrer logs.
const defaultLinkOpen =
  markdown.renderer.rules.link_open ??
  ((tokens, idx, options, _env, self) => self.renderToken(tokens, idx, options));
markdown.renderer.rules.link_open = (tokens, idx, options, env, self) => {
  tokens[idx]?.attrSet("rel", "nofollow noopener noreferrer ugc");
  return defaultLinkOpen(tokens, idx, options, env, self);
};

/** Markdown to HTML that is safe to insert into a page. */
export function renderMarkdown(source: string): string {
  return markdown.render(source.slice(0, 200_000));
}
