// supertokens-website on its own: no web-js recipes, only the session
// interceptor every SuperTokens frontend runs underneath. The test drives it
// through window.site: plain fetch() calls to the API, which the SDK
// intercepts (adding and storing tokens, refreshing on 401).
import SuperTokens from "supertokens-website";

const config = window.GINAUTH_DEMO_CONFIG ?? {};
const apiDomain = config.apiDomain;
const mode = new URLSearchParams(location.search).get("mode") === "header" ? "header" : "cookie";

SuperTokens.init({ apiDomain, apiBasePath: config.apiBasePath ?? "/auth", tokenTransferMethod: mode });

// call sends a fetch to the API (path relative to the API domain) and
// returns its status and JSON body; the SDK's interceptor does the rest.
async function call(method, path, body, headers = {}) {
  const init = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.headers["Content-Type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  const res = await fetch(apiDomain + path, init);
  let json = null;
  try {
    json = await res.json();
  } catch {
    /* not JSON */
  }
  return { status: res.status, body: json };
}

function form(email, password) {
  return { formFields: [{ id: "email", value: email }, { id: "password", value: password }] };
}

window.site = {
  ready: true,
  mode,
  call,
  signUp: (email, password) => call("POST", "/auth/signup", form(email, password), { rid: "emailpassword" }),
  // extra: more body fields, e.g. { shouldTryLinkingWithSessionUser: false } as auth-react's sign-in screen sends.
  signIn: (email, password, extra) =>
    call("POST", "/auth/signin", { ...form(email, password), ...(extra || {}) }, { rid: "emailpassword" }),
  doesSessionExist: () => SuperTokens.doesSessionExist(),
  refresh: () => SuperTokens.attemptRefreshingSession(),
  userId: () => SuperTokens.getUserId(),
  signOut: () => SuperTokens.signOut(),
  // The tokens the SDK keeps on the website's side (header mode keeps them
  // in the website's cookies).
  storedCookies: () => document.cookie,
};
