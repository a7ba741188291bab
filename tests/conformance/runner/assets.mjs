// HTTPS server for the scripts the suite's page loads from the internet
// (unpkg.com, cdn.skypack.dev), served from local npm packages. Chromium is
// pointed here with --host-rules. Usage: node assets.mjs PORT CERT KEY NODE_MODULES
import https from "node:https";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const [port, cert, key, modules] = process.argv.slice(2);
const here = path.dirname(fileURLToPath(import.meta.url));
const files = {
    // unpkg serves the latest axios to the page; the suite's node side
    // keeps the older one of its lockfile.
    "unpkg.com /axios/dist/axios.min.js": path.join(modules, "axios-page/dist/axios.min.js"),
    "unpkg.com /axios-mock-adapter/dist/axios-mock-adapter.js": path.join(
        modules,
        "axios-mock-adapter/dist/axios-mock-adapter.js"
    ),
    "cdn.skypack.dev /umd-assert": path.join(here, "assert.mjs")
};
https
    .createServer({ cert: fs.readFileSync(cert), key: fs.readFileSync(key) }, (req, res) => {
        const host = (req.headers.host || "").replace(/:\d+$/, "");
        const file = files[`${host} ${req.url.split("?")[0]}`];
        if (file === undefined) {
            console.error(`assets: no local copy of https://${host}${req.url}`);
            res.writeHead(404).end();
            return;
        }
        res.writeHead(200, {
            "content-type": "application/javascript",
            "access-control-allow-origin": "*",
            "cache-control": "max-age=3600"
        });
        fs.createReadStream(file).pipe(res);
    })
    .listen(Number(port), "127.0.0.1", () => console.log(`assets: https on 127.0.0.1:${port}`));
