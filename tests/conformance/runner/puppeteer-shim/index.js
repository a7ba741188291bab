// puppeteer-core ignores PUPPETEER_EXECUTABLE_PATH; the suite calls
// puppeteer.launch() without an executablePath, so supply it here.
const core = require("puppeteer-core");

const shim = Object.create(core);
shim.launch = function (options = {}) {
    const executablePath = options.executablePath || process.env.PUPPETEER_EXECUTABLE_PATH;
    if (!executablePath) {
        throw new Error("PUPPETEER_EXECUTABLE_PATH is not set (the conformance runner sets it)");
    }
    return core.launch({ ...options, executablePath });
};
module.exports = shim;
