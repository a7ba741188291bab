// Shared helpers for the browser tests. run.mjs starts the servers and
// passes their addresses in E2E_* variables.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

export const apiURL = must("E2E_API_URL");
export const webURL = must("E2E_WEB_URL");
export const apiLog = must("E2E_API_LOG");
export const artifacts = must("E2E_ARTIFACTS");

function must(name) {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set: run the browser tests with \`npm test\` (run.mjs)`);
  return v;
}

// launchBrowser starts Debian's chromium (never a downloaded one). Every
// launch gets a fresh temporary profile (user-data-dir) from playwright.
export function launchBrowser() {
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

// NetLog records every response from the API, with all its headers
// (Set-Cookie included) and its body, for assertions on the wire.
export class NetLog {
  constructor(page) {
    this.entries = [];
    this.pending = new Set();
    page.on("response", (res) => {
      if (!res.url().startsWith(apiURL)) return;
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
        const entry = {
          method: req.method(),
          path: new URL(res.url()).pathname,
          status: res.status(),
          headers: await res.allHeaders(),
          setCookies: await res.headerValues("set-cookie"),
          requestHeaders: await req.allHeaders(),
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
// after byte offset `from`.
export function readLinks(from, path) {
  const text = readFileSync(apiLog, "utf8").slice(from).replace(/\\u0026/g, "&");
  const re = new RegExp(`https?://[^\\s"'<>\\\\]+${path.replace(/[/.?]/g, "\\$&")}\\?[^\\s"'<>\\\\]+`, "g");
  return text.match(re) || [];
}

export function logSize() {
  return readFileSync(apiLog).length;
}

export async function waitForLink(from, path, timeoutMs = 10_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const links = readLinks(from, path);
    if (links.length) return links[links.length - 1];
    if (Date.now() > deadline) throw new Error(`no ${path} link in the API log within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

export async function screenshot(page, name) {
  await page.screenshot({ path: join(artifacts, `${name}.png`), fullPage: true });
}

export async function ready(page) {
  await page.waitForFunction(() => window.demo && window.demo.ready === true, null, { timeout: 15_000 });
}
