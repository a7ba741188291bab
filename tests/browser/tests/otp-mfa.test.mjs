// An e-mailed code as a second factor through supertokens-auth-react's
// e-mail code MFA screen (pages/otp-mfa.jsx) against the demo API
// (multifactorauth; passwordless codes as second factors only; a code
// factor a user set up next to their password is required, as
// passwordless.Recipe.RequiredSecondaryFactors says): sign up with e-mail
// and password, set up otp-email on the screen, sign out, then sign in
// with the password and the e-mailed code. The codes are read from the
// API's log (no SMTP: the passwordless recipe logs each e-mail's code).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe } from "node:test";
import { apiLog, logSize, screenshot, stepper, useBrowser, usePage, webURL } from "./helpers.mjs";

const PASSWORD = "correct-horse-42";

useBrowser();

// waitForCode returns the last sign-in code e-mailed to `to` that the API
// logged after byte offset `from`.
async function waitForCode(from, to, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lines = readFileSync(apiLog, "utf8").slice(from).split("\n");
    const codes = lines
      .filter((l) => l.includes("passwordless: e-mail not sent") && l.includes(`to=${to}`))
      .map((l) => /\bcode=(\d{6})\b/.exec(l)?.[1])
      .filter(Boolean);
    if (codes.length) return codes[codes.length - 1];
    if (Date.now() > deadline) throw new Error(`no code for ${to} in the API log within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

describe("auth-react e-mail code MFA screen: set up otp-email, then sign in with password and code", () => {
  let context;
  let page;
  let net;
  let userId;
  const step = stepper("otp-mfa", () => page);
  const email = `e2e-otp-mfa-${Date.now()}@example.com`;

  async function answer(m, method, path) {
    for (let t = 0; t < 200; t++) {
      const [r] = await net.since(m, method, path);
      if (r) return r;
      await new Promise((r) => setTimeout(r, 100));
    }
    throw new Error(`no ${method} ${path}: ${JSON.stringify((await net.since(m)).map((e) => `${e.method} ${e.path} ${e.status}`))}`);
  }

  async function load(query = "") {
    await page.goto(`${webURL}/st/otp-mfa.html${query}`);
    await page.waitForFunction(() => window.stx && window.stx.ready === true, null, { timeout: 15_000 });
  }

  // enterCode waits for the screen to send a code to the user's address,
  // types it in and waits for the consume and the screen's redirect.
  async function enterCode(m, offset, shot, { askEmail = false } = {}) {
    if (askEmail) {
      // The set-up screen asks which address (it does not pick one of
      // PUT /mfa/info's emails itself): the user's own.
      await page.waitForSelector('input[name="email"]', { timeout: 15_000 });
      await page.fill('input[name="email"]', email);
      await page.getByRole("button", { name: /^continue$/i }).click();
    }
    const sent = await answer(m, "POST", "/auth/signinup/code");
    assert.equal(sent.status, 200);
    assert.equal(sent.body.status, "OK", JSON.stringify(sent.body));
    assert.equal(sent.body.flowType, "USER_INPUT_CODE", "a second factor sends a code only");
    const code = await waitForCode(offset, email);
    await page.waitForSelector('input[name="userInputCode"]', { timeout: 15_000 });
    await screenshot(page, shot);
    await page.fill('input[name="userInputCode"]', code);
    await page.click('button[type="submit"]');
    const used = await answer(m, "POST", "/auth/signinup/code/consume");
    assert.equal(used.status, 200);
    assert.equal(used.body.status, "OK", JSON.stringify(used.body));
    assert.equal(used.body.user.id, userId, "the code went to the session's user");
    await page.waitForURL((u) => u.searchParams.get("done") === "1", { timeout: 20_000 });
    return used;
  }

  usePage({ label: "otp mfa", expected: [/status of 401\b/] }, (p) => ({ context, page, net } = p));

  step("sign up with e-mail and password: no second factor asked yet", async () => {
    await load();
    const r = await page.evaluate(([e, p]) => window.stx.signUp(e, p), [email, PASSWORD]);
    assert.equal(r.status, "OK", JSON.stringify(r));
    userId = r.user.id;
    const payload = await page.evaluate(() => window.stx.payload());
    assert.equal(payload["st-mfa"].v, true, JSON.stringify(payload["st-mfa"]));
    assert.equal(payload["st-mfa"].c?.["otp-email"], undefined);
  });

  step("the screen sets up otp-email with a code to the user's address, in the same session", async () => {
    const before = await page.evaluate(() => window.stx.payload());
    const m = net.mark();
    const offset = logSize();
    // setup=true: the set-up screen, as auth-react links to it.
    await load("?mount=1&setup=true");
    const info = await answer(m, "PUT", "/auth/mfa/info");
    assert.deepEqual(info.body.emails?.["otp-email"], [email], JSON.stringify(info.body));
    const used = await enterCode(m, offset, "otp-mfa-01-setup", { askEmail: true });
    assert.equal(used.body.createdNewRecipeUser, true, "the address became a passwordless login method");
    assert.ok(used.body.user.loginMethods.some((lm) => lm.recipeId === "passwordless" && lm.email === email),
      JSON.stringify(used.body.user.loginMethods));
    const payload = await page.evaluate(() => window.stx.payload());
    assert.equal(typeof payload["st-mfa"].c?.["otp-email"], "number", JSON.stringify(payload["st-mfa"]));
    assert.equal(payload.sub, userId);
    assert.equal(payload.sessionHandle, before.sessionHandle, "the same session, upgraded in place");
  });

  step("sign out, sign in with the password: otp-email is now required", async () => {
    await page.evaluate(() => window.stx.signOut());
    await load();
    const r = await page.evaluate(([e, p]) => window.stx.signIn(e, p), [email, PASSWORD]);
    assert.equal(r.status, "OK", JSON.stringify(r));
    assert.equal(r.user.id, userId);
    const payload = await page.evaluate(() => window.stx.payload());
    assert.equal(payload["st-mfa"].v, false, JSON.stringify(payload["st-mfa"]));
    assert.equal(payload["st-mfa"].c?.["otp-email"], undefined);
  });

  step("the screen e-mails a code to the address on record; it completes the sign-in", async () => {
    const before = await page.evaluate(() => window.stx.payload());
    const m = net.mark();
    const offset = logSize();
    await load("?mount=1");
    const info = await answer(m, "PUT", "/auth/mfa/info");
    assert.deepEqual(info.body.factors.next, ["otp-email"], JSON.stringify(info.body));
    assert.ok(info.body.factors.alreadySetup.includes("otp-email"), JSON.stringify(info.body));
    const used = await enterCode(m, offset, "otp-mfa-02-sign-in");
    assert.equal(used.body.createdNewRecipeUser, false);
    const payload = await page.evaluate(() => window.stx.payload());
    assert.equal(payload["st-mfa"].v, true, JSON.stringify(payload["st-mfa"]));
    assert.equal(typeof payload["st-mfa"].c?.emailpassword, "number");
    assert.equal(typeof payload["st-mfa"].c?.["otp-email"], "number");
    assert.equal(payload.sub, userId, "still the same user");
    assert.equal(payload.sessionHandle, before.sessionHandle, "no new session");
    await screenshot(page, "otp-mfa-03-done");
  });
});
