// `npm test`: end-to-end tests of the example app in a real browser.
//
//  1. builds the demo website (example/web) with this package's esbuild;
//  2. builds the example API (go build ./example) and starts it on
//     localhost:3101 with a fresh SQLite file, 3-second access tokens, a
//     random TOTP key and its development OpenID Connect provider on
//     127.0.0.1:3102 (DEMO_OIDC=1);
//  3. starts the website's static server on localhost:3100 (another origin,
//     same site);
//  4. the pre-built-UI website (example/prebuilt: React +
//     supertokens-auth-react), built the same way and served on
//     localhost:3103, with a second instance of the API on localhost:3104
//     whose WEBSITE_DOMAIN (CORS, e-mail links) is that site, on its own
//     SQLite file;
//  5. runs tests/*.test.mjs with node's test runner (they drive Debian's
//     chromium through playwright-core);
//  6. stops everything it started, whatever happened.
//
// Env: CHROMIUM_PATH (default /usr/bin/chromium), E2E_API_PORT (3101),
// E2E_WEB_PORT (3100), E2E_OIDC_PORT (3102), E2E_PREBUILT_PORT (3103),
// E2E_PREBUILT_API_PORT (3104), E2E_ONLY (run only the test files whose names
// contain one of these comma-separated words), E2E_DOC_IMAGES=1 (rewrite the
// docs/images screenshots), E2E_TIMEOUT_SECONDS (900), E2E_KEEP_TMP=1 keeps the
// temp dir, E2E_DATABASE_URL runs the (first) API on PostgreSQL instead of SQLite. Logs and screenshots land in tests/browser/artifacts/.
import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { createWriteStream, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { delimiter, dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as esbuild from "esbuild";
import { buildPrebuiltSite } from "../../example/prebuilt/build.mjs";
import { buildSite } from "../../example/web/build.mjs";
import { buildTestPages } from "./pages/build.mjs";

const here = dirname(fileURLToPath(import.meta.url));
const repo = join(here, "..", "..");
const artifacts = join(here, "artifacts");
const apiPort = Number(process.env.E2E_API_PORT || 3101);
const webPort = Number(process.env.E2E_WEB_PORT || 3100);
const oidcPort = Number(process.env.E2E_OIDC_PORT || 3102);
const prebuiltPort = Number(process.env.E2E_PREBUILT_PORT || 3103);
const prebuiltApiPort = Number(process.env.E2E_PREBUILT_API_PORT || 3104);
const apiURL = `http://localhost:${apiPort}`;
const webURL = `http://localhost:${webPort}`;
const oidcURL = `http://127.0.0.1:${oidcPort}`; // the dev provider's issuer
const prebuiltURL = `http://localhost:${prebuiltPort}`;
const prebuiltApiURL = `http://localhost:${prebuiltApiPort}`;
const timeoutMs = Number(process.env.E2E_TIMEOUT_SECONDS || 900) * 1000;
// The first API serves the dashboard (recipes/dashboard) with this key.
const dashboardKey = randomBytes(24).toString("base64url");

const children = []; // { name, proc } of every process we started
let tmp = "";

function log(msg) {
  console.log(`e2e: ${msg}`);
}

// start runs a long-lived process in its own process group, with its
// output going to artifacts/<name>.log.
function start(name, cmd, args, opts = {}, { server = true } = {}) {
  const out = createWriteStream(join(artifacts, `${name}.log`));
  const proc = spawn(cmd, args, { ...opts, detached: true, stdio: ["ignore", "pipe", "pipe"] });
  proc.stdout.pipe(out);
  proc.stderr.pipe(out);
  proc.on("exit", (code, sig) => {
    proc.exited = true;
    if (server && !stopping) log(`${name} exited early (code ${code}, signal ${sig})`);
  });
  children.push({ name, proc });
  return proc;
}

let stopping = false;

async function stopAll() {
  stopping = true;
  for (const { proc } of children.reverse()) {
    if (proc.exited || proc.pid === undefined) continue;
    try {
      process.kill(-proc.pid, "SIGTERM"); // the whole group we started
    } catch {
      /* already gone */
    }
  }
  const deadline = Date.now() + 5000;
  while (children.some(({ proc }) => !proc.exited) && Date.now() < deadline) {
    await sleep(100);
  }
  for (const { name, proc } of children) {
    if (proc.exited) continue;
    log(`${name} did not stop: SIGKILL`);
    try {
      process.kill(-proc.pid, "SIGKILL");
    } catch {
      /* gone */
    }
  }
  killStrays();
  if (tmp && process.env.E2E_KEEP_TMP !== "1") rmSync(tmp, { recursive: true, force: true });
}

// killStrays kills any process still using our temp dir (a browser whose
// test process died before closing it). They are ours: the dir is unique to
// this run.
function killStrays() {
  if (!tmp) return;
  for (const pid of readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    let cmdline = "";
    try {
      cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8");
    } catch {
      continue;
    }
    if (Number(pid) !== process.pid && cmdline.includes(tmp)) {
      log(`killing stray process ${pid}: ${cmdline.split("\0")[0]}`);
      try {
        process.kill(Number(pid), "SIGKILL");
      } catch {
        /* gone */
      }
    }
  }
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms));
}

