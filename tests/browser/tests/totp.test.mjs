// Two-factor auth in chromium, through the SDK's TOTP and MultiFactorAuth
// recipes: a user signs up, sets up TOTP on the home page ("Set up 2FA":
// createDevice, then verifyDevice with a code computed here from the
// secret), signs out and in again, and is asked for a code: until it is
// entered, the API answers 403 invalid claim st-mfa; a wrong code shows
// INVALID_TOTP_ERROR; the right one upgrades the same session. Users without
// TOTP are not affected (the other tests). Once per token transfer mode.
//
// Codes are single-use (the server remembers the last time step used), so
// the sign-in code is computed for a later step than the set-up code: the
// next step is within the server's one-step skew, so no test waits for the
// clock.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { describe, it } from "node:test";
import {
  callFromPage,
  click,
  decodeFrontToken,
  docImage,
  expectStatus,
  ready,
  screenshot,
  stepper,
  totpCode,
  totpStep,
  useBrowser,
  usePage,
  webURL,
} from "./helpers.mjs";

const PASSWORD = "correct-horse-42";
const jsQRSource = readFileSync(createRequire(import.meta.url).resolve("jsqr"), "utf8");

// decodeQR reads the QR code in the image at selector, in the page: the
// image is drawn on a canvas and its pixels given to jsQR.
async function decodeQR(page, selector) {
  await page.addScriptTag({ content: jsQRSource });
  return page.$eval(selector, (img) => {
    const c = document.createElement("canvas");
    c.width = img.naturalWidth;
    c.height = img.naturalHeight;
    const ctx = c.getContext("2d");
    ctx.drawImage(img, 0, 0);
    const found = window.jsQR(ctx.getImageData(0, 0, c.width, c.height).data, c.width, c.height);
    return found ? found.data : null;
  });
}

useBrowser();

