// Passkeys in chromium: the demo website's supertokens-web-js WebAuthn
// recipe against the API's webauthn recipe, with Chromium's virtual
// authenticator (DevTools protocol WebAuthn domain: CTAP2, internal,
// resident keys, user verification) standing in for a platform
// authenticator. Register, sign out, sign in with the passkey.
import assert from "node:assert/strict";
import { describe, it } from "node:test";
import { click, ready, screenshot, useBrowser, usePage, virtualAuthenticator, webURL } from "./helpers.mjs";

useBrowser();

describe("passkeys", () => {
  let context;
  let page;
  let net;
  let cdp;
  let authenticatorId;
  const email = `passkey-${Date.now()}@example.com`;

  usePage({ label: "passkeys", expected: [/status of 401\b.*\/auth\/session\/refresh$/] }, async (p) => {
    ({ context, page, net } = p);
    ({ cdp, authenticatorId } = await virtualAuthenticator(context, page));
  });

  it("signs up with a passkey, signs out, and signs in with it", async () => {
    await page.goto(`${webURL}/auth`);
    await ready(page);
    await page.fill('[data-testid="email"]', email);
    let m = net.mark();
    await click(page, "passkey-sign-up");
    await page.waitForSelector('[data-testid="signed-in"]', { timeout: 20_000 });
    const signup = await net.since(m, "POST", "/auth/webauthn/signup");
    assert.equal(signup.length, 1, "one sign-up request");
    assert.equal(signup[0].status, 200);
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    assert.equal(credentials.length, 1, "the authenticator holds one passkey");
    assert.equal(credentials[0].isResidentCredential, true);
    const userId = await page.textContent('[data-testid="user-id"]');
    await screenshot(page, "passkeys-01-signed-up");

    await click(page, "sign-out");
    await page.waitForSelector('[data-testid="signed-out"]', { timeout: 20_000 });

    await page.goto(`${webURL}/auth`);
    await ready(page);
    m = net.mark();
    await click(page, "passkey-sign-in");
    await page.waitForSelector('[data-testid="signed-in"]', { timeout: 20_000 });
    const signin = await net.since(m, "POST", "/auth/webauthn/signin");
    assert.equal(signin.length, 1, "one sign-in request");
    assert.equal(signin[0].status, 200);
    assert.equal(await page.textContent('[data-testid="user-id"]'), userId, "signed in to the same account");
    const after = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    assert.ok(after.credentials[0].signCount >= 1, "the passkey's counter went up");
    await screenshot(page, "passkeys-02-signed-in");
  });
});
