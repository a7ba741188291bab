// Serves the pre-built-UI website: the plain demo's static server
// (../web/serve.mjs: SPA fallback, /config.js with API_DOMAIN) pointed at
// this site's dist/.
//
//   WEBSITE_DOMAIN  default http://localhost:3000 (the port to listen on)
//   API_DOMAIN      default http://localhost:3001
//   HOST            default 127.0.0.1
//   WEB_DIR         default ./dist next to this file
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

process.env.WEB_DIR ||= join(dirname(fileURLToPath(import.meta.url)), "dist");
await import("../web/serve.mjs");