for (const mode of ["cookie", "header"]) {
  describe(`TOTP two-factor auth, ${mode} mode`, () => {
    let context;
    let page;
    let net;
    let watch;
    const expected = []; // console errors a step provokes on purpose
    const step = stepper(`${mode}-totp`, () => page);
    const email = `e2e-totp-${mode}-${Date.now()}@example.com`;
    let userId;
    let secret;
    let deviceName;
    let usedStep; // the last time step whose code the server accepted
    let sessionHandle;

    usePage({ label: `${mode} totp`, expected }, (p) => ({ context, page, net, watch } = p));

    async function signInWithPassword(button) {
      await page.goto(`${webURL}/auth?mode=${mode}`);
      await ready(page);
      await page.fill('[data-testid="email"]', email);
      await page.fill('[data-testid="password"]', PASSWORD);
      const m = net.mark();
      await click(page, button);
      await page.waitForSelector('[data-testid="signed-in"]', { timeout: 20_000 });
      await ready(page);
      return m;
    }

    step("sign up: 2FA is off, no code asked", async () => {
      const m = await signInWithPassword("sign-up");
      const r = await net.one(m, "POST", "/auth/signup");
      assert.equal(r.body.status, "OK");
      userId = r.body.user.id;
      const front = decodeFrontToken(r.headers["front-token"]);
      assert.deepEqual(front.up["st-mfa"]?.v, true, `no requirement without TOTP: ${JSON.stringify(front.up["st-mfa"])}`);
      await page.waitForSelector('[data-testid="totp-status"][data-on="false"]');
      assert.equal(await page.$('[data-testid="mfa-required"]'), null);
    });

    step("set up 2FA: createDevice shows a QR code and the secret, verifyDevice turns it on", async () => {
      let m = net.mark();
      await click(page, "totp-setup");
      await page.waitForSelector('[data-testid="totp-secret"]');
      const created = await net.one(m, "POST", "/auth/totp/device");
      assert.equal(created.body.status, "OK", JSON.stringify(created.body));
      assert.equal(created.requestHeaders["rid"], "totp");
      secret = await page.textContent('[data-testid="totp-secret"]');
      deviceName = await page.textContent('[data-testid="totp-device"]');
      assert.match(secret, /^[A-Z2-7]{16,}=*$/, "a base32 secret");
      assert.equal(secret, created.body.secret);
      assert.equal(deviceName, created.body.deviceName);
      const uri = await page.textContent('[data-testid="totp-qr"]');
      assert.equal(uri, created.body.qrCodeString);
      // The QR code is a real image of the otpauth:// URI: decoded here
      // with jsQR (an independent reader) from the image's pixels.
      assert.equal(await decodeQR(page, '[data-testid="totp-qr-image"]'), uri);
      const qr = new URL(uri);
      assert.equal(qr.protocol, "otpauth:");
      assert.equal(qr.searchParams.get("secret"), secret);
      assert.match(decodeURIComponent(qr.pathname), new RegExp(email.replace(/[.+]/g, "\\$&")));
      await screenshot(page, `${mode}-totp-01-setup`);
      if (mode === "cookie") await docImage(page, "demo-2fa-setup");

      usedStep = totpStep();
      await page.fill('[data-testid="totp-setup-code"]', totpCode(secret, usedStep));
      m = net.mark();
      await click(page, "totp-setup-verify");
      await page.waitForSelector('[data-testid="totp-status"][data-on="true"]');
      await page.waitForSelector('[data-testid="totp-setup-result"].ok');
      const verified = await net.one(m, "POST", "/auth/totp/device/verify");
      assert.equal(verified.body.status, "OK", JSON.stringify(verified.body));
      assert.equal(verified.body.wasAlreadyVerified, false);
      // The factor is completed in the current session at once.
      const front = decodeFrontToken(verified.headers["front-token"]);
      assert.ok(front.up["st-mfa"].c.totp, JSON.stringify(front.up["st-mfa"]));
      await screenshot(page, `${mode}-totp-02-enabled`);
    });

    step("sign in again: the API wants the code (403 invalid claim st-mfa)", async () => {
      await click(page, "sign-out");
      await page.waitForSelector('[data-testid="signed-out"]');
      const m = await signInWithPassword("sign-in");
      const r = await net.one(m, "POST", "/auth/signin");
      assert.equal(r.body.status, "OK");
      const front = decodeFrontToken(r.headers["front-token"]);
      sessionHandle = front.up.sessionHandle;
      assert.equal(front.up["st-mfa"].v, false, JSON.stringify(front.up["st-mfa"]));
      assert.deepEqual(Object.keys(front.up["st-mfa"].c), ["emailpassword"]);

      // The home page asked MultiFactorAuth what comes next.
      await page.waitForSelector('[data-testid="mfa-required"] [data-testid="totp-code"]');
      const info = await net.one(m, "PUT", "/auth/mfa/info");
      assert.equal(info.body.status, "OK");
      assert.deepEqual(info.body.factors.next, ["totp"], JSON.stringify(info.body));
      assert.ok(info.body.factors.alreadySetup.includes("totp"));

      expected.push(expectStatus(403, "/sessioninfo"));
      const last = await callFromPage(page, "call-sessioninfo");
      assert.equal(last.status, 403, JSON.stringify(last));
      assert.equal(last.body.message, "invalid claim");
      assert.equal(last.body.claimValidationErrors[0].id, "st-mfa", JSON.stringify(last.body));
      await page.waitForFunction(() => window.demo.events.some((e) => e.action === "API_INVALID_CLAIM"));
      assert.equal(await page.evaluate(() => window.demo.doesSessionExist()), true, "the session stays");
      await screenshot(page, `${mode}-totp-03-code-required`);
    });

    step("a wrong code: INVALID_TOTP_ERROR", async () => {
      // A code no step near now has (codes of steps usedStep-2 ... +4 excluded).
      const near = new Set();
      for (let s = usedStep - 2; s <= usedStep + 4; s++) near.add(totpCode(secret, s));
      let wrong = 0;
      while (near.has(String(wrong).padStart(6, "0"))) wrong++;
      await page.fill('[data-testid="totp-code"]', String(wrong).padStart(6, "0"));
      const m = net.mark();
      await click(page, "totp-verify");
      await page.waitForSelector('[data-testid="mfa-result"][data-status]');
      assert.equal(await page.getAttribute('[data-testid="mfa-result"]', "data-status"), "INVALID_TOTP_ERROR");
      assert.match(await page.textContent('[data-testid="mfa-result"]'), /INVALID_TOTP_ERROR/);
      const r = await net.one(m, "POST", "/auth/totp/verify");
      assert.equal(r.body.status, "INVALID_TOTP_ERROR", JSON.stringify(r.body));
      assert.equal(r.body.currentNumberOfFailedAttempts, 1);
      assert.equal(r.body.maxNumberOfFailedAttempts, 5);
      assert.equal(r.headers["front-token"], undefined, "no new token for a wrong code");
      await screenshot(page, `${mode}-totp-04-wrong-code`);
    });

    step("the right code: the same session passes MFA, /sessioninfo works", async () => {
      // A step after the one used at set-up (codes are single-use), and
      // within the server's one-step skew of its clock.
      const s = Math.max(usedStep + 1, totpStep());
      await page.fill('[data-testid="totp-code"]', totpCode(secret, s));
      const m = net.mark();
      await click(page, "totp-verify");
      await page.waitForSelector('[data-testid="totp-status"][data-on="true"]', { timeout: 20_000 });
      assert.equal(await page.$('[data-testid="mfa-required"]'), null);
      const r = await net.one(m, "POST", "/auth/totp/verify");
      assert.equal(r.body.status, "OK", JSON.stringify(r.body));
      usedStep = s;
      const front = decodeFrontToken(r.headers["front-token"]);
      assert.equal(front.up.sessionHandle, sessionHandle, "upgraded in place, no new sign-in");
      assert.equal(front.up["st-mfa"].v, true, JSON.stringify(front.up["st-mfa"]));
      assert.ok(front.up["st-mfa"].c.totp);

      const last = await callFromPage(page, "call-sessioninfo");
      assert.equal(last.status, 200, JSON.stringify(last));
      assert.equal(last.body.userId, userId);
      assert.equal(last.body.accessTokenPayload["st-mfa"].v, true);
      await screenshot(page, `${mode}-totp-05-verified`);
    });

    it("no console errors but the expected ones", () => watch.assertClean());
  });
}
