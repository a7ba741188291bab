// SuperTokens' PRE-BUILT UI (supertokens-auth-react, unmodified) against
// ginauth: the example/prebuilt website (React, no router) on its own
// origin, with its own instance of the demo API (run.mjs: the demo's CORS
// and its e-mail links know one website). Everything goes through the
// pre-built forms — real clicks and typing — and every step also checks what
// crossed the wire. EmailVerification runs in REQUIRED mode on the website,
// so a new user first meets the "verify your email" screen. E2E_DEBUG=1
// prints every API call of each mode at its end.
import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { assertNewTokens, logSize, screenshot, stepper, useBrowser, usePage, waitForLink } from "./helpers.mjs";

// run.mjs starts the pre-built-UI website and its own API instance.
const [siteURL, siteAPI, siteLog] = ["E2E_PREBUILT_URL", "E2E_PREBUILT_API_URL", "E2E_PREBUILT_API_LOG"].map((name) => {
  if (!process.env[name]) throw new Error(`${name} is not set: run the browser tests with \`npm test\` (run.mjs)`);
  return process.env[name];
});

const PASSWORD = "correct-horse-42";
const NEW_PASSWORD = "battery-staple-77";
// The pre-built form checks addresses itself (SuperTokens' regexp) before
// it posts; that regexp lets a domain label start with "-", ginauth's
// (emailpassword.DefaultValidateEmail) does not, so only the server's
// FIELD_ERROR can reject this address. (Should ginauth ever accept it, the
// sign-up step fails with an OK instead of FIELD_ERROR: pick another.)
const SERVER_ONLY_BAD_EMAIL = "someone@-bad-.example.com";

// Selectors: auth-react renders inside an open shadow root, which
// playwright's CSS selectors pierce.
const st = (name) => `[data-supertokens~="${name}"]`;
const sel = {
  title: st("headerTitle"),
  email: 'input[name="email"]',
  password: 'input[name="password"]',
  confirm: 'input[name="confirm-password"]',
  submit: 'button[type="submit"]',
  fieldError: st("inputErrorMessage"),
  generalError: st("generalError"),
  subtitleLink: `${st("headerSubtitle")} ${st("link")}`,
  forgot: st("forgotPasswordLink"),
};

useBrowser();

