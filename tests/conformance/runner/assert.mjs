// A small assert module served in place of https://cdn.skypack.dev/umd-assert,
// which the suite's page imports (window.assert) and which cannot be fetched
// here. It offers the node:assert calls the suite makes in the page.
function fail(message, fallback) {
    if (message instanceof Error) throw message;
    const e = new Error(message === undefined ? fallback : message);
    e.name = "AssertionError";
    throw e;
}
function show(v) {
    try {
        return JSON.stringify(v);
    } catch {
        return String(v);
    }
}
function deepEq(a, b, strict) {
    if (strict ? Object.is(a, b) : a == b) return true;
    if (typeof a !== "object" || typeof b !== "object" || a === null || b === null) return false;
    if (Array.isArray(a) !== Array.isArray(b)) return false;
    if (strict && Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
    const ka = Object.keys(a), kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every(k => Object.prototype.hasOwnProperty.call(b, k) && deepEq(a[k], b[k], strict));
}
function matches(err, expected) {
    if (expected === undefined) return true;
    if (typeof expected === "function") {
        if (expected.prototype !== undefined && err instanceof expected) return true;
        return expected.prototype === undefined || Error.isPrototypeOf(expected) ? false : expected(err) === true;
    }
    if (expected instanceof RegExp) return expected.test(String(err && err.message !== undefined ? err.message : err));
    if (typeof expected === "object") return Object.keys(expected).every(k => deepEq(err[k], expected[k], true));
    return true;
}
function assert(value, message) {
    if (!value) fail(message, `expected a truthy value, got ${show(value)}`);
}
assert.ok = assert;
assert.fail = message => fail(message, "failed");
assert.equal = (a, b, m) => a == b || fail(m, `${show(a)} == ${show(b)}`);
assert.notEqual = (a, b, m) => a != b || fail(m, `${show(a)} != ${show(b)}`);
assert.strictEqual = (a, b, m) => Object.is(a, b) || fail(m, `${show(a)} === ${show(b)}`);
assert.notStrictEqual = (a, b, m) => !Object.is(a, b) || fail(m, `${show(a)} !== ${show(b)}`);
assert.deepEqual = (a, b, m) => deepEq(a, b, false) || fail(m, `${show(a)} deepEqual ${show(b)}`);
assert.notDeepEqual = (a, b, m) => !deepEq(a, b, false) || fail(m, `${show(a)} notDeepEqual ${show(b)}`);
assert.deepStrictEqual = (a, b, m) => deepEq(a, b, true) || fail(m, `${show(a)} deepStrictEqual ${show(b)}`);
assert.notDeepStrictEqual = (a, b, m) => !deepEq(a, b, true) || fail(m, `${show(a)} notDeepStrictEqual ${show(b)}`);
assert.match = (s, re, m) => re.test(s) || fail(m, `${show(s)} does not match ${re}`);
assert.throws = (fn, expected, m) => {
    try {
        fn();
    } catch (e) {
        if (!matches(e, expected)) fail(m, `unexpected error ${e}`);
        return;
    }
    fail(typeof expected === "string" ? expected : m, "missing expected exception");
};
assert.rejects = async (p, expected, m) => {
    try {
        await (typeof p === "function" ? p() : p);
    } catch (e) {
        if (!matches(e, expected)) fail(m, `unexpected rejection ${e}`);
        return;
    }
    fail(typeof expected === "string" ? expected : m, "missing expected rejection");
};
assert.doesNotThrow = (fn, m) => {
    try {
        fn();
    } catch (e) {
        fail(m, `unexpected exception ${e}`);
    }
};
assert.strict = assert;
export default assert;
