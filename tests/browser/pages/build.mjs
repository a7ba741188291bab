// Builds the browser tests' own small pages into <outdir> (run.mjs puts
// them under the demo website's directory, as /st/..., so that they share
// its origin, its /config.js and its API's CORS):
//
//   /st/website.html   supertokens-website alone (its fetch interceptor),
//                      ?mode=cookie|header picks tokenTransferMethod
//   /st/totp.html      supertokens-auth-react's TOTP set-up screen (MFATOTP)
//                      embedded in a page, with EmailPassword, MFA and TOTP
//   /st/passkeys-mfa.html  its passkey MFA screen (webauthn-mfa), likewise
//   /st/otp-mfa.html   its e-mail code MFA screen (passwordless otp-email), likewise
//
// The three auth-react pages share their init, window.stx and mount
// (mfa-page.jsx).
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));

/**
 * @param {object} o
 * @param {typeof import("esbuild")} o.esbuild
 * @param {string} o.outdir
 * @param {string[]} [o.nodePaths]
 */
export async function buildTestPages({ esbuild, outdir, nodePaths = [] }) {
  mkdirSync(outdir, { recursive: true });
  for (const f of ["website.html", "totp.html", "passkeys-mfa.html", "otp-mfa.html"]) copyFileSync(join(here, f), join(outdir, f));
  await esbuild.build({
    entryPoints: { website: join(here, "website.js"), totp: join(here, "totp.jsx"), "passkeys-mfa": join(here, "passkeys-mfa.jsx"), "otp-mfa": join(here, "otp-mfa.jsx") },
    outdir,
    bundle: true,
    format: "iife",
    target: ["es2020"],
    platform: "browser",
    jsx: "automatic",
    define: { "process.env.NODE_ENV": '"production"' },
    sourcemap: true,
    nodePaths,
    logLevel: "warning",
  });
  return outdir;
}
