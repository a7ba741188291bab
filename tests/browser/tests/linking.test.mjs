// Account linking in chromium (issue 15): sign up with e-mail and password
// on the demo website, verify the address through the logged link, sign
// out, then "Continue with Dev OIDC" where the provider vouches for the
// same address: the provider's sign-in lands in the same user, now with
// two login methods (the demo enables automatic linking with verification
// required). The development provider is switched to this test's address
// (POST /dev/user) and switched back afterwards, so the other tests keep
// their provider account.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import {
  click,
  logSize,
  oidcURL,
  ready,
  screenshot,
  stepper,
  useBrowser,
  usePage,
  waitForLink,
  webURL,
} from "./helpers.mjs";

const PROVIDER = "dev-oidc";
const CALLBACK = `${webURL}/auth/callback/${PROVIDER}`;
const PASSWORD = "correct-horse-42";
const email = `linking-${Date.now()}@example.com`;
let previous; // the provider's address before this test

async function providerUser(address) {
  const res = await fetch(`${oidcURL}/dev/user`, { method: "POST", body: new URLSearchParams({ email: address }) });
  const text = await res.text();
  assert.equal(res.status, 200, text);
  return JSON.parse(text).previous;
}

useBrowser({
  setUp: async () => {
    previous = await providerUser(email);
  },
  tearDown: async () => {
    if (previous) await providerUser(previous);
  },
});

describe("account linking: e-mail sign-up, then the provider on the same verified address", () => {
  let context;
  let page;
  let net;
  let watch;
  let userId;
  const step = stepper("linking", () => page);

  usePage({ label: "linking" }, (p) => ({ context, page, net, watch } = p));

  step("sign up with e-mail and password", async () => {
    await page.goto(`${webURL}/auth`);
    await ready(page);
    await page.fill('[data-testid="email"]', email);
    await page.fill('[data-testid="password"]', PASSWORD);
    const m = net.mark();
    await click(page, "sign-up");
    await page.waitForSelector('[data-testid="signed-in"]', { timeout: 20_000 });
    const r = await net.one(m, "POST", "/auth/signup");
    assert.equal(r.body.status, "OK", JSON.stringify(r.body));
    userId = r.body.user.id;
    assert.equal(r.body.user.loginMethods.length, 1);
    await screenshot(page, "linking-01-signed-up");
  });

  step("verify the address through the logged link", async () => {
    const from = logSize();
    await click(page, "send-verification");
    await page.waitForSelector('[data-testid="verification-sent"].ok');
    const link = await waitForLink(from, "/auth/verify-email");
    const m = net.mark();
    await page.goto(link);
    await ready(page);
    await page.waitForSelector('[data-testid="verify-result"][data-status]');
    assert.equal(await page.getAttribute('[data-testid="verify-result"]', "data-status"), "OK");
    const v = await net.one(m, "POST", "/auth/user/email/verify");
    assert.equal(v.body.status, "OK", JSON.stringify(v.body));
    await page.goto(`${webURL}/`);
    await ready(page);
    await click(page, "sign-out");
    await page.waitForSelector('[data-testid="signed-out"]');
  });

  step("Continue with Dev OIDC on the same address: the same user, two login methods", async () => {
    await page.goto(`${webURL}/auth`);
    await ready(page);
    const m = net.mark();
    await click(page, `tp-${PROVIDER}`);
    await page.waitForURL((u) => u.href.startsWith(CALLBACK), { timeout: 20_000 });
    await page.waitForSelector('[data-testid="signed-in"]', { timeout: 20_000 });
    await ready(page);
    const r = await net.one(m, "POST", "/auth/signinup");
    assert.equal(r.body.status, "OK", JSON.stringify(r.body));
    assert.equal(r.body.createdNewRecipeUser, true, "the provider account is new");
    const user = r.body.user;
    assert.equal(user.id, userId, "landed in the e-mail account");
    assert.equal(user.isPrimaryUser, true);
    assert.deepEqual(user.loginMethods.map((l) => l.recipeId).sort(), ["emailpassword", "thirdparty"]);
    const tp = user.loginMethods.find((l) => l.recipeId === "thirdparty");
    assert.notEqual(tp.recipeUserId, userId, "the provider's login method keeps its own recipe user");
    assert.equal(tp.verified, true);
    assert.equal(await page.textContent('[data-testid="user-id"]'), userId);
    await page.waitForFunction(() => document.querySelector('[data-testid="login-methods"]')?.dataset.recipes);
    const recipes = await page.getAttribute('[data-testid="login-methods"]', "data-recipes");
    assert.deepEqual(recipes.split(/[ ,]+/).sort(), ["emailpassword", "thirdparty"], recipes);
    // The session is the primary user's, made through the provider's login.
    const payload = await page.evaluate(() => window.demo.getAccessTokenPayload());
    assert.equal(payload.sub, userId);
    assert.equal(payload.rsub, tp.recipeUserId);
    await screenshot(page, "linking-02-same-user");
  });

  it("no console errors", () => watch.assertClean());
});
