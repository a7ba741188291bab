// The node peers that tests/bench (TestPeersLoad) measures beside ginauth,
// over real HTTP, in one Express app:
//
//   GET /st        supertokens-node's verifySession, verifying the access
//                  tokens ginauth issues; its core is the Go stub started by
//                  the test (CORE_URL), which serves ginauth's JWKS.
//   GET /ba        Better Auth's getSession, cookie cache off (one session
//                  read from its own Postgres tables per request).
//   GET /ba-cache  the same with Better Auth's cookie cache on (a signed
//                  cookie carries the session; no database read while fresh).
//   GET /none      the same Express app with no guard (its floor).
//
// Environment: CORE_URL, DATABASE_URL (a database of Better Auth's own,
// created empty by the test). It listens on 127.0.0.1, port 0, and prints
// one JSON line on stdout when ready: {"port", "baCookie", "baCacheCookie",
// "versions"}.
import express from "express";
import pg from "pg";
import { betterAuth } from "better-auth";
import { getMigrations } from "better-auth/db/migration";
import { fromNodeHeaders } from "better-auth/node";
import supertokens from "supertokens-node";
import Session from "supertokens-node/recipe/session/index.js";
import { verifySession } from "supertokens-node/recipe/session/framework/express/index.js";
import { errorHandler } from "supertokens-node/framework/express/index.js";
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const { CORE_URL, DATABASE_URL } = process.env;
if (!CORE_URL || !DATABASE_URL) {
    console.error("peers: CORE_URL and DATABASE_URL are required");
    process.exit(2);
}

// Same appInfo as the Auth in tests/bench (newAuth), so the issuer and
// domains agree with the tokens ginauth signs.
supertokens.init({
    framework: "express",
    supertokens: { connectionURI: CORE_URL },
    appInfo: {
        appName: "bench",
        apiDomain: "http://localhost:3001",
        websiteDomain: "http://localhost:3000",
        apiBasePath: "/auth",
    },
    recipeList: [Session.init({ getTokenTransferMethod: () => "header" })],
    telemetry: false,
});

const pool = new pg.Pool({ connectionString: DATABASE_URL, max: 10 });
const common = {
    database: pool,
    secret: "bench-secret-bench-secret-bench-secret!",
    baseURL: "http://127.0.0.1:3001",
    emailAndPassword: { enabled: true },
    rateLimit: { enabled: false },
    telemetry: { enabled: false },
    logger: { disabled: true },
};
const baOff = betterAuth({ ...common, session: { cookieCache: { enabled: false } } });
const baOn = betterAuth({ ...common, session: { cookieCache: { enabled: true, maxAge: 3600 } } });
const { runMigrations } = await getMigrations(baOff.options);
await runMigrations();

// One user, signed in once; the cookies are what a browser would send.
const signUp = await baOn.api.signUpEmail({
    body: { email: "bench@example.com", password: "bench-password-1", name: "bench" },
    asResponse: true,
});
if (!signUp.ok) {
    console.error("peers: Better Auth sign-up failed:", signUp.status, await signUp.text());
    process.exit(1);
}
const pairs = signUp.headers.getSetCookie().map((c) => c.split(";")[0]);
const token = pairs.filter((p) => p.includes("session_token="));
const data = pairs.filter((p) => p.includes("session_data="));
if (token.length !== 1 || data.length !== 1) {
    console.error("peers: unexpected Better Auth cookies:", pairs);
    process.exit(1);
}

const app = express();
app.disable("x-powered-by");
app.disable("etag");
app.get("/none", (req, res) => res.status(204).end());
app.get("/st", verifySession(), (req, res) => {
    // Reading the user id is what a handler does; it must be ginauth's user.
    if (!req.session.getUserId()) return res.status(500).end();
    res.status(204).end();
});
const guard = (auth) => async (req, res) => {
    try {
        const s = await auth.api.getSession({ headers: fromNodeHeaders(req.headers) });
        res.status(s && s.user ? 204 : 401).end();
    } catch (e) {
        console.error("peers:", e);
        res.status(500).end();
    }
};
app.get("/ba", guard(baOff));
app.get("/ba-cache", guard(baOn));
// supertokens-node's own error handler turns an unauthorised session into
// its 401 (try refresh).
app.use(errorHandler());

const versions = {};
for (const p of ["better-auth", "supertokens-node", "express", "pg"]) {
    try {
        versions[p] = require("./node_modules/" + p + "/package.json").version;
    } catch {
        versions[p] = "?";
    }
}
const server = app.listen(0, "127.0.0.1", () => {
    process.stdout.write(
        JSON.stringify({
            port: server.address().port,
            baCookie: token[0],
            baCacheCookie: token[0] + "; " + data[0],
            versions,
        }) + "\n"
    );
});
server.keepAliveTimeout = 60000;
process.on("SIGTERM", () => {
    server.close();
    pool.end();
    process.exit(0);
});
