// The demo website and API in chromium, through the real SuperTokens SDK
// (supertokens-web-js), once with cookies and once with headers as the
// token transfer method. Besides what the page shows, every step checks
// the wire: status codes, front-token, cookie attributes, exposed headers.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  apiURL,
  assertCORS,
  assertNewTokens,
  callFromPage,
  click,
  cookiesByName,
  decodeFrontToken,
  docImage,
  expectStatus,
  logSize,
  ready,
  screenshot,
  stepper,
  useBrowser,
  usePage,
  waitForLink,
  webURL,
} from "./helpers.mjs";

const PASSWORD = "correct-horse-42";

useBrowser();

// The CORS preflight the SDK's requests need (browsers hide preflights
// from the page, so this one is sent by hand).
describe("CORS preflight", () => {
  it("allows the SDK's headers with credentials from the website only", async () => {
    const res = await fetch(`${apiURL}/auth/signin`, {
      method: "OPTIONS",
      headers: {
        Origin: webURL,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "content-type,rid,fdi-version,st-auth-mode,anti-csrf,authorization",
      },
    });
    assert.ok(res.status === 204 || res.status === 200, `preflight status ${res.status}`);
    assert.equal(res.headers.get("access-control-allow-origin"), webURL);
    assert.equal(res.headers.get("access-control-allow-credentials"), "true");
    const allowed = (res.headers.get("access-control-allow-headers") || "").toLowerCase().split(/\s*,\s*/);
    for (const h of ["content-type", "rid", "fdi-version", "st-auth-mode", "anti-csrf", "authorization"]) {
      assert.ok(allowed.includes(h), `${h} not allowed: ${allowed}`);
    }
    const other = await fetch(`${apiURL}/auth/signin`, {
      method: "OPTIONS",
      headers: { Origin: "http://evil.localhost:3999", "Access-Control-Request-Method": "POST" },
    });
    assert.notEqual(other.headers.get("access-control-allow-origin"), "http://evil.localhost:3999");
  });
});