for (const mode of ["cookie", "header"]) {
  describe(`pre-built UI (auth-react), ${mode} mode`, () => {
    let context;
    let page;
    let net;
    let watch;
    const expected = []; // console errors a step provokes on purpose
    let userId;
    let verifyLink;
    const email = `prebuilt-${mode}-${Date.now()}@example.com`;
    const step = stepper(`prebuilt-${mode}`, () => page);
    let shot = 0;
    const snap = (name) => screenshot(page, `prebuilt-${mode}-${String(++shot).padStart(2, "0")}-${name}`);

    // typeInto types into an input like a user: click, clear, key by key.
    async function typeInto(selector, text) {
      const el = page.locator(selector);
      await el.click();
      await el.press("Control+A");
      await el.press("Backspace");
      await el.pressSequentially(text);
    }

    async function title() {
      return (await page.locator(sel.title).first().innerText()).trim();
    }

    async function waitForTitle(text) {
      await page.locator(sel.title, { hasText: text }).first().waitFor();
    }

    // home waits for the protected page and its GET /sessioninfo answer.
    async function home() {
      await page.waitForSelector('[data-testid="sessioninfo-state"][data-state="ok"]', { timeout: 20_000 });
      assert.equal(new URL(page.url()).pathname, "/");
      return {
        contextUserId: await page.textContent('[data-testid="context-user-id"]'),
        userId: await page.textContent('[data-testid="sessioninfo-user-id"]'),
        handle: await page.textContent('[data-testid="sessioninfo-handle"]'),
        ev: await page.textContent('[data-testid="sessioninfo-ev"]'),
      };
    }

    // entry waits for the response to one API call since mark m (the page
    // may show its next screen before the call that screen makes is done).
    async function entry(m, method, path, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs;
      for (;;) {
        const list = await net.since(m, method, path);
        if (list.length) return list[0];
        if (Date.now() > deadline) throw new Error(`no ${method} ${path} within ${timeoutMs} ms`);
        await page.waitForTimeout(100);
      }
    }

    async function signOut() {
      const m = net.mark();
      await page.click('[data-testid="sign-out"]');
      await waitForTitle("Sign In");
      const r = await net.one(m, "POST", "/auth/signout");
      assert.equal(r.status, 200);
      assert.equal(r.headers["front-token"], "remove");
    }

    async function signIn(password) {
      await typeInto(sel.email, email);
      await typeInto(sel.password, password);
      const m = net.mark();
      await page.click(sel.submit);
      return m;
    }

    usePage({ label: `prebuilt ${mode}`, expected, viewport: { width: 1100, height: 900 }, api: siteAPI }, (p) => ({ context, page, net, watch } = p));

    after(() => {
      if (process.env.E2E_DEBUG) for (const e of net?.entries ?? []) console.log(`[prebuilt ${mode}] ${new Date(e.at).toISOString()} ${e.method} ${e.path} ${e.status} ${JSON.stringify(e.body)?.slice(0, 120)}`);
    });

    step("first visit: SessionAuth sends the visitor to the sign-in form", async () => {
      const m = net.mark();
      await page.goto(`${siteURL}/?mode=${mode}`);
      await waitForTitle("Sign In");
      assert.equal(new URL(page.url()).pathname.replace(/\/$/, ""), "/auth");
      assert.equal(await page.textContent('[data-testid="mode"]'), mode);
      // No front token yet: the SDK asks the refresh endpoint, which says no.
      for (const r of await net.since(m, "POST", "/auth/session/refresh")) {
        assert.equal(r.status, 401);
        assert.equal(r.headers["front-token"], "remove");
      }
      await snap("sign-in-form");
    });

    step("sign-up form: the API's FIELD_ERROR shows under the field", async () => {
      await page.click(sel.subtitleLink); // "Sign Up"
      await waitForTitle("Sign Up");
      await typeInto(sel.email, SERVER_ONLY_BAD_EMAIL);
      await typeInto(sel.password, PASSWORD);
      const m = net.mark();
      await page.click(sel.submit);
      const err = page.locator(sel.fieldError).first();
      await err.waitFor();
      const r = await net.one(m, "POST", "/auth/signup");
      assert.equal(r.status, 200);
      assert.equal(r.requestHeaders["rid"], "emailpassword");
      assert.deepEqual(r.body, { status: "FIELD_ERROR", formFields: [{ id: "email", error: "Email is invalid" }] });
      assert.equal((await err.innerText()).trim(), "Email is invalid");
      assert.equal(r.headers["front-token"], undefined, "no session on FIELD_ERROR");
      await snap("sign-up-field-error");
    });

    step("sign up: REQUIRED e-mail verification shows the verify-email screen and sends the mail", async () => {
      await typeInto(sel.email, email);
      await typeInto(sel.password, PASSWORD);
      const from = logSize(siteLog);
      const m = net.mark();
      await page.click(sel.submit);
      await page.waitForURL((u) => u.pathname === "/auth/verify-email", { timeout: 20_000 });
      await waitForTitle("Verify your email!");
      const r = await net.one(m, "POST", "/auth/signup");
      assert.equal(r.body.status, "OK", JSON.stringify(r.body));
      assert.ok(r.body.user.emails.includes(email));
      const front = assertNewTokens(r, mode, siteURL);
      userId = r.body.user.id;
      assert.equal(front.uid, userId);
      assert.equal(front.up["st-ev"]?.v, false, "a new user is unverified");
      // The screen sent the verification e-mail itself.
      const sent = await entry(m, "POST", "/auth/user/email/verify/token");
      assert.equal(sent.body.status, "OK");
      const link = await waitForLink(from, "/auth/verify-email", 10_000, siteLog);
      assert.equal(new URL(link).origin, siteURL);
      await snap("verify-email-sent");
      verifyLink = link;
    });

    step("the verification link: success screen, then the protected page with /sessioninfo", async () => {
      const m = net.mark();
      await page.goto(verifyLink);
      await page.getByText("Email verification successful!").waitFor({ timeout: 15_000 });
      const r = await net.one(m, "POST", "/auth/user/email/verify");
      assert.equal(r.body.status, "OK", JSON.stringify(r.body));
      await snap("email-verified");
      await page.getByRole("button", { name: "CONTINUE" }).click();
      const h = await home();
      assert.equal(h.userId, userId);
      assert.equal(h.contextUserId, userId);
      assert.equal(h.ev, "true", "st-ev is true in the session the API sees");
      await snap("home");
    });

    step("sign out, then a wrong password: 'Incorrect email and password combination'", async () => {
      await signOut();
      const m = await signIn("not-the-password-1");
      const err = page.locator(sel.generalError);
      await err.waitFor();
      const r = await net.one(m, "POST", "/auth/signin");
      assert.equal(r.body.status, "WRONG_CREDENTIALS_ERROR");
      assert.equal((await err.innerText()).trim(), "Incorrect email and password combination");
      await snap("wrong-password");
    });

    step("sign in: the protected page", async () => {
      const m = await signIn(PASSWORD);
      const h = await home();
      const r = await net.one(m, "POST", "/auth/signin");
      assert.equal(r.body.status, "OK");
      assert.equal(r.body.user.id, userId);
      const front = assertNewTokens(r, mode, siteURL);
      assert.equal(h.userId, userId);
      assert.equal(h.handle, front.up.sessionHandle);
      assert.equal(h.ev, "true");
      await snap("signed-in");
    });

    let resetLink;
    step("forgot password: the form asks the API to mail a link", async () => {
      await signOut();
      await page.click(sel.forgot);
      await waitForTitle("Reset your password");
      await snap("forgot-password-form");
      await typeInto(sel.email, email);
      const from = logSize(siteLog);
      const m = net.mark();
      await page.click(sel.submit);
      await page.getByText("A password reset email has been sent to").waitFor();
      const r = await net.one(m, "POST", "/auth/user/password/reset/token");
      assert.equal(r.body.status, "OK");
      resetLink = await waitForLink(from, "/auth/reset-password", 10_000, siteLog);
      assert.equal(new URL(resetLink).origin, siteURL);
      await snap("reset-link-sent");
    });

    step("the reset link: set a new password, then sign in with it", async () => {
      await page.goto(resetLink);
      await waitForTitle("Change your password");
      await typeInto(sel.password, NEW_PASSWORD);
      await typeInto(sel.confirm, NEW_PASSWORD);
      await snap("change-password-form");
      const m = net.mark();
      await page.click(sel.submit);
      await waitForTitle("Success!");
      const r = await net.one(m, "POST", "/auth/user/password/reset");
      assert.equal(r.body.status, "OK", JSON.stringify(r.body));
      await snap("password-changed");

      await page.getByRole("button", { name: "SIGN IN" }).click();
      await waitForTitle("Sign In");
      const bad = await signIn(PASSWORD); // the old one no longer works
      await page.locator(sel.generalError).waitFor();
      assert.equal((await net.one(bad, "POST", "/auth/signin")).body.status, "WRONG_CREDENTIALS_ERROR");
      const m2 = await signIn(NEW_PASSWORD);
      const h = await home();
      assert.equal((await net.one(m2, "POST", "/auth/signin")).body.status, "OK");
      assert.equal(h.userId, userId);
      await snap("signed-in-new-password");
    });

    step("the reset link is single-use", async () => {
      await signOut();
      await page.goto(resetLink);
      await waitForTitle("Change your password");
      await typeInto(sel.password, "another-pass-99");
      await typeInto(sel.confirm, "another-pass-99");
      const m = net.mark();
      await page.click(sel.submit);
      await page.locator(sel.generalError).waitFor();
      const r = await net.one(m, "POST", "/auth/user/password/reset");
      assert.equal(r.body.status, "RESET_PASSWORD_INVALID_TOKEN_ERROR");
      assert.match(await page.locator(sel.generalError).innerText(), /Invalid password reset token/);
      await snap("reset-link-used");
    });

    step("sign-up form: a taken e-mail is flagged from GET /auth/emailpassword/email/exists", async () => {
      await page.goto(`${siteURL}/auth?show=signup`);
      await waitForTitle("Sign Up");
      const m = net.mark();
      await typeInto(sel.email, email);
      await page.locator(sel.password).click(); // leaving the field checks the address
      const err = page.locator(sel.fieldError).first();
      await err.waitFor();
      const r = await entry(m, "GET", "/auth/emailpassword/email/exists");
      assert.equal(new URL(r.url).searchParams.get("email"), email);
      assert.deepEqual(r.body, { status: "OK", exists: true });
      assert.equal((await err.innerText()).trim(), "This email already exists. Please sign in instead");
      await snap("sign-up-email-exists");
    });

    it("no console errors but the expected ones", () => watch.assertClean());
  });
}
