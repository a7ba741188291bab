// supertokens-website on its own (pages/website.js): the session layer under
// every SuperTokens frontend, through its own fetch interceptor, at two
// edges real apps reach (issue 12):
//
//  - an app changes tokenTransferMethod between page loads while the other
//    mode's tokens are still stored: the SDK then sends both (the old
//    header tokens as Authorization in cookie mode, the old cookies in
//    header mode). Signing in, refreshing and calling the API must keep the
//    user signed in; no answer may carry `front-token: remove`, which the
//    SDK reads as "signed out". (supertokens-node clears the other mode's
//    tokens before it writes the new ones: createNewSessionInRequest and
//    refreshSessionInRequest in sessionRequestFunctions.ts.)
//  - the page's own fetches carry their own Authorization header (an API
//    key, another service's JWT) next to a cookie session: the cookie
//    session must be used and no refresh loop start. (supertokens-node
//    ignores a header token that is not one of its access tokens:
//    getSessionFromRequest with its parse check in accessToken.ts.)
import assert from "node:assert/strict";
import { describe } from "node:test";
import { decodeFrontToken, stepper, useBrowser, usePage, webURL } from "./helpers.mjs";

const PASSWORD = "correct-horse-42";

useBrowser();

async function open(page, mode) {
  await page.goto(`${webURL}/st/website.html?mode=${mode}`);
  await page.waitForFunction(() => window.site && window.site.ready === true, null, { timeout: 15_000 });
  assert.equal(await page.evaluate(() => window.site.mode), mode);
  // The SDK's own calls at start (a probing refresh without a session)
  // come before the caller's mark.
  await page.waitForLoadState("networkidle");
}

// bounded runs a page call that must settle within ms (a refresh loop
// would otherwise hang the test until the runner's timeout).
function bounded(page, fn, arg, ms = 20_000) {
  return Promise.race([
    page.evaluate(fn, arg),
    new Promise((_, reject) => setTimeout(() => reject(new Error(`no answer within ${ms} ms (a refresh loop?)`)), ms)),
  ]);
}

// mark waits until every response so far is recorded (the NetLog records
// them asynchronously), then marks: later ones are the caller's.
async function mark(net) {
  await net.settled();
  return net.mark();
}

// noRemoval fails when any API answer since mark told the SDK to drop its
// session.
async function noRemoval(net, mark, what) {
  const removed = (await net.since(mark)).filter((e) => e.headers["front-token"] === "remove");
  assert.deepEqual(removed.map((e) => `${e.method} ${e.path} ${e.status}`), [], `${what}: front-token: remove`);
}

async function signedIn(page, net, mark, userId, what) {
  assert.equal(await page.evaluate(() => window.site.doesSessionExist()), true, `${what}: doesSessionExist`);
  const info = await bounded(page, () => window.site.call("GET", "/sessioninfo"));
  assert.equal(info.status, 200, `${what}: GET /sessioninfo ${JSON.stringify(info)}`);
  assert.equal(info.body.userId, userId, what);
  await noRemoval(net, mark, what);
  return info.body;
}

