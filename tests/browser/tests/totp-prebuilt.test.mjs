// supertokens-auth-react's TOTP set-up screen (MFATOTP, pages/totp.jsx)
// mounted twelve times by page loads, then completed with a code computed
// here. Each mount calls POST /auth/totp/device without a deviceName; the
// SuperTokens core names the default device from the number of verified
// devices and replaces an unverified device of that name, so the screen
// works however often it is shown (issue 12). One verified device remains.
import assert from "node:assert/strict";
import { describe } from "node:test";
import { screenshot, stepper, totpCode, totpStep, useBrowser, usePage, webURL } from "./helpers.mjs";

const PASSWORD = "correct-horse-42";
const LOADS = 12;

useBrowser();

describe("auth-react TOTP set-up screen: loaded twelve times, then completed", () => {
  let context;
  let page;
  let net;
  const step = stepper("totp-prebuilt", () => page);
  const email = `e2e-totp-prebuilt-${Date.now()}@example.com`;
  let created = [];

  usePage({ label: "totp prebuilt" }, (p) => ({ context, page, net } = p));

  step("sign up (cookie mode) through auth-react's EmailPassword", async () => {
    await page.goto(`${webURL}/st/totp.html`);
    await page.waitForFunction(() => window.stx && window.stx.ready === true, null, { timeout: 15_000 });
    const r = await page.evaluate(([e, p]) => window.stx.signUp(e, p), [email, PASSWORD]);
    assert.equal(r.status, "OK", JSON.stringify(r));
    assert.equal(await page.evaluate(() => window.stx.doesSessionExist()), true);
  });

  step(`the set-up screen mounts ${LOADS} times, each showing a new secret`, async () => {
    for (let i = 1; i <= LOADS; i++) {
      await net.settled();
      const m = net.mark();
      // setup=true: the set-up screen, as auth-react links to it (without it
      // the screen sends a user with nothing left to do on to the app).
      const answered = page.waitForResponse(
        (res) => res.request().method() === "POST" && new URL(res.url()).pathname === "/auth/totp/device",
        { timeout: 20_000 },
      );
      await page.goto(`${webURL}/st/totp.html?mount=1&setup=true`);
      await answered;
      const r = await net.one(m, "POST", "/auth/totp/device");
      assert.equal(r.status, 200, `load ${i}: ${r.status} ${JSON.stringify(r.body)}`);
      assert.equal(r.body.status, "OK", `load ${i}: ${JSON.stringify(r.body)}`);
      // The screen shows the code input once createDevice answered.
      await page.waitForSelector('input[name="totp"]', { timeout: 20_000 });
      assert.equal(r.requestHeaders["rid"], "totp");
      created.push(r.body);
    }
    const names = new Set(created.map((c) => c.deviceName));
    assert.equal(names.size, 1, `one default device name, replaced each time: ${[...names]}`);
    assert.equal(new Set(created.map((c) => c.secret)).size, LOADS, "a new secret each time");
    await screenshot(page, "totp-prebuilt-01-setup");
  });

  step("the code of the last secret completes the set-up", async () => {
    const secret = created[created.length - 1].secret;
    await page.fill('input[name="totp"]', totpCode(secret, totpStep()));
    await net.settled();
    const m = net.mark();
    await page.click('button[type="submit"]');
    let verified;
    for (let t = 0; t < 100 && !verified; t++) {
      verified = (await net.since(m, "POST", "/auth/totp/device/verify"))[0];
      if (!verified) await new Promise((r) => setTimeout(r, 100));
    }
    assert.ok(verified, "POST /auth/totp/device/verify was sent");
    assert.equal(verified.body.status, "OK", JSON.stringify(verified.body));
    assert.equal(verified.body.wasAlreadyVerified, false);

    // auth-react is done with the screen: it sends the user on to the app.
    await page.waitForURL((u) => u.pathname === "/", { timeout: 15_000 });
    await screenshot(page, "totp-prebuilt-02-done");

    // The device list, asked from the plain supertokens-website page (auth-react
    // navigates away after the set-up).
    await page.goto(`${webURL}/st/website.html?mode=cookie`);
    await page.waitForFunction(() => window.site && window.site.ready === true, null, { timeout: 15_000 });
    const r = await page.evaluate(() => window.site.call("GET", "/auth/totp/device/list", undefined, { rid: "totp" }));
    assert.equal(r.status, 200, JSON.stringify(r));
    const list = r.body;
    assert.equal(list.status, "OK", JSON.stringify(list));
    assert.deepEqual(list.devices.map((d) => [d.name, d.verified]), [[created[0].deviceName, true]],
      "exactly one device, verified");
  });
});
