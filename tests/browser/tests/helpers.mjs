// Shared helpers for the browser tests. run.mjs starts the servers and
// passes their addresses in E2E_* variables.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, it } from "node:test";
import { chromium } from "playwright-core";

export const apiURL = must("E2E_API_URL");
export const webURL = must("E2E_WEB_URL");
export const apiLog = must("E2E_API_LOG");
export const artifacts = must("E2E_ARTIFACTS");
export const oidcURL = must("E2E_OIDC_URL");
const repoRoot = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "..");

function must(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the browser tests with \`npm test\` (run.mjs)`);
  return v;
}

// launchBrowser starts Debian's chromium (never a downloaded one). Every
// launch gets a fresh temporary profile (user-data-dir) from playwright.
function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-quic",
      "--no-first-run",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--disable-dev-shm-usage",
    ],
  });
}

let fileBrowser; // the browser useBrowser launched for this test file

// useBrowser is every test file's preamble: chromium (launchBrowser) is
// launched before the file's tests and closed after them. setUp runs right
// after the launch, with the browser; tearDown right before the close. It
// returns a function giving the browser (once the launch has run).
export function useBrowser({ setUp, tearDown } = {}) {
  before(async () => {
    fileBrowser = await launchBrowser();
    await setUp?.(fileBrowser);
  });
  after(async () => {
    try {
      await tearDown?.();
    } finally {
      await fileBrowser?.close();
    }
  });
  return () => fileBrowser;
}

// usePage gives the enclosing describe a fresh context and page of the
// file's browser (newPage with opts: label, expected, viewport, api) before
// its tests, and hands {context, page, net, watch} to onOpen, which may
// set the page up further. After the tests it leaves the page and lets the
// NetLog finish recording, so that no response is still being read when
// the context closes.
export function usePage(opts, onOpen) {
  let opened;
  before(async () => {
    opened = await newPage(fileBrowser, opts.label, opts.expected, opts);
    await onOpen(opened);
  });
  after(async () => {
    if (!opened) return;
    await opened.page.goto("about:blank").catch(() => {});
    await opened.net.settled();
    await opened.context.close();
  });
}

// NetLog records every response from the API (base, default the main
// demo API), with all its headers (Set-Cookie included) and its body, for
// assertions on the wire.
export class NetLog {
  constructor(page, base = apiURL) {
    this.entries = [];
    this.pending = new Set();
    page.on("response", (res) => {
      if (!res.url().startsWith(base)) return;
      const p = (async () => {
        const req = res.request();
        // The body first: it is gone once the page navigates.
        let body;
        if (req.method() !== "OPTIONS") {
          try {
            const text = await res.text();
            try {
              body = JSON.parse(text);
            } catch {
              body = text;
            }
          } catch {
            /* body gone (navigation) */
          }
        }
        let headers, setCookies, requestHeaders;
        try {
          headers = await res.allHeaders();
          setCookies = await res.headerValues("set-cookie");
          requestHeaders = await req.allHeaders();
        } catch (e) {
          // A response still arriving while its page or browser closes
          // (a page's background call after the file's last test) has
          // nothing left to read and nothing waits for it; anything else
          // is a real failure of the log.
          if (/has been closed/.test(String(e?.message))) return;
          throw e;
        }
        const entry = {
          method: req.method(),
          path: new URL(res.url()).pathname,
          url: res.url(),
          status: res.status(),
          headers,
          setCookies,
          requestHeaders,
          body,
          at: Date.now(),
        };
        this.entries.push(entry);
      })();
      this.pending.add(p);
      p.finally(() => this.pending.delete(p));
    });
  }

  // settled waits until every response seen so far has been recorded.
  async settled() {
    while (this.pending.size) await Promise.allSettled([...this.pending]);
  }

  mark() {
    return this.entries.length;
  }

  // since returns the non-preflight API responses after mark, optionally
  // only those for method and path.
  async since(mark, method, path) {
    await this.settled();
    return this.entries
      .slice(mark)
      .filter((e) => e.method !== "OPTIONS" && (!method || e.method === method) && (!path || e.path === path));
  }

