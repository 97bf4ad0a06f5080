/**
 * The web interface in headless Chromium: sign in, create a token, push with skopeo using it, find
 * the image by search, open it, copy the pull command, star it, follow a repository on a second
 * instance. Screenshots of the main pages go to test-artifacts/screenshots/.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { join } from "node:path";
import { after, before, describe, it } from "node:test";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { flotilla } from "../helpers/cli.ts";
import { admin, type Instance, startInstance } from "../helpers/instance.ts";
import { writeImageLayout } from "../helpers/oci-layout.ts";
import { needs, skopeo, tempDir } from "./tools.ts";

const chromiumPath = "/usr/bin/chromium";
const skip = needs("skopeo") || (existsSync(chromiumPath) ? false : "chromium is not installed");
const shots = new URL("../../test-artifacts/screenshots/", import.meta.url).pathname;
const password = "alice-password-1";

/** Every visible form control has a label (a <label>, aria-label or aria-labelledby). */
async function assertLabelled(page: Page): Promise<void> {
  // A string, evaluated in the page: this project's TypeScript has no DOM types.
  const unlabelled = (await page.evaluate(`[...document.querySelectorAll("input, select, textarea")]
    .filter((e) => e.type !== "hidden")
    .filter((e) => !e.labels?.length && !e.getAttribute("aria-label") && !e.getAttribute("aria-labelledby"))
    .map((e) => e.outerHTML.slice(0, 120))`)) as string[];
  assert.deepEqual(unlabelled, [], `unlabelled controls on ${page.url()}`);
  assert.equal(await page.locator("main").count(), 1, "one main landmark");
}