async function waitFor(url, proc, name) {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (proc.exited) throw new Error(`${name} exited before answering ${url} (see artifacts/${name}.log)`);
    try {
      const res = await fetch(url);
      if (res.status < 500) return;
    } catch {
      /* not up yet */
    }
    await sleep(200);
  }
  throw new Error(`${name} did not answer ${url} within 60s`);
}

function portFree(port) {
  const r = spawnSync(process.execPath, ["-e", `
    const s = require("net").createServer().once("error", () => process.exit(1))
      .listen(${port}, "127.0.0.1", () => s.close(() => process.exit(0)));`]);
  return r.status === 0;
}

function goBinary() {
  const paths = (process.env.PATH || "").split(delimiter).concat(["/usr/local/go/bin"]);
  for (const p of paths) if (p && existsSync(join(p, "go"))) return join(p, "go");
  throw new Error("go not found in PATH or /usr/local/go/bin");
}

async function main() {
  mkdirSync(artifacts, { recursive: true });
  for (const f of readdirSync(artifacts)) rmSync(join(artifacts, f), { recursive: true, force: true });
  tmp = mkdtempSync(join(tmpdir(), "ginauth-e2e-"));
  for (const port of [apiPort, webPort, oidcPort, prebuiltPort, prebuiltApiPort]) {
    if (!portFree(port)) {
      throw new Error(`port ${port} is in use (set E2E_API_PORT / E2E_WEB_PORT / E2E_OIDC_PORT / E2E_PREBUILT_PORT / E2E_PREBUILT_API_PORT)`);
    }
  }

  let t = Date.now();
  const nodePaths = [join(here, "node_modules")];
  const [webDir, prebuiltDir] = await Promise.all([
    buildSite({ esbuild, outdir: join(tmp, "web"), nodePaths }),
    buildPrebuiltSite({ esbuild, outdir: join(tmp, "prebuilt"), nodePaths }),
  ]);
  // The tests' own pages (pages/) share the demo website's origin.
  await buildTestPages({ esbuild, outdir: join(webDir, "st"), nodePaths });
  log(`websites built (${Date.now() - t} ms)`);

  t = Date.now();
  const apiBin = join(tmp, "ginauth-demo");
  const build = spawnSync(goBinary(), ["build", "-o", apiBin, "./example"], { cwd: repo, stdio: "inherit" });
  if (build.status !== 0) throw new Error("go build ./example failed");
  log(`API built (${Date.now() - t} ms)`);

  const apiLog = join(artifacts, "api.log");
  const api = start("api", apiBin, [], {
    cwd: tmp,
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: String(apiPort),
      API_DOMAIN: apiURL,
      WEBSITE_DOMAIN: webURL,
      DATABASE_URL: process.env.E2E_DATABASE_URL || "", // default: the SQLite file below
      SQLITE_PATH: join(tmp, "e2e.db"),
      ACCESS_TOKEN_VALIDITY_SECONDS: "3",
      DEMO_DEV_ROUTES: "1",
      DEMO_OIDC: "1",
      DEMO_OIDC_ADDR: `127.0.0.1:${oidcPort}`,
      DEMO_OIDC_EMAIL: "social@example.com",
      TOTP_SECRET_KEY: randomBytes(32).toString("base64"),
      SMTP_HOST: "",
      DASHBOARD_API_KEY: dashboardKey,
    },
  });
  const web = start("web", process.execPath, [join(repo, "example", "web", "serve.mjs")], {
    env: { ...process.env, HOST: "127.0.0.1", WEBSITE_DOMAIN: webURL, API_DOMAIN: apiURL, WEB_DIR: webDir },
  });
  // The pre-built-UI site gets its own API: the demo's CORS and its e-mail
  // links know one website. Plain settings: no dev routes, no social
  // sign-in, no TOTP; always SQLite.
  const prebuiltApiLog = join(artifacts, "api-prebuilt.log");
  const prebuiltApi = start("api-prebuilt", apiBin, [], {
    cwd: tmp,
    env: {
      ...process.env,
      HOST: "127.0.0.1",
      PORT: String(prebuiltApiPort),
      API_DOMAIN: prebuiltApiURL,
      WEBSITE_DOMAIN: prebuiltURL,
      DATABASE_URL: "",
      SQLITE_PATH: join(tmp, "e2e-prebuilt.db"),
      DEMO_DEV_ROUTES: "",
      DEMO_OIDC: "",
      TOTP_SECRET_KEY: "",
      SMTP_HOST: "",
      DASHBOARD_API_KEY: "",
    },
  });
  const prebuiltWeb = start("web-prebuilt", process.execPath, [join(repo, "example", "prebuilt", "serve.mjs")], {
    env: { ...process.env, HOST: "127.0.0.1", WEBSITE_DOMAIN: prebuiltURL, API_DOMAIN: prebuiltApiURL, WEB_DIR: prebuiltDir },
  });
  await Promise.all([
    waitFor(`http://127.0.0.1:${apiPort}/`, api, "api"),
    waitFor(`http://127.0.0.1:${webPort}/`, web, "web"),
    waitFor(`http://127.0.0.1:${prebuiltApiPort}/`, prebuiltApi, "api-prebuilt"),
    waitFor(`http://127.0.0.1:${prebuiltPort}/`, prebuiltWeb, "web-prebuilt"),
  ]);
  log(`API on ${apiURL}, website on ${webURL}, dev OpenID Connect provider on ${oidcURL}`);
  log(`pre-built UI website on ${prebuiltURL}, its API on ${prebuiltApiURL}`);

  const testDir = join(here, "tests");
  // E2E_ONLY=totp (comma-separated) runs only the test files whose names contain one of them.
  const only = (process.env.E2E_ONLY || "").split(",").map((s) => s.trim()).filter(Boolean);
  const files = readdirSync(testDir)
    .filter((f) => f.endsWith(".test.mjs") && (!only.length || only.some((o) => f.includes(o))))
    .map((f) => join(testDir, f));
  if (!files.length) throw new Error(`no test file matches E2E_ONLY=${process.env.E2E_ONLY}`);
  const tests = start("tests", process.execPath, ["--test", "--test-reporter=spec", "--test-concurrency=1", ...files], {
    cwd: here,
    env: {
      ...process.env,
      TMPDIR: tmp, // the browser's profile dir lands here (see killStrays)
      E2E_API_URL: apiURL,
      E2E_WEB_URL: webURL,
      E2E_OIDC_URL: oidcURL,
      E2E_API_LOG: apiLog,
      E2E_PREBUILT_URL: prebuiltURL,
      E2E_PREBUILT_API_URL: prebuiltApiURL,
      E2E_PREBUILT_API_LOG: prebuiltApiLog,
      E2E_ARTIFACTS: artifacts,
      E2E_DASHBOARD_KEY: dashboardKey,
      CHROMIUM_PATH: process.env.CHROMIUM_PATH || "/usr/bin/chromium",
    },
  }, { server: false });
  tests.stdout.pipe(process.stdout);
  tests.stderr.pipe(process.stderr);
  const code = await new Promise((resolve) => {
    const timer = setTimeout(() => {
      log(`tests still running after ${timeoutMs / 1000}s: stopping them`);
      try {
        process.kill(-tests.pid, "SIGTERM");
      } catch {
        /* gone */
      }
      resolve(124);
    }, timeoutMs);
    tests.on("exit", (c, sig) => {
      clearTimeout(timer);
      resolve(c ?? (sig ? 128 : 1));
    });
  });
  return code;
}

let exitCode = 1;
for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"]) {
  process.on(sig, async () => {
    log(`${sig}: stopping`);
    await stopAll();
    process.exit(130);
  });
}
try {
  exitCode = await main();
} catch (err) {
  console.error(`e2e: ${err.stack || err}`);
  exitCode = 1;
} finally {
  await stopAll();
}
if (exitCode !== 0) {
  log(`FAILED (exit ${exitCode}); logs and screenshots in ${artifacts}`);
  for (const name of ["api.log", "api-prebuilt.log"]) {
    try {
      const tail = readFileSync(join(artifacts, name), "utf8").trim().split("\n").slice(-25).join("\n");
      console.log(`--- last lines of artifacts/${name} ---\n${tail}`);
    } catch {
      /* no log */
    }
  }
} else {
  log("all passed");
}
process.exit(exitCode);
