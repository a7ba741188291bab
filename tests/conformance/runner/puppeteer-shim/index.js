// puppeteer-core ignores PUPPETEER_EXECUTABLE_PATH; the suite calls
// puppeteer.launch() without an executablePath, so supply it here.
//
// The suite also launches a new browser for every case (in beforeEach) and
// closes it after; starting Chromium is most of a case's cost on a small
// machine. Unless CONFORMANCE_BROWSER_PER_CASE is set, launch() starts one
// browser per mocha process and hands each caller a fresh incognito context
// of it instead: its own cookies, storage and cache, thrown away on close(),
// which is what the suite relies on a new browser for. The suite only calls
// newPage() and close() on what launch() returns.
const core = require("puppeteer-core");

function launchBrowser(options) {
    const executablePath = options.executablePath || process.env.PUPPETEER_EXECUTABLE_PATH;
    if (!executablePath) {
        throw new Error("PUPPETEER_EXECUTABLE_PATH is not set (the conformance runner sets it)");
    }
    return core.launch({ ...options, executablePath });
}

let shared; // Promise<Browser> of the browser the contexts live in

async function sharedContext(options) {
    if (shared !== undefined) {
        const b = await shared.catch(() => undefined);
        if (b === undefined || !b.isConnected()) {
            shared = undefined;
        }
    }
    if (shared === undefined) {
        shared = launchBrowser(options);
    }
    const browser = await shared;
    const ctx = await browser.createIncognitoBrowserContext();
    // Looks like the Browser the suite asked for: newPage() opens a tab in
    // the context, close() disposes of the context (the browser stays).
    const facade = Object.create(ctx);
    // A context Chromium has already let go of (seen after some claims
    // cases) is as closed as the suite wants it: not an error of the case.
    facade.close = () =>
        ctx.close().catch(err => {
            if (!/Failed to find context/.test(String(err && err.message))) {
                throw err;
            }
        });
    facade.newPage = () => ctx.newPage();
    facade.browser = () => browser;
    return facade;
}

const shim = Object.create(core);
shim.launch = function (options = {}) {
    if (process.env.CONFORMANCE_BROWSER_PER_CASE) {
        return launchBrowser(options);
    }
    return sharedContext(options);
};
module.exports = shim;