describe("web interface in a browser", { skip, timeout: 600_000 }, () => {
  let one: Instance;
  /** A second instance, open (no auth), whose repository the first one follows. */
  let two: Instance;
  let work: { path: string; remove(): Promise<void> };
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let src: string;
  let token = "";

  const push = (instance: Instance, name: string, creds: string, tag = "v1") =>
    skopeo(
      [
        "copy",
        "--dest-tls-verify=false",
        "--dest-creds",
        creds,
        `oci:${src}:${tag}`,
        `docker://${instance.host}/${name}:${tag}`,
      ],
      work.path,
    );

  before(async () => {
    await mkdir(shots, { recursive: true });
    work = await tempDir("web-browser");
    // Loopback instances federate only when private addresses are allowed (tests only).
    const env = {
      FLOTILLA_IPFS_ENABLED: "false",
      FLOTILLA_OUTBOUND_ALLOW_PRIVATE_ADDRESSES: "true",
    };
    one = await startInstance({ auth: true, env });
    two = await startInstance({ env });
    const added = await flotilla(
      one.dataDir,
      ["user", "add", "alice", "--password-stdin"],
      `${password}\n`,
    );
    assert.equal(added.code, 0, added.stderr);
    src = join(work.path, "src");
    await writeImageLayout(src, { tag: "v1", seed: "web-browser", layers: [4096] });
    browser = await chromium.launch({ executablePath: chromiumPath, args: ["--no-sandbox"] });
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    page = await context.newPage();
  });

  after(async () => {
    await browser?.close();
    await one?.dispose();
    await two?.dispose();
    await work?.remove();
  });

  it("signs in with the form", async () => {
    await page.goto(`${one.url}/`);
    await page.getByRole("link", { name: "Sign in" }).click();
    await assertLabelled(page);
    await page.screenshot({ path: join(shots, "login.png"), fullPage: true });
    await page.getByLabel("User name").fill("alice");
    await page.getByLabel("Password").fill("wrong-password");
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByText("Wrong user name or password.").waitFor();
    await page.getByLabel("Password").fill(password);
    await page.getByRole("button", { name: "Sign in" }).click();
    await page.getByRole("button", { name: "Sign out" }).waitFor();
  });

  it("creates a personal access token", async () => {
    await page.getByRole("link", { name: "Tokens", exact: true }).click();
    await page.getByLabel("Name").fill("ci");
    await page.getByLabel("Scope").selectOption("push");
    await page.getByRole("button", { name: "Create token" }).click();
    token = await page.getByRole("textbox", { name: "New token", exact: true }).inputValue();
    assert.match(token, /^flt_/);
    await assertLabelled(page);
    await page.screenshot({ path: join(shots, "tokens.png"), fullPage: true });
  });

  it("pushes with skopeo using the token, finds the image by search and opens it", async () => {
    await push(one, "alice/webapp", `alice:${token}`);
    await page.goto(`${one.url}/`);
    await page.getByRole("link", { name: "alice/webapp" }).first().waitFor();
    await page.screenshot({ path: join(shots, "home.png"), fullPage: true });
    await page.getByRole("searchbox", { name: "Search repositories" }).fill("webapp");
    await page.getByRole("searchbox", { name: "Search repositories" }).press("Enter");
    await page.waitForURL(/\/search\?q=webapp/);
    await assertLabelled(page);
    await page.screenshot({ path: join(shots, "search.png"), fullPage: true });
    await page.locator("#results ~ ul").getByRole("link", { name: "alice/webapp" }).click();
    await page.waitForURL(`${one.url}/r/alice/webapp`);
    await page.getByRole("heading", { name: "alice/webapp", level: 1 }).waitFor();
    assert.match((await page.locator("table").textContent()) ?? "", /v1\s+sha256:[0-9a-f]{12}/);
    assert.match((await page.locator("table").textContent()) ?? "", /linux\/amd64/);
    await assertLabelled(page);
  });

  it("copies the pull command", async () => {
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: one.url });
    const button = page.getByRole("button", { name: "Copy: By tag" });
    const expected = `docker pull ${one.host}/alice/webapp:v1`;
    assert.equal(await button.getAttribute("data-copy"), expected);
    await button.click();
    await page
      .getByRole("button", { name: "Copy: By tag" })
      .filter({ hasText: "Copied" })
      .waitFor();
    assert.equal(await page.evaluate("navigator.clipboard.readText()"), expected);
    await page.screenshot({ path: join(shots, "repository.png"), fullPage: true });
    await page.locator("table a.mono").first().click();
    await page.getByRole("heading", { name: "Layers" }).waitFor();
    await page.screenshot({ path: join(shots, "manifest.png"), fullPage: true });
  });

  it("reads without JavaScript and fits a phone screen", async () => {
    const phone = await browser.newContext({
      javaScriptEnabled: false,
      viewport: { width: 375, height: 740 },
      isMobile: true,
    });
    const reader = await phone.newPage();
    await reader.goto(`${one.url}/search?q=webapp`);
    await reader.getByRole("link", { name: "alice/webapp" }).first().click();
    await reader.getByRole("textbox", { name: "By tag", exact: true }).waitFor();
    assert.equal(
      await reader.getByRole("textbox", { name: "By tag", exact: true }).inputValue(),
      `docker pull ${one.host}/alice/webapp:v1`,
    );
    const overflow = (await reader.evaluate(
      "document.documentElement.scrollWidth - document.documentElement.clientWidth",
    )) as number;
    assert.ok(overflow <= 1, `no sideways scrolling on a phone (overflow ${overflow}px)`);
    await reader.screenshot({ path: join(shots, "repository-phone.png"), fullPage: true });
    await phone.close();
  });

  it("stars the repository (when federation is on)", async (t) => {
    const features = (await (await fetch(`${one.url}/api/v1/instance`)).json()) as {
      features: { federation: boolean };
    };
    await page.goto(`${one.url}/r/alice/webapp`);
    if (!features.features.federation) {
      await page.getByText("Federation is off").waitFor();
      t.skip("federation is not wired into this instance yet");
      return;
    }
    await page.getByRole("button", { name: "Star", exact: true }).click();
    await page.getByRole("button", { name: "Unstar" }).waitFor();
    assert.match((await page.locator("#stars").textContent()) ?? "", /1 star\b/);
  });

  it("follows a repository on a second instance and sees its next push appear", async (t) => {
    const features = (await (await fetch(`${one.url}/api/v1/instance`)).json()) as {
      features: { federation: boolean; mirrors: boolean };
    };
    if (!features.features.federation || !features.features.mirrors) {
      t.skip("federation or mirroring is not wired into this instance yet");
      return;
    }
    await push(two, "team/app", "anyone:anything", "v1");
    await page.goto(`${one.url}/`);
    await page.getByRole("link", { name: "Follows", exact: true }).click();
    await page.getByLabel(/Handle/).fill(`${two.url}/ap/repos/team/app`);
    await page.getByRole("button", { name: "Follow", exact: true }).click();
    await page.getByText(/Following .*team\/app/).waitFor();
    await assertLabelled(page);
    await page.screenshot({ path: join(shots, "follows.png"), fullPage: true });
    const mirrored = `127.0.0.1_${two.port}/team/app`;
    const tagShown = async (tag: string) => {
      for (let i = 0; i < 100; i++) {
        const res = await page.goto(`${one.url}/r/${mirrored}`);
        if (res?.status() === 200 && (await page.getByRole("rowheader", { name: tag }).count()) > 0)
          return;
        await new Promise((r) => setTimeout(r, 200));
      }
      assert.fail(`${mirrored}:${tag} did not appear on the first instance`);
    };
    await tagShown("v1");
    // The next push to the second instance reaches the first as a Note and shows up there.
    await writeImageLayout(src, { tag: "v2", seed: "web-browser-v2", layers: [2048] });
    await push(two, "team/app", "anyone:anything", "v2");
    await tagShown("v2");
    assert.match(
      (await page.locator("main").textContent()) ?? "",
      new RegExp(`Mirrored from 127.0.0.1:${two.port}`),
    );
    await page.screenshot({ path: join(shots, "mirrored.png"), fullPage: true });
    await page.goto(`${one.url}/`);
    await page.locator("#mirrored ~ ul").getByRole("link", { name: mirrored }).waitFor();
  });

  it("shows administrators their page", async () => {
    const adminContext = await browser.newContext();
    const adminPage = await adminContext.newPage();
    await adminPage.goto(`${one.url}/login`);
    await adminPage.getByLabel("User name").fill(admin.user);
    await adminPage.getByLabel("Password").fill(admin.password);
    await adminPage.getByRole("button", { name: "Sign in" }).click();
    await adminPage.getByRole("link", { name: "Admin", exact: true }).click();
    await adminPage.getByRole("heading", { name: "Storage" }).waitFor();
    assert.match(
      (await adminPage.locator("main").textContent()) ?? "",
      /\d+ repositories · \d+ blobs/,
    );
    await assertLabelled(adminPage);
    await adminPage.screenshot({ path: join(shots, "admin.png"), fullPage: true });
    await adminContext.close();
  });
});
