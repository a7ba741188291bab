// A tiny static server for the demo website: serves dist/ with an SPA
// fallback (unknown paths get index.html), and /config.js with the API
// domain taken from the environment, so one build runs anywhere.
//
//   WEBSITE_DOMAIN  default http://localhost:3000 (the port to listen on)
//   API_DOMAIN      default http://localhost:3001
//   HOST            default 127.0.0.1 (the interface to listen on)
//   WEB_DIR         default ./dist next to this file
import { createServer } from "node:http";
import { readFile, stat } from "node:fs/promises";
import { dirname, extname, join, normalize, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const websiteDomain = new URL(process.env.WEBSITE_DOMAIN || "http://localhost:3000");
const apiDomain = (process.env.API_DOMAIN || "http://localhost:3001").replace(/\/+$/, "");
const port = Number(websiteDomain.port || (websiteDomain.protocol === "https:" ? 443 : 80));
const host = process.env.HOST || "127.0.0.1";
const root = resolve(process.env.WEB_DIR || join(here, "dist"));

const types = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".map": "application/json",
  ".json": "application/json",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
};

const configJS = `window.GINAUTH_DEMO_CONFIG = ${JSON.stringify({ apiDomain, apiBasePath: "/auth" })};\n`;

async function file(path) {
  try {
    const s = await stat(path);
    return s.isFile() ? path : null;
  } catch {
    return null;
  }
}

const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url, "http://x");
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { Allow: "GET, HEAD" }).end();
      return;
    }
    if (url.pathname === "/config.js") {
      res.writeHead(200, { "Content-Type": types[".js"], "Cache-Control": "no-store" });
      res.end(req.method === "HEAD" ? undefined : configJS);
      return;
    }
    const wanted = normalize(join(root, decodeURIComponent(url.pathname)));
    let path = wanted.startsWith(root + sep) ? await file(wanted) : null;
    // SPA fallback: page routes (no file extension) get index.html.
    if (!path && !extname(url.pathname)) path = join(root, "index.html");
    if (!path) {
      res.writeHead(404, { "Content-Type": "text/plain" }).end("not found\n");
      return;
    }
    const body = await readFile(path);
    res.writeHead(200, {
      "Content-Type": types[extname(path)] || "application/octet-stream",
      "Cache-Control": "no-cache",
    });
    res.end(req.method === "HEAD" ? undefined : body);
  } catch (err) {
    res.writeHead(500, { "Content-Type": "text/plain" }).end("internal error\n");
    console.error(err);
  }
});

server.listen(port, host, () => {
  console.log(`demo website: serving ${root} on http://${host}:${port} (API ${apiDomain})`);
});

for (const sig of ["SIGINT", "SIGTERM"]) {
  process.on(sig, () => {
    server.close();
    server.closeAllConnections();
    process.exit(0);
  });
}
