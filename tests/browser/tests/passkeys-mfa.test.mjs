// A passkey as a second factor through supertokens-auth-react's passkey
// MFA screen (pages/passkeys-mfa.jsx) against the demo API (multifactorauth
// with RequireSetUpFactors: a factor a user has set up is required), with
// Chromium's virtual authenticator: sign in with e-mail and password, add a
// passkey on the screen, sign out, then sign in with both.
import assert from "node:assert/strict";
import { describe } from "node:test";
import { screenshot, stepper, useBrowser, usePage, virtualAuthenticator, webURL } from "./helpers.mjs";

const PASSWORD = "correct-horse-42";

useBrowser();

describe("auth-react passkey MFA screen: add a passkey as a second factor, then sign in with both", () => {
  let context;
  let page;
  let net;
  let cdp;
  let authenticatorId;
  let userId;
  const step = stepper("passkeys-mfa", () => page);
  const email = `e2e-passkey-mfa-${Date.now()}@example.com`;

  async function load(query = "") {
    await page.goto(`${webURL}/st/passkeys-mfa.html${query}`);
    await page.waitForFunction(() => window.stx && window.stx.ready === true, null, { timeout: 15_000 });
  }

  usePage({ label: "passkeys mfa", expected: [/status of 401\b/] }, async (p) => {
    ({ context, page, net } = p);
    ({ cdp, authenticatorId } = await virtualAuthenticator(context, page));
  });

  step("sign up with e-mail and password: no factor asked yet", async () => {
    await load();
    const r = await page.evaluate(([e, p]) => window.stx.signUp(e, p), [email, PASSWORD]);
    assert.equal(r.status, "OK", JSON.stringify(r));
    userId = r.user.id;
    const payload = await page.evaluate(() => window.stx.payload());
    assert.deepEqual(payload["st-mfa"].c?.webauthn, undefined);
  });

  step("the screen registers a passkey as a second factor", async () => {
    const m = net.mark();
    // setup=true: the set-up screen, as auth-react links to it (without it
    // the screen sends a user with nothing left to do on to the app).
    await load("?mount=1&setup=true");
    await net.waitFor(m, "PUT", "/auth/mfa/info");
    await page.getByText(/register a passkey/i).first().waitFor({ timeout: 15_000 });
    await screenshot(page, "passkeys-mfa-01-register");
    // The screen asks which address (the reference's PUT /mfa/info lists
    // none for webauthn either): one of the user's own.
    await page.fill('input[name="email"]', email);
    await page.getByRole("button", { name: /^continue$/i }).click();
    // "Continue with <email>": its button runs navigator.credentials.create.
    await page.getByText(/no need to remember password/i).first().waitFor({ timeout: 15_000 });
    await screenshot(page, "passkeys-mfa-02-create");
    await page.getByRole("button", { name: /^continue$/i }).click();
    const reg = await net.waitFor(m, "POST", "/auth/webauthn/signup");
    assert.equal(reg.status, 200);
    await page.waitForURL((u) => u.searchParams.get("done") === "1", { timeout: 20_000 });
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    assert.equal(credentials.length, 1, "the authenticator holds one passkey");
    const payload = await page.evaluate(() => window.stx.payload());
    assert.equal(typeof payload["st-mfa"].c?.webauthn, "number", JSON.stringify(payload["st-mfa"]));
    assert.equal(payload.sub, userId, "the passkey went to the session's user");
  });

  // The demo's RequireSetUpFactors requires the secondary factors a user
  // set up; webauthn is also a first factor, so it is not among them, and
  // the passkey is asked as a step-up (stepUp=true) instead.
  step("sign out, sign in with the password: the passkey factor not yet completed", async () => {
    await page.evaluate(() => window.stx.signOut());
    await load();
    const r = await page.evaluate(([e, p]) => window.stx.signIn(e, p), [email, PASSWORD]);
    assert.equal(r.status, "OK", JSON.stringify(r));
    assert.equal(r.user.id, userId);
    const payload = await page.evaluate(() => window.stx.payload());
    assert.equal(payload["st-mfa"].c?.webauthn, undefined, JSON.stringify(payload["st-mfa"]));
  });

  step("the screen completes the factor with the passkey, in the same session", async () => {
    const m = net.mark();
    await load("?mount=1&stepUp=true");
    await net.waitFor(m, "PUT", "/auth/mfa/info");
    await screenshot(page, "passkeys-mfa-03-sign-in");
    await page.getByRole("button", { name: /continue/i }).first().click();
    const r = await net.waitFor(m, "POST", "/auth/webauthn/signin");
    assert.equal(r.body?.status ?? "OK", "OK", JSON.stringify(r.body));
    assert.equal(r.status, 200);
    await page.waitForURL((u) => u.searchParams.get("done") === "1", { timeout: 20_000 });
    const payload = await page.evaluate(() => window.stx.payload());
    assert.equal(payload["st-mfa"].v, true, JSON.stringify(payload["st-mfa"]));
    assert.equal(typeof payload["st-mfa"].c?.webauthn, "number");
    assert.equal(payload.sub, userId, "still the same user");
    const after = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    assert.ok(after.credentials[0].signCount >= 1, "the passkey's counter went up");
    await screenshot(page, "passkeys-mfa-04-done");
  });
});
