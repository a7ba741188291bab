// Passkeys through SuperTokens' PRE-BUILT screens (supertokens-auth-react
// 0.51's webauthn recipe UI, unmodified, in example/prebuilt) against the
// API's webauthn recipe, with Chromium's virtual authenticator (DevTools
// protocol WebAuthn domain) standing in for a platform authenticator: sign
// up with a passkey, sign out, sign in with it — real clicks and typing,
// and the wire checked at each step.
import assert from "node:assert/strict";
import { describe } from "node:test";
import { screenshot, stepper, useBrowser, usePage, virtualAuthenticator } from "./helpers.mjs";

const [siteURL, siteAPI] = ["E2E_PREBUILT_URL", "E2E_PREBUILT_API_URL"].map((name) => {
  if (!process.env[name]) throw new Error(`${name} is not set: run the browser tests with \`npm test\` (run.mjs)`);
  return process.env[name];
});

useBrowser();

describe("pre-built UI (auth-react): passkeys", () => {
  let context;
  let page;
  let net;
  let cdp;
  let authenticatorId;
  let userId;
  const email = `passkey-prebuilt-${Date.now()}@example.com`;
  const step = stepper("passkeys-prebuilt", () => page);
  const passkeyButton = () => page.getByRole("button", { name: /continue with passkey/i });

  usePage({ label: "passkeys prebuilt", api: siteAPI }, async (p) => {
    ({ context, page, net } = p);
    ({ cdp, authenticatorId } = await virtualAuthenticator(context, page));
  });

  step("sign up with a passkey on the pre-built sign-up screen", async () => {
    await page.goto(`${siteURL}/auth?show=signup`);
    await passkeyButton().click();
    await page.fill('input[name="email"]', email);
    await screenshot(page, "passkeys-prebuilt-01-email");
    const m = net.mark();
    await page.getByRole("button", { name: /^continue$/i }).click();
    // The "Create a passkey" screen: its button runs navigator.credentials.create.
    await page.getByText(/create a passkey/i).first().waitFor({ timeout: 15_000 });
    await screenshot(page, "passkeys-prebuilt-02-create");
    await page.getByRole("button", { name: /^continue$/i }).click();
    const r = await net.waitFor(m, "POST", "/auth/webauthn/signup");
    assert.equal(r.status, 200);
    assert.equal(r.body.status, "OK", JSON.stringify(r.body));
    assert.ok(r.body.user.emails.includes(email));
    userId = r.body.user.id;
    // REQUIRED e-mail verification on this website: a new user lands on it.
    await page.waitForURL((u) => u.pathname === "/auth/verify-email", { timeout: 20_000 });
    const { credentials } = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    assert.equal(credentials.length, 1, "the authenticator holds one passkey");
    assert.equal(credentials[0].isResidentCredential, true);
    await screenshot(page, "passkeys-prebuilt-03-signed-up");
  });

  step("sign out from the verify-email screen", async () => {
    const m = net.mark();
    await page.getByText(/logout/i).first().click();
    // (Its body may be gone: the page navigates as the answer lands.)
    assert.equal((await net.waitFor(m, "POST", "/auth/signout")).status, 200);
    // Back on the sign-in screen, which offers the passkey.
    await passkeyButton().waitFor({ timeout: 20_000 });
    assert.match(new URL(page.url()).pathname, /^\/auth\/?$/);
  });

  step("sign in with the passkey on the pre-built sign-in screen", async () => {
    await page.goto(`${siteURL}/auth`);
    const m = net.mark();
    await passkeyButton().click();
    const r = await net.waitFor(m, "POST", "/auth/webauthn/signin");
    assert.equal(r.status, 200);
    assert.equal(r.body.status, "OK", JSON.stringify(r.body));
    assert.equal(r.body.user.id, userId, "signed in to the account the passkey signed up");
    await page.waitForURL((u) => u.pathname === "/auth/verify-email", { timeout: 20_000 });
    const after = await cdp.send("WebAuthn.getCredentials", { authenticatorId });
    assert.ok(after.credentials[0].signCount >= 1, "the passkey's counter went up");
    await screenshot(page, "passkeys-prebuilt-04-signed-in");
  });
});