  // waitFor returns the first API response for method and path after
  // mark, waiting up to timeoutMs for it (a request the page sends on its
  // own, after a click). A 401 is passed over: with the demo's 3-second
  // access tokens a slow step meets an expired one, and the SDK refreshes
  // the session and sends the request again.
  async waitFor(mark, method, path, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const [r] = (await this.since(mark, method, path)).filter((e) => e.status !== 401);
      if (r) return r;
      if (Date.now() > deadline) {
        throw new Error(`no ${method} ${path}: ${JSON.stringify((await this.since(mark)).map((e) => `${e.method} ${e.path} ${e.status}`))}`);
      }
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async one(mark, method, path) {
    const list = await this.since(mark, method, path);
    assert.equal(list.length, 1, `want exactly one ${method} ${path} since the mark, got ${list.length}: ` +
      JSON.stringify((await this.since(mark)).map((e) => `${e.method} ${e.path} ${e.status}`)));
    return list[0];
  }
}

// parseSetCookie turns one Set-Cookie value into {name, value, attrs}.
export function parseSetCookie(line) {
  const [pair, ...rest] = line.split(";").map((s) => s.trim());
  const eq = pair.indexOf("=");
  const attrs = {};
  for (const a of rest) {
    const i = a.indexOf("=");
    if (i < 0) attrs[a.toLowerCase()] = true;
    else attrs[a.slice(0, i).toLowerCase()] = a.slice(i + 1);
  }
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attrs };
}

export function cookiesByName(entry) {
  const out = {};
  for (const line of entry.setCookies) {
    for (const l of line.split("\n")) {
      if (!l.trim()) continue;
      const c = parseSetCookie(l);
      out[c.name] = c;
    }
  }
  return out;
}

