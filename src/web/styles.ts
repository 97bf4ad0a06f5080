/** The one stylesheet and the one small script (copy buttons); both work without a build step. */

export const stylesheet = `
:root { --fg: #1a1a1a; --muted: #4a4a4a; --bg: #fff; --panel: #f4f5f7; --line: #c9ccd1;
  --accent: #0b5cad; --accent-fg: #fff; --danger: #a4161a; --ok: #1b6b2f; --radius: 6px;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, "Noto Sans", sans-serif; }
@media (prefers-color-scheme: dark) {
  :root { --fg: #ececec; --muted: #c2c2c2; --bg: #15171a; --panel: #1f2227; --line: #454a52;
    --accent: #7db7ff; --accent-fg: #0b1320; --danger: #ff8a8e; --ok: #7fd494; }
}
* { box-sizing: border-box; }
body { margin: 0; color: var(--fg); background: var(--bg); line-height: 1.5; }
a { color: var(--accent); }
a:focus-visible, button:focus-visible, input:focus-visible, select:focus-visible, textarea:focus-visible {
  outline: 3px solid var(--accent); outline-offset: 2px; }
.skip { position: absolute; left: -999px; top: 0; }
.skip:focus { left: 1rem; background: var(--bg); padding: .5rem; z-index: 10; }
header { border-bottom: 1px solid var(--line); background: var(--panel); }
header nav { display: flex; flex-wrap: wrap; gap: .75rem; align-items: center; max-width: 72rem;
  margin: 0 auto; padding: .6rem 1rem; }
header .brand { font-weight: 700; font-size: 1.15rem; text-decoration: none; color: var(--fg); }
header form[role=search] { flex: 1 1 16rem; display: flex; gap: .4rem; }
header form[role=search] input { flex: 1; }
header ul { list-style: none; display: flex; flex-wrap: wrap; gap: .75rem; margin: 0; padding: 0; align-items: center; }
main { max-width: 72rem; margin: 0 auto; padding: 1rem; }
footer { max-width: 72rem; margin: 2rem auto; padding: 1rem; color: var(--muted); border-top: 1px solid var(--line); }
h1 { font-size: 1.6rem; margin: .5rem 0 1rem; word-break: break-word; }
h2 { font-size: 1.2rem; margin: 1.5rem 0 .5rem; }
input, select, textarea, button { font: inherit; color: var(--fg); background: var(--bg);
  border: 1px solid var(--line); border-radius: var(--radius); padding: .4rem .6rem; }
textarea { width: 100%; min-height: 8rem; }
.wide { width: 100%; }
form.narrow { max-width: 24rem; }
button, .button { background: var(--accent); color: var(--accent-fg); border-color: var(--accent);
  cursor: pointer; text-decoration: none; display: inline-block; }
button.secondary { background: var(--bg); color: var(--accent); }
button.danger { background: var(--danger); border-color: var(--danger); color: #fff; }
label { font-weight: 600; display: block; margin: .5rem 0 .2rem; }
.inline { display: inline; }
.inline label { display: inline; }
.grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(16rem, 1fr)); gap: .75rem;
  list-style: none; padding: 0; margin: 0; }
.card { border: 1px solid var(--line); border-radius: var(--radius); padding: .75rem; background: var(--panel); }
.card h3 { margin: 0 0 .25rem; font-size: 1rem; word-break: break-all; }
.meta { color: var(--muted); font-size: .9rem; }
.badge { display: inline-block; border: 1px solid var(--line); border-radius: 999px; padding: 0 .5rem;
  font-size: .8rem; margin-right: .25rem; }
.badge.signed { border-color: var(--ok); color: var(--ok); }
.actions { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin: .75rem 0; }
.copy { display: flex; gap: .4rem; align-items: center; margin-bottom: .5rem; flex-wrap: wrap; }
.copy label { flex-basis: 100%; margin: 0; }
.copy input { flex: 1 1 20rem; font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .9rem; }
table { border-collapse: collapse; width: 100%; }
.table { overflow-x: auto; }
th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
code, .mono { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-size: .88rem; word-break: break-all; }
.notice { border-left: 4px solid var(--accent); background: var(--panel); padding: .5rem .75rem; margin: 1rem 0; }
.error { border-left-color: var(--danger); }
.readme { border: 1px solid var(--line); border-radius: var(--radius); padding: 0 1rem; overflow-wrap: anywhere; }
.readme pre { overflow-x: auto; }
.filters { display: grid; grid-template-columns: repeat(auto-fill, minmax(12rem, 1fr)); gap: .75rem; align-items: end; }
.filters input, .filters select { width: 100%; }
.columns { display: grid; grid-template-columns: 2fr 1fr; gap: 1.5rem; }
@media (max-width: 48rem) { .columns { grid-template-columns: 1fr; } th.optional, td.optional { display: none; } }
.sr-only { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

/** Copy buttons: progressive enhancement; without JavaScript the command stays selectable. */
export const script = `
document.addEventListener("click", async (event) => {
  const button = event.target instanceof Element ? event.target.closest("button[data-copy]") : null;
  if (!button) return;
  try {
    await navigator.clipboard.writeText(button.dataset.copy);
    button.textContent = "Copied";
  } catch {
    const input = document.getElementById(button.getAttribute("aria-controls"));
    if (input) { input.focus(); input.select(); }
    button.textContent = "Press Ctrl+C";
  }
  setTimeout(() => { button.textContent = "Copy"; }, 2000);
});
`;
