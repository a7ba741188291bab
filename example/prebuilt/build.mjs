// Builds the pre-built-UI demo website into dist/: public/* copied as is,
// src/main.jsx (React + supertokens-auth-react) bundled by esbuild into
// dist/app.js.
//
//   node build.mjs            (npm run build)
//
// The browser tests (tests/browser) call buildPrebuiltSite() with their own
// esbuild and node_modules, so that they need no install here.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/**
 * @param {object} o
 * @param {typeof import("esbuild")} o.esbuild
 * @param {string} [o.outdir]     default example/prebuilt/dist
 * @param {string[]} [o.nodePaths] extra node_modules directories to resolve from
 */
export async function buildPrebuiltSite({ esbuild, outdir = join(here, "dist"), nodePaths = [] }) {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  cpSync(join(here, "public"), outdir, { recursive: true });
  await esbuild.build({
    entryPoints: [join(here, "src", "main.jsx")],
    outfile: join(outdir, "app.js"),
    bundle: true,
    format: "iife",
    target: ["es2020"],
    platform: "browser",
    jsx: "automatic",
    // React reads process.env.NODE_ENV; the production build is smaller and faster.
    define: { "process.env.NODE_ENV": '"production"' },
    sourcemap: true,
    minify: false,
    nodePaths,
    logLevel: "warning",
  });
  return outdir;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const esbuild = await import("esbuild");
  const out = await buildPrebuiltSite({ esbuild });
  console.log(`built ${out}`);
}