for (const mode of ["cookie", "header"]) {
  describe(`${mode} mode`, () => {
    let context;
    let page;
    // The steps build on each other (see stepper).
    const step = stepper(mode, () => page);
    let net;
    let watch;
    const expected = []; // console errors a step provokes on purpose
    let userId;
    let sessionHandle;
    const email = `e2e-${mode}-${Date.now()}@example.com`;

    usePage({ label: mode, expected }, (p) => ({ context, page, net, watch } = p));

    step("first visit: no session", async () => {
      const m = net.mark();
      await page.goto(`${webURL}/?mode=${mode}`);
      await ready(page);
      assert.equal(await page.textContent('[data-testid="mode"]'), mode);
      await page.waitForSelector('[data-testid="signed-out"]');
      assert.equal(await page.evaluate(() => window.demo.doesSessionExist()), false);
      // No empty result box before any call.
      assert.equal(await page.isHidden('[data-testid="result"]'), true, "result box shown before any call");
      // A fresh browser does not know whether a session exists: the SDK
      // asks the refresh endpoint, which must answer 401.
      for (const r of await net.since(m, "POST", "/auth/session/refresh")) {
        assert.equal(r.status, 401, "refresh without a token is 401");
        assert.equal(r.headers["front-token"], "remove", "a failed refresh says front-token: remove");
        assertCORS(r);
      }
      await screenshot(page, `${mode}-01-signed-out`);
    });

    step("sign up", async () => {
      await page.goto(`${webURL}/auth`);
      await ready(page);
      await page.fill('[data-testid="email"]', email);
      await page.fill('[data-testid="password"]', PASSWORD);
      await screenshot(page, `${mode}-02-sign-up-form`);
      if (mode === "cookie") await docImage(page, "demo-sign-in");
      const m = net.mark();
      await click(page, "sign-up");
      await page.waitForSelector('[data-testid="signed-in"]', { timeout: 20_000 });
      const r = await net.one(m, "POST", "/auth/signup");
      assert.equal(r.status, 200);
      assert.equal(r.body.status, "OK", JSON.stringify(r.body));
      assert.equal(r.requestHeaders["rid"], "emailpassword");
      assert.equal(r.requestHeaders["st-auth-mode"], mode);
      assert.ok(r.body.user.emails.includes(email));
      const front = assertNewTokens(r, mode);
      assert.equal(front.uid, r.body.user.id);
      userId = r.body.user.id;
      assert.equal(await page.textContent('[data-testid="user-id"]'), userId);
      assert.equal(await page.evaluate(() => window.demo.doesSessionExist()), true);
      await screenshot(page, `${mode}-03-signed-up`);
    });

    step("the session lives where the mode says", async () => {
      const apiCookies = await context.cookies([`${apiURL}/`, `${apiURL}/auth/session/refresh`]);
      const webCookies = await context.cookies([`${webURL}/`]);
      const names = (list) => list.map((c) => c.name);
      assert.ok(names(webCookies).includes("sFrontToken"), `frontend cookies: ${names(webCookies)}`);
      if (mode === "cookie") {
        const rt = apiCookies.find((c) => c.name === "sRefreshToken");
        assert.ok(rt, `API cookies: ${names(apiCookies)}`);
        assert.equal(rt.httpOnly, true);
        assert.equal(rt.path, "/auth/session/refresh");
        assert.equal(rt.sameSite, "Lax");
        assert.ok(apiCookies.find((c) => c.name === "sAccessToken")?.httpOnly);
      } else {
        // (Cookies ignore ports: the API's list also holds the website's.)
        const tokens = names(apiCookies).filter((n) => /^s(Access|Refresh)Token$/.test(n));
        assert.deepEqual(tokens, [], "no token cookies in header mode");
        assert.ok(names(webCookies).includes("st-access-token"), `frontend cookies: ${names(webCookies)}`);
        assert.ok(names(webCookies).includes("st-refresh-token"));
      }
    });

    step("sign in (wrong password, then right)", async () => {
      await click(page, "sign-out");
      await page.waitForSelector('[data-testid="signed-out"]');
      await page.goto(`${webURL}/auth`);
      await ready(page);
      await page.fill('[data-testid="email"]', email);
      await page.fill('[data-testid="password"]', "not-the-password-1");
      let m = net.mark();
      await click(page, "sign-in");
      await page.waitForSelector('[data-testid="auth-result"].err');
      const bad = await net.one(m, "POST", "/auth/signin");
      assert.equal(bad.status, 200);
      assert.equal(bad.body.status, "WRONG_CREDENTIALS_ERROR");
      assert.equal(bad.headers["front-token"], undefined, "no session on wrong credentials");
      await screenshot(page, `${mode}-04-wrong-password`);

      await page.fill('[data-testid="password"]', PASSWORD);
      m = net.mark();
      await click(page, "sign-in");
      await page.waitForSelector('[data-testid="signed-in"]', { timeout: 20_000 });
      const r = await net.one(m, "POST", "/auth/signin");
      assert.equal(r.status, 200);
      assert.equal(r.body.status, "OK");
      assert.equal(r.body.user.id, userId);
      const front = assertNewTokens(r, mode);
      assert.equal(front.uid, userId);
      sessionHandle = front.up.sessionHandle;
      await screenshot(page, `${mode}-05-signed-in`);
    });

    step("a protected call: GET /sessioninfo", async () => {
      const m = net.mark();
      const last = await callFromPage(page, "call-sessioninfo");
      assert.equal(last.status, 200, JSON.stringify(last));
      assert.equal(last.body.userId, userId);
      assert.equal(last.body.sessionHandle, sessionHandle);
      assert.equal(last.body.accessTokenPayload.sub, userId);
      const r = await net.one(m, "GET", "/sessioninfo");
      if (mode === "header") {
        assert.match(r.requestHeaders["authorization"] || "", /^Bearer [\w-]+\.[\w-]+\.[\w-]+$/);
      } else {
        assert.equal(r.requestHeaders["authorization"], undefined);
        assert.match(r.requestHeaders["cookie"] || "", /sAccessToken=/);
        assert.doesNotMatch(r.requestHeaders["cookie"] || "", /sRefreshToken=/, "refresh cookie stays on its path");
      }
      assert.equal(r.requestHeaders["st-auth-mode"], mode);
      await screenshot(page, `${mode}-06-sessioninfo`);
      if (mode === "cookie") await docImage(page, "demo-signed-in");
    });

    step("an expired access token is refreshed by the SDK on its own", async () => {
      expected.push(expectStatus(401, "/sessioninfo")); // the SDK's cue to refresh
      const payload = await page.evaluate(() => window.demo.getAccessTokenPayload());
      // Past the expiry plus the server's clock-skew leeway (5 s).
      const wait = payload.exp * 1000 + 6500 - Date.now();
      assert.ok(wait < 15_000, `access token valid for ${wait} ms: is ACCESS_TOKEN_VALIDITY_SECONDS short?`);
      await new Promise((r) => setTimeout(r, Math.max(0, wait)));
      const m = net.mark();
      const last = await callFromPage(page, "call-sessioninfo");
      assert.equal(last.status, 200, JSON.stringify(last));
      assert.equal(last.body.sessionHandle, sessionHandle, "same session after the refresh");

      const seen = await net.since(m);
      const trail = seen.map((e) => `${e.method} ${e.path} ${e.status}`);
      const first = seen.find((e) => e.path === "/sessioninfo");
      assert.equal(first.status, 401, `expired token: ${trail}`);
      assert.equal(first.body.message, "try refresh token");
      const refresh = await net.one(m, "POST", "/auth/session/refresh");
      assert.equal(refresh.status, 200, `refresh: ${trail}`);
      assert.equal(refresh.requestHeaders["rid"], "session");
      assert.equal(refresh.requestHeaders["st-auth-mode"], mode);
      if (mode === "header") {
        assert.match(refresh.requestHeaders["authorization"] || "", /^Bearer \S+$/);
      } else {
        assert.match(refresh.requestHeaders["cookie"] || "", /sRefreshToken=/);
      }
      const front = assertNewTokens(refresh, mode);
      assert.equal(front.up.sessionHandle, sessionHandle);
      assert.ok(front.up.exp > payload.exp, "a new expiry");
      assert.deepEqual(trail.slice(-1), ["GET /sessioninfo 200"], `retried after the refresh: ${trail}`);
      await screenshot(page, `${mode}-07-after-refresh`);
    });

    step("GET /admin without the role: 403 invalid claim, reported by the SDK", async () => {
      expected.push(expectStatus(403, "/admin"));
      const m = net.mark();
      const last = await callFromPage(page, "call-admin");
      assert.equal(last.status, 403);
      assert.equal(last.body.message, "invalid claim");
      assert.equal(last.body.claimValidationErrors[0].id, "st-role", JSON.stringify(last.body));
      const r = await net.one(m, "GET", "/admin");
      assert.equal(r.status, 403);
      assertCORS(r);
      await page.waitForFunction(() => window.demo.events.some((e) => e.action === "API_INVALID_CLAIM"));
      const ev = await page.evaluate(() => window.demo.events.find((e) => e.action === "API_INVALID_CLAIM"));
      assert.equal(ev.claimValidationErrors[0].id, "st-role");
      assert.equal(await page.evaluate(() => window.demo.doesSessionExist()), true, "a 403 keeps the session");
      await screenshot(page, `${mode}-08-admin-403`);
      if (mode === "cookie") await docImage(page, "demo-admin-403");
    });

    step("GET /admin after the user gets the role", async () => {
      const m = net.mark();
      await click(page, "make-admin");
      await page.waitForFunction(() => window.demo.last?.path === "/dev/make-admin");
      await page.waitForSelector('[data-testid="signed-in"]');
      const made = await net.one(m, "POST", "/dev/make-admin");
      assert.equal(made.status, 200, JSON.stringify(made.body));
      // The new role reaches the browser in a new access token at once.
      const front = decodeFrontToken(made.headers["front-token"]);
      assert.ok(front.up["st-role"].v.includes("admin"), JSON.stringify(front.up));
      await page.waitForFunction(() => document.querySelector('[data-testid="roles"]')?.textContent.includes("admin"));

      const last = await callFromPage(page, "call-admin");
      assert.equal(last.status, 200, JSON.stringify(last));
      assert.equal(last.body.userId, userId);
      await screenshot(page, `${mode}-09-admin-ok`);
    });

    step("e-mail verification by following the logged link", async () => {
      const before = await page.evaluate(() => window.demo.getAccessTokenPayload());
      assert.equal(before["st-ev"]?.v, false, `st-ev before: ${JSON.stringify(before["st-ev"])}`);
      const from = logSize();
      const m = net.mark();
      await click(page, "send-verification");
      await page.waitForSelector('[data-testid="verification-sent"].ok');
      const sent = await net.one(m, "POST", "/auth/user/email/verify/token");
      assert.equal(sent.status, 200);
      assert.equal(sent.body.status, "OK");
      const link = await waitForLink(from, "/auth/verify-email");
      const u = new URL(link);
      assert.equal(u.origin, webURL, `the link points at the website: ${link}`);
      assert.ok(u.searchParams.get("token"));

      const m2 = net.mark();
      await page.goto(link);
      await ready(page);
      await page.waitForSelector('[data-testid="verify-result"][data-status]');
      assert.equal(await page.getAttribute('[data-testid="verify-result"]', "data-status"), "OK");
      const verified = await net.one(m2, "POST", "/auth/user/email/verify");
      assert.equal(verified.body.status, "OK");
      await screenshot(page, `${mode}-10-email-verified`);

      await page.goto(`${webURL}/`);
      await ready(page);
      await page.waitForFunction(() => document.querySelector('[data-testid="email-verified"]')?.textContent === "true");
      const after = await page.evaluate(() => window.demo.getAccessTokenPayload());
      assert.equal(after["st-ev"]?.v, true, `st-ev after: ${JSON.stringify(after["st-ev"])}`);
      // A verified user is not offered another verification e-mail.
      assert.equal(await page.isHidden('[data-testid="send-verification"]'), true, "send-verification shown to a verified user");

      // The link works once.
      const again = net.mark();
      await page.goto(link);
      await ready(page);
      await page.waitForSelector('[data-testid="verify-result"][data-status]');
      const reused = await net.one(again, "POST", "/auth/user/email/verify");
      assert.equal(reused.body.status, "EMAIL_VERIFICATION_INVALID_TOKEN_ERROR");
      await page.goto(`${webURL}/`);
      await ready(page);
      await page.waitForSelector('[data-testid="signed-in"]');
    });

    step("sign out", async () => {
      const m = net.mark();
      await click(page, "sign-out");
      await page.waitForSelector('[data-testid="signed-out"]');
      const r = await net.one(m, "POST", "/auth/signout");
      assert.equal(r.status, 200);
      assert.equal(r.body.status, "OK");
      assert.equal(r.headers["front-token"], "remove");
      assertCORS(r);
      const cookies = cookiesByName(r);
      if (mode === "cookie") {
        for (const name of ["sAccessToken", "sRefreshToken"]) {
          const c = cookies[name];
          assert.ok(c, `${name} cleared: ${r.setCookies}`);
          assert.equal(c.value, "");
          assert.ok(new Date(c.attrs.expires).getTime() <= 0 || c.attrs["max-age"] <= 0, `${name} expired`);
        }
        assert.equal(cookies.sRefreshToken.attrs.path, "/auth/session/refresh");
      } else {
        assert.equal(r.headers["st-access-token"], "");
        assert.equal(r.headers["st-refresh-token"], "");
      }
      // The signed-out page shows no answer of the signed-out user.
      assert.equal(await page.isHidden('[data-testid="result"]'), true, "the last result stays after sign-out");
      assert.equal(await page.evaluate(() => window.demo.last), null);
      await screenshot(page, `${mode}-11-signed-out`);

      assert.equal(await page.evaluate(() => window.demo.doesSessionExist()), false);
      expected.push(expectStatus(401, "/sessioninfo"));
      const last = await callFromPage(page, "call-sessioninfo");
      assert.equal(last.status, 401);
      const apiCookies = await context.cookies([`${apiURL}/`, `${apiURL}/auth/session/refresh`]);
      assert.deepEqual(apiCookies.map((c) => c.name).filter((n) => /^s(Access|Refresh)Token$/.test(n)), []);
      const webCookies = (await context.cookies([`${webURL}/`])).map((c) => c.name);
      assert.ok(!webCookies.includes("sFrontToken"), `frontend cookies: ${webCookies}`);
      assert.ok(!webCookies.includes("st-access-token"), `frontend cookies: ${webCookies}`);
    });

    it("no console errors but the expected ones", () => watch.assertClean());
  });
}
