// Social sign-in in chromium: the demo's "Continue with Dev OIDC" button,
// through the SDK's ThirdParty recipe, to the demo's development OpenID
// Connect provider (example/devoidc, which approves its user at once) and
// back to /auth/callback/dev-oidc, where POST /auth/signinup creates the
// session. Once per token transfer mode; the first run signs the provider's
// user up, the second signs the same account in.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  assertNewTokens,
  callFromPage,
  click,
  oidcURL,
  ready,
  screenshot,
  stepper,
  useBrowser,
  usePage,
  webURL,
} from "./helpers.mjs";

const PROVIDER = "dev-oidc";
const CALLBACK = `${webURL}/auth/callback/${PROVIDER}`;
let firstUserId; // the account the provider's user got in the first mode

useBrowser();

for (const mode of ["cookie", "header"]) {
  describe(`social sign-in, ${mode} mode`, () => {
    let context;
    let page;
    let net;
    let watch;
    const step = stepper(`${mode}-social`, () => page);
    const providerRequests = []; // what the browser asked the provider
    const expectedErrors = []; // console errors a step provokes on purpose

    usePage({ label: `${mode} social`, expected: expectedErrors }, async (p) => {
      ({ context, page, net, watch } = p);
      page.on("request", (req) => {
        if (req.url().startsWith(oidcURL)) providerRequests.push(req.url());
      });
    });

    step("the sign-in page shows the provider's button", async () => {
      await page.goto(`${webURL}/auth?mode=${mode}`);
      await ready(page);
      assert.equal(await page.textContent('[data-testid="mode"]'), mode);
      const label = await page.textContent(`[data-testid="tp-${PROVIDER}"]`);
      assert.equal(label, "Continue with Dev OIDC");
      await screenshot(page, `${mode}-social-01-auth-page`);
    });

    step("Continue with Dev OIDC: to the provider and back, signed in", async () => {
      const m = net.mark();
      await click(page, `tp-${PROVIDER}`);
      await page.waitForURL((u) => u.href.startsWith(CALLBACK), { timeout: 20_000 });
      await page.waitForSelector('[data-testid="signed-in"]', { timeout: 20_000 });
      await ready(page);

      // The SDK asked the API for the provider's URL ...
      const au = await net.one(m, "GET", "/auth/authorisationurl");
      assert.equal(au.status, 200);
      assert.equal(au.requestHeaders["rid"], "thirdparty");
      // ... and the browser went there, with PKCE, a nonce and the SDK's state.
      const authorize = providerRequests.map((u) => new URL(u)).find((u) => u.pathname === "/authorize");
      assert.ok(authorize, `the browser did not visit the provider: ${providerRequests}`);
      const q = authorize.searchParams;
      assert.equal(q.get("redirect_uri"), CALLBACK);
      assert.equal(q.get("response_type"), "code");
      assert.equal(q.get("code_challenge_method"), "S256");
      assert.match(q.get("code_challenge") || "", /^[\w-]{43}$/);
      assert.ok(q.get("nonce"), "a nonce");
      assert.ok(q.get("state"), "the SDK's state");

      // The callback page posted the code; the API answered with a session.
      const r = await net.one(m, "POST", "/auth/signinup");
      assert.equal(r.status, 200, JSON.stringify(r.body));
      assert.equal(r.body.status, "OK", JSON.stringify(r.body));
      assert.equal(r.requestHeaders["rid"], "thirdparty");
      assert.equal(r.requestHeaders["st-auth-mode"], mode);
      const user = r.body.user;
      const front = assertNewTokens(r, mode);
      assert.equal(front.uid, user.id);
      assert.deepEqual(user.thirdParty, [{ id: PROVIDER, userId: "dev-social" }], JSON.stringify(user));
      assert.deepEqual(user.emails, ["social@example.com"]);
      const lm = user.loginMethods.find((l) => l.recipeId === "thirdparty");
      assert.ok(lm, `no thirdparty login method: ${JSON.stringify(user.loginMethods)}`);
      assert.deepEqual(lm.thirdParty, { id: PROVIDER, userId: "dev-social" });
      assert.equal(lm.email, "social@example.com");
      assert.equal(lm.verified, true, "the provider vouched for the address");
      if (firstUserId === undefined) {
        assert.equal(r.body.createdNewRecipeUser, true, "first sign-in signs up");
        firstUserId = user.id;
      } else {
        assert.equal(r.body.createdNewRecipeUser, false, "the same provider account signs in again");
        assert.equal(user.id, firstUserId);
      }

      // The home page shows the user object's login method.
      assert.equal(new URL(page.url()).pathname, "/");
      assert.equal(await page.textContent('[data-testid="user-id"]'), user.id);
      await page.waitForFunction(() => document.querySelector('[data-testid="login-methods"]')?.dataset.recipes);
      assert.equal(await page.getAttribute('[data-testid="login-methods"]', "data-recipes"), "thirdparty");
      assert.match(await page.textContent('[data-testid="login-methods"]'), /thirdparty: dev-oidc \(social@example\.com\)/);
      await page.waitForFunction(() => document.querySelector('[data-testid="email-verified"]')?.textContent === "true");
      await screenshot(page, `${mode}-social-02-signed-in`);
    });

    step("GET /sessioninfo with the social session", async () => {
      const last = await callFromPage(page, "call-sessioninfo");
      assert.equal(last.status, 200, JSON.stringify(last));
      assert.equal(last.body.userId, firstUserId);
      assert.equal(last.body.accessTokenPayload["st-ev"]?.v, true, JSON.stringify(last.body.accessTokenPayload));
      await screenshot(page, `${mode}-social-03-sessioninfo`);
    });

    step("a reused callback URL does not sign in again", async () => {
      // Replaying the provider's redirect (history back) must not create a
      // session: the provider's codes are single-use.
      await click(page, "sign-out");
      await page.waitForSelector('[data-testid="signed-out"]');
      expectedErrors.push(/Signing in with Dev OIDC failed/);
      const m = net.mark();
      await page.goBack(); // the /auth/callback/dev-oidc?code=...&state=... entry
      await ready(page);
      assert.ok(page.url().startsWith(CALLBACK), page.url());
      await page.waitForSelector('[data-testid="error"]:not(:empty), [data-testid="callback-result"][data-status]');
      assert.equal(await page.evaluate(() => window.demo.doesSessionExist()), false);
      for (const r of await net.since(m, "POST", "/auth/signinup")) {
        assert.notEqual(r.body?.status, "OK", "a replayed code must not sign in");
      }
      await screenshot(page, `${mode}-social-04-replayed-callback`);
    });

    it("no console errors but the expected ones", () => watch.assertClean());
  });
}