describe("supertokens-website: tokenTransferMethod switched between page loads, old tokens kept", () => {
  let context;
  let page;
  let net;
  const step = stepper("website-switch", () => page);
  const email = `e2e-switch-${Date.now()}@example.com`;
  let userId;

  usePage({ label: "website switch" }, (p) => ({ context, page, net } = p));

  step("header mode: sign up, the tokens are stored on the website's side", async () => {
    await open(page, "header");
    // Without a session the SDK's first call probes with a refresh (401,
    // front-token: remove): that is before the session, not part of it.
    assert.equal((await bounded(page, () => window.site.call("GET", "/sessioninfo"))).status, 401);
    const m = await mark(net);
    const r = await bounded(page, ([e, p]) => window.site.signUp(e, p), [email, PASSWORD]);
    assert.equal(r.body.status, "OK", JSON.stringify(r));
    userId = r.body.user.id;
    const e = await net.one(m, "POST", "/auth/signup");
    assert.ok(e.headers["st-access-token"], "header-mode tokens");
    assert.match(await page.evaluate(() => window.site.storedCookies()), /st-access-token=/);
    await signedIn(page, net, m, userId, "after header sign-up");
  });

  step("cookie mode with the header tokens still stored: the session goes on", async () => {
    await open(page, "cookie");
    const m = await mark(net);
    await signedIn(page, net, m, userId, "cookie mode, header tokens only");
    const sent = await net.one(m, "GET", "/sessioninfo");
    assert.match(sent.requestHeaders["authorization"] || "", /^Bearer /, "the SDK sends the stored header token");
  });

  step("cookie mode: sign in while the SDK still sends the header token", async () => {
    const m = await mark(net);
    const r = await bounded(page, ([e, p]) => window.site.signIn(e, p), [email, PASSWORD]);
    assert.equal(r.body.status, "OK", JSON.stringify(r));
    const e = await net.one(m, "POST", "/auth/signin");
    assert.match(e.requestHeaders["authorization"] || "", /^Bearer /, "the sign-in carried the old header token");
    assert.notEqual(e.headers["front-token"], "remove", "front-token: remove would drop the session just made");
    // The demo configures account linking, so without the flag a sign-in by
    // the session's own user inside that session completes a factor on it
    // instead of making a second session (supertokens-node's
    // checkAuthTypeAndLinkingStatus: the input user is the session user):
    // the session the header token carries goes on, no cookie session beside it.
    assert.ok(!(e.setCookies || []).join("\n").includes("sAccessToken="), "no second session in cookies");
    await signedIn(page, net, m, userId, "after a sign-in inside the session");
    // With shouldTryLinkingWithSessionUser: false (what auth-react's sign-in
    // screen sends) it is a first factor: a new session, in cookies.
    const m2 = await mark(net);
    const r2 = await bounded(page, ([e, p]) => window.site.signIn(e, p, { shouldTryLinkingWithSessionUser: false }), [email, PASSWORD]);
    assert.equal(r2.body.status, "OK", JSON.stringify(r2));
    const e2 = await net.one(m2, "POST", "/auth/signin");
    assert.notEqual(e2.headers["front-token"], "remove", "front-token: remove would drop the session just made");
    assert.equal(decodeFrontToken(e2.headers["front-token"]).uid, userId);
    assert.ok((e2.setCookies || []).join("\n").includes("sAccessToken="), "cookie-mode tokens set");
    await signedIn(page, net, m2, userId, "after cookie sign-in");
  });

  step("cookie mode: refresh keeps the session", async () => {
    const m = await mark(net);
    assert.equal(await bounded(page, () => window.site.refresh()), true, "attemptRefreshingSession");
    const e = await net.one(m, "POST", "/auth/session/refresh");
    assert.equal(e.status, 200);
    await signedIn(page, net, m, userId, "after cookie refresh");
  });

  step("header mode again with the cookies still set: sign in, refresh, call", async () => {
    await open(page, "header");
    let m = await mark(net);
    await signedIn(page, net, m, userId, "header mode, cookies kept");
    m = await mark(net);
    const r = await bounded(page, ([e, p]) => window.site.signIn(e, p, { shouldTryLinkingWithSessionUser: false }), [email, PASSWORD]);
    assert.equal(r.body.status, "OK", JSON.stringify(r));
    const e = await net.one(m, "POST", "/auth/signin");
    assert.match(e.requestHeaders["cookie"] || "", /sAccessToken=/, "the sign-in carried the old cookie");
    assert.ok(e.headers["st-access-token"], "header-mode tokens");
    assert.notEqual(e.headers["front-token"], "remove", "front-token: remove would drop the session just made");
    await signedIn(page, net, m, userId, "after header sign-in");
    m = await mark(net);
    assert.equal(await bounded(page, () => window.site.refresh()), true, "attemptRefreshingSession");
    await signedIn(page, net, m, userId, "after header refresh");
  });

  step("sign-out ends the session in both stores", async () => {
    const m = await mark(net);
    await bounded(page, () => window.site.signOut());
    const e = await net.one(m, "POST", "/auth/signout");
    assert.equal(e.status, 200);
    assert.equal(await page.evaluate(() => window.site.doesSessionExist()), false);
    await open(page, "cookie");
    assert.equal(await page.evaluate(() => window.site.doesSessionExist()), false, "nothing left in cookie mode either");
    const info = await bounded(page, () => window.site.call("GET", "/sessioninfo"));
    assert.equal(info.status, 401);
  });
});

describe("supertokens-website: the page's own Authorization header next to a cookie session", () => {
  let context;
  let page;
  let net;
  const step = stepper("website-foreign-auth", () => page);
  const email = `e2e-foreign-${Date.now()}@example.com`;
  let userId;

  // Another service's JWT: well-formed, signed with a key ginauth never had.
  const b64 = (o) => Buffer.from(JSON.stringify(o)).toString("base64url");
  const foreignJWT = `${b64({ alg: "HS256", typ: "JWT", kid: "other-service" })}.${b64({ sub: "svc", exp: 4102444800 })}.${Buffer.from("not-a-real-signature").toString("base64url")}`;

  usePage({ label: "website foreign auth" }, (p) => ({ context, page, net } = p));

  step("cookie mode: sign up", async () => {
    await open(page, "cookie");
    const r = await bounded(page, ([e, p]) => window.site.signUp(e, p), [email, PASSWORD]);
    assert.equal(r.body.status, "OK", JSON.stringify(r));
    userId = r.body.user.id;
  });

  for (const [what, value] of [
    ["an API key", "Bearer sk_live_0123456789abcdef"],
    ["another service's JWT", `Bearer ${foreignJWT}`],
    ["a non-bearer scheme", "Basic dXNlcjpwYXNz"],
  ]) {
    step(`GET /sessioninfo with ${what} as Authorization: the cookie session answers`, async () => {
      const m = await mark(net);
      const r = await bounded(page, (auth) => window.site.call("GET", "/sessioninfo", undefined, { Authorization: auth }), value);
      assert.equal(r.status, 200, JSON.stringify(r));
      assert.equal(r.body.userId, userId);
      const calls = await net.since(m);
      assert.deepEqual(calls.map((e) => `${e.method} ${e.path} ${e.status}`), ["GET /sessioninfo 200"], "one call, no refresh");
      assert.equal(calls[0].requestHeaders["authorization"], value, "the page's own header went out unchanged");
      assert.equal(await page.evaluate(() => window.site.doesSessionExist()), true);
    });
  }
});