export function exposed(entry) {
  return (entry.headers["access-control-expose-headers"] || "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
}

// decodeFrontToken decodes the front-token header as the SDK does.
export function decodeFrontToken(v) {
  return JSON.parse(Buffer.from(v, "base64").toString("utf8"));
}

// readLinks returns the links with the given path found in the API's log
// (log, default the main demo API's) after byte offset `from`.
export function readLinks(from, path, log = apiLog) {
  const text = readFileSync(log, "utf8").slice(from).replace(/\\u0026/g, "&");
  const re = new RegExp(`https?://[^\\s"'<>\\\\]+${path.replace(/[/.?]/g, "\\$&")}\\?[^\\s"'<>\\\\]+`, "g");
  return text.match(re) || [];
}

export function logSize(log = apiLog) {
  return readFileSync(log).length;
}

export async function waitForLink(from, path, timeoutMs = 10_000, log = apiLog) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const links = readLinks(from, path, log);
    if (links.length) return links[links.length - 1];
    if (Date.now() > deadline) throw new Error(`no ${path} link in the API log within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

// docImage saves the screenshots the docs show (docs/images/<name>.png)
// when E2E_DOC_IMAGES=1, so that they follow the website.
export async function docImage(page, name) {
  if (process.env.E2E_DOC_IMAGES !== "1") return;
  await page.screenshot({ path: join(repoRoot, "docs", "images", `${name}.png`), fullPage: true });
}

export async function ready(page) {
  await page.waitForFunction(() => window.demo && window.demo.ready === true, null, { timeout: 15_000 });
}

export async function click(page, testid) {
  await page.click(`[data-testid="${testid}"]`);
}

// callFromPage clicks an API button and waits for the page to show its
// result.
export async function callFromPage(page, testid) {
  const n = await page.evaluate(() => window.demo.calls);
  await click(page, testid);
  await page.waitForFunction((n) => window.demo.calls > n, n, { timeout: 20_000 });
  return page.evaluate(() => window.demo.last);
}

// stepper returns an `it` for steps that build on each other: after one
// fails, the rest are skipped rather than failing on timeouts, and a
// screenshot of the page is saved as <name>-FAILED.png.
export function stepper(name, getPage) {
  let broken = "";
  return (title, fn) =>
    it(title, async (t) => {
      if (broken) {
        t.skip(`after the failure of: ${broken}`);
        return;
      }
      try {
        await fn(t);
      } catch (err) {
        broken = title;
        const page = getPage();
        if (page) await screenshot(page, `${name}-FAILED`).catch(() => {});
        throw err;
      }
    });
}

// ConsoleWatch records the page's console errors and uncaught exceptions;
// assertClean (in each suite's last test) fails on any of them except the
// SDK's own probe: a fresh page asks POST /auth/session/refresh whether a
// session exists, and the browser logs the 401 it gets. Anything else a
// step provokes on purpose (a 403 invalid claim, a 401 after sign-out) is
// pushed to `expected` by that step, as a regexp matched against
// "<message> @ <url>".
export class ConsoleWatch {
  constructor(page, label, expected = []) {
    this.label = label;
    this.expected = expected;
    this.errors = [];
    page.on("pageerror", (err) => this.#record(`page error: ${err.message}`));
    page.on("console", (msg) => {
      if (msg.type() === "error") this.#record(`${msg.text()} @ ${msg.location()?.url || ""}`);
    });
  }

  #record(line) {
    if (isSDKProbe(line) || this.expected.some((re) => re.test(line))) return;
    console.log(`[${this.label}] console: ${line}`);
    this.errors.push(line);
  }

  assertClean() {
    assert.deepEqual(this.errors, [], `[${this.label}] unexpected console errors`);
  }
}

// virtualAuthenticator gives the page Chromium's virtual authenticator
// (DevTools protocol WebAuthn domain) in place of a platform
// authenticator: CTAP2, internal, resident keys, user verification, with
// presence answered automatically. It returns the CDP session (for
// WebAuthn.getCredentials and the like) and the authenticator's id.
export async function virtualAuthenticator(context, page) {
  const cdp = await context.newCDPSession(page);
  await cdp.send("WebAuthn.enable");
  const { authenticatorId } = await cdp.send("WebAuthn.addVirtualAuthenticator", {
    options: {
      protocol: "ctap2",
      transport: "internal",
      hasResidentKey: true,
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

// isSDKProbe: the browser's log line for a 401 from the session refresh
// endpoint (of either demo API), which the SDK calls to learn that there
// is no session.
export function isSDKProbe(line) {
  return /^Failed to load resource: the server responded with a status of 401\b.* @ https?:\/\/[^/]+\/auth\/session\/refresh$/
    .test(line);
}

// expectStatus is a regexp for `expected`: the browser's log line for a
// `status` answer from `path` (the app's own routes, e.g. /admin).
export function expectStatus(status, path) {
  const p = path.replace(/[/.?]/g, "\\$&");
  return new RegExp(`^Failed to load resource: the server responded with a status of ${status}\\b.* @ https?://[^/]+${p}$`);
}

// newPage opens a fresh browser context (its own cookies and storage) with
// a NetLog and a ConsoleWatch (console errors matching a regexp in
// `expected`, which the test may add to later, are allowed), at viewport
// (default 1100×800), the NetLog recording the answers of api (default
// the main demo API).
export async function newPage(browser, label, expected = [], { viewport = { width: 1100, height: 800 }, api = apiURL } = {}) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  page.setDefaultTimeout(10_000);
  const watch = new ConsoleWatch(page, label, expected);
  return { context, page, net: new NetLog(page, api), watch };
}

// base32Decode decodes RFC 4648 base32 (the TOTP secret's encoding).
export function base32Decode(s) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = 0;
  let value = 0;
  const out = [];
  for (const ch of s.replace(/[=\s]/g, "").toUpperCase()) {
    const i = alphabet.indexOf(ch);
    if (i < 0) throw new Error(`not base32: ${ch}`);
    value = (value << 5) | i;
    bits += 5;
    if (bits >= 8) {
      out.push((value >>> (bits - 8)) & 0xff);
      bits -= 8;
    }
  }
  return Buffer.from(out);
}

// totpStep is the RFC 6238 time step (30 s) of a time in ms.
export function totpStep(ms = Date.now()) {
  return Math.floor(ms / 1000 / 30);
}

