// Builds the demo website into dist/: public/* copied as is, src/main.ts
// bundled by esbuild into dist/app.js.
//
//   node build.mjs            (npm run build)
//
// The browser tests (tests/browser) call buildSite() with their own esbuild
// and node_modules, so that they need no install here.
import { cpSync, mkdirSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/**
 * @param {object} o
 * @param {typeof import("esbuild")} o.esbuild
 * @param {string} [o.outdir]     default example/web/dist
 * @param {string[]} [o.nodePaths] extra node_modules directories to resolve from
 */
export async function buildSite({ esbuild, outdir = join(here, "dist"), nodePaths = [] }) {
  rmSync(outdir, { recursive: true, force: true });
  mkdirSync(outdir, { recursive: true });
  cpSync(join(here, "public"), outdir, { recursive: true });
  await esbuild.build({
    entryPoints: [join(here, "src", "main.ts")],
    outfile: join(outdir, "app.js"),
    bundle: true,
    format: "iife",
    target: ["es2020"],
    platform: "browser",
    sourcemap: true,
    minify: false,
    nodePaths,
    logLevel: "warning",
  });
  return outdir;
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const esbuild = await import("esbuild");
  const out = await buildSite({ esbuild });
  console.log(`built ${out}`);
}