// totpCode is the RFC 6238 code (HMAC-SHA1, 6 digits) of a base32 secret
// for one time step, computed here independently of the server.
export function totpCode(secret, step, digits = 6) {
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(step));
  const mac = createHmac("sha1", base32Decode(secret)).update(counter).digest();
  const off = mac[mac.length - 1] & 0x0f;
  const bin = ((mac[off] & 0x7f) << 24) | (mac[off + 1] << 16) | (mac[off + 2] << 8) | mac[off + 3];
  return String(bin % 10 ** digits).padStart(digits, "0");
}

// CORS: the API answers the website's origin (default the main demo
// website's), with credentials, and lets the SDK read front-token.
export function assertCORS(entry, origin = webURL) {
  assert.equal(entry.headers["access-control-allow-origin"], origin, `${entry.path}: Access-Control-Allow-Origin`);
  assert.equal(entry.headers["access-control-allow-credentials"], "true", `${entry.path}: Allow-Credentials`);
  assert.ok(exposed(entry).includes("front-token"), `${entry.path}: front-token not exposed: ${exposed(entry)}`);
}

// assertNewTokens checks the headers a response creating or refreshing a
// session must carry in the given mode, and returns the decoded front-token.
// origin is the website's (default the main demo website's).
export function assertNewTokens(entry, mode, origin = webURL) {
  assertCORS(entry, origin);
  const ft = entry.headers["front-token"];
  assert.ok(ft && ft !== "remove", `${entry.path}: front-token missing`);
  const front = decodeFrontToken(ft);
  assert.equal(typeof front.uid, "string");
  assert.equal(front.up.sub, front.uid, "front-token up.sub is uid");
  assert.ok(front.ate > Date.now() - 60_000, "front-token ate is the access-token expiry (ms)");
  assert.equal(front.ate, front.up.exp * 1000, "ate = up.exp in ms");
  assert.ok(front.up.sessionHandle, "front-token carries the payload");
  const cookies = cookiesByName(entry);
  if (mode === "cookie") {
    const at = cookies.sAccessToken;
    const rt = cookies.sRefreshToken;
    assert.ok(at && at.value, `${entry.path}: no sAccessToken cookie: ${entry.setCookies}`);
    assert.ok(rt && rt.value, `${entry.path}: no sRefreshToken cookie: ${entry.setCookies}`);
    assert.equal(at.attrs.path, "/");
    assert.equal(at.attrs.httponly, true, "sAccessToken HttpOnly");
    assert.equal(String(at.attrs.samesite).toLowerCase(), "lax", "sAccessToken SameSite=Lax (same site)");
    assert.equal(rt.attrs.path, "/auth/session/refresh", "sRefreshToken scoped to the refresh path");
    assert.equal(rt.attrs.httponly, true, "sRefreshToken HttpOnly");
    assert.equal(String(rt.attrs.samesite).toLowerCase(), "lax");
    assert.equal(at.attrs.secure, undefined, "no Secure over http");
    assert.ok(at.attrs.expires && new Date(at.attrs.expires) > new Date(Date.now() + 300 * 86400e3),
      "sAccessToken cookie outlives the token (1 year)");
    assert.equal(entry.headers["st-access-token"], undefined, "no st-access-token in cookie mode");
    assert.equal(entry.headers["st-refresh-token"], undefined, "no st-refresh-token in cookie mode");
  } else {
    const at = entry.headers["st-access-token"];
    assert.match(at || "", /^[\w-]+\.[\w-]+\.[\w-]+$/, `${entry.path}: st-access-token is a JWT`);
    assert.ok(entry.headers["st-refresh-token"], `${entry.path}: st-refresh-token missing`);
    assert.ok(exposed(entry).includes("st-access-token"), "st-access-token exposed");
    assert.ok(exposed(entry).includes("st-refresh-token"), "st-refresh-token exposed");
    assert.ok(!cookies.sAccessToken?.value, "no sAccessToken cookie value in header mode");
    assert.ok(!cookies.sRefreshToken?.value, "no sRefreshToken cookie value in header mode");
    const payload = JSON.parse(Buffer.from(at.split(".")[1], "base64url").toString("utf8"));
    assert.deepEqual(front.up, payload, "front-token up = JWT payload");
  }
  return front;
}
