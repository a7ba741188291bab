// The ginauth demo website: plain DOM + supertokens-web-js, talking to the
// ginauth example API on another origin. Pages:
//
//   /                          home: session state, calls to the API, sign out
//   /auth                      sign up / sign in / forgot password
//   /auth/verify-email?token=  follows the link of the verification e-mail
//   /auth/reset-password?token= sets a new password
//
// ?mode=header or ?mode=cookie on any page picks how session tokens travel
// (remembered in localStorage). The browser tests drive these pages, so
// elements they use carry data-testid attributes, and window.demo exposes
// the SDK events and the last API result.
import SuperTokens from "supertokens-web-js";
import Session from "supertokens-web-js/recipe/session";
import EmailPassword from "supertokens-web-js/recipe/emailpassword";
import EmailVerification from "supertokens-web-js/recipe/emailverification";

type Mode = "cookie" | "header";

interface SDKEvent {
  action: string;
  at: number;
  claimValidationErrors?: unknown;
}

interface APIResult {
  method: string;
  path: string;
  status: number;
  body: unknown;
}

interface DemoWindow extends Window {
  GINAUTH_DEMO_CONFIG?: { apiDomain?: string; apiBasePath?: string; appName?: string };
  demo: {
    mode: Mode;
    apiDomain: string;
    events: SDKEvent[];
    last: APIResult | null;
    calls: number;
    ready: boolean;
    callApi: (method: string, path: string) => Promise<APIResult>;
    doesSessionExist: () => Promise<boolean>;
    getAccessTokenPayload: () => Promise<unknown>;
  };
}
declare const window: DemoWindow;

const MODE_KEY = "ginauth-demo-token-transfer";
const config = window.GINAUTH_DEMO_CONFIG ?? {};
const apiDomain = config.apiDomain ?? "http://localhost:3001";
const apiBasePath = config.apiBasePath ?? "/auth";

function tokenTransferMethod(): Mode {
  const asked = new URLSearchParams(location.search).get("mode");
  if (asked === "cookie" || asked === "header") {
    localStorage.setItem(MODE_KEY, asked);
    return asked;
  }
  return localStorage.getItem(MODE_KEY) === "header" ? "header" : "cookie";
}

const mode = tokenTransferMethod();
const events: SDKEvent[] = [];

SuperTokens.init({
  appInfo: { appName: config.appName ?? "ginauth demo", apiDomain, apiBasePath },
  recipeList: [
    Session.init({
      tokenTransferMethod: mode,
      onHandleEvent(event) {
        const e: SDKEvent = { action: event.action, at: Date.now() };
        if (event.action === "API_INVALID_CLAIM") e.claimValidationErrors = event.claimValidationErrors;
        events.push(e);
        renderEvents();
      },
    }),
    EmailPassword.init(),
    EmailVerification.init(),
  ],
});

// ---------------------------------------------------------------------------
// Small DOM helpers.

function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  attrs: Record<string, string> = {},
  ...children: (Node | string)[]
): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "testid") el.dataset.testid = v;
    else el.setAttribute(k, v);
  }
  el.append(...children);
  return el;
}

function button(label: string, testid: string, onClick: () => Promise<void> | void, cls = ""): HTMLButtonElement {
  const b = h("button", { type: "button", testid, class: cls }, label);
  b.addEventListener("click", async () => {
    b.disabled = true;
    try {
      await onClick();
    } catch (err) {
      showError(err);
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

const app = document.getElementById("app")!;

function mount(...children: Node[]) {
  app.replaceChildren(...children);
}

function json(v: unknown): string {
  return JSON.stringify(v, null, 2);
}

function message(testid: string, text: string, ok: boolean) {
  const el = document.querySelector<HTMLElement>(`[data-testid="${testid}"]`);
  if (!el) return;
  el.textContent = text;
  el.className = ok ? "ok" : "err";
}

function showError(err: unknown) {
  const text = err instanceof Error ? err.message : String(err);
  const el = document.querySelector<HTMLElement>('[data-testid="error"]');
  if (el) {
    el.textContent = text;
    el.className = "err";
  }
  console.error(err);
}

// ---------------------------------------------------------------------------
// Calls to the app's own API. window.fetch is intercepted by the SDK: it
// adds the session (cookies or Authorization header), refreshes the session
// on a 401 and retries, and reports a 403 invalid claim as an event.

let last: APIResult | null = null;

async function callApi(method: string, path: string): Promise<APIResult> {
  const res = await fetch(apiDomain + path, { method });
  const text = await res.text();
  let body: unknown = text;
  try {
    body = JSON.parse(text);
  } catch {
    /* not JSON */
  }
  last = { method, path, status: res.status, body };
  window.demo.last = last;
  window.demo.calls++;
  const out = document.querySelector<HTMLElement>('[data-testid="result"]');
  if (out) {
    out.textContent = `${method} ${path} → ${res.status}\n${json(body)}`;
    out.dataset.status = String(res.status);
    out.dataset.path = path;
  }
  return last;
}

function renderEvents() {
  const ul = document.querySelector<HTMLElement>('[data-testid="events"]');
  if (!ul) return;
  ul.replaceChildren(
    ...events.map((e) =>
      h("li", {}, `${new Date(e.at).toLocaleTimeString()} ${e.action}` +
        (e.claimValidationErrors ? ` ${JSON.stringify(e.claimValidationErrors)}` : "")),
    ),
  );
}

// ---------------------------------------------------------------------------
// Pages.

async function homePage() {
  const signedIn = await Session.doesSessionExist();
  const status = h("section", { testid: "session-state" });
  if (signedIn) {
    const userId = await Session.getUserId();
    const payload = await Session.getAccessTokenPayloadSecurely();
    const verified = h("dd", { testid: "email-verified" }, "…");
    status.append(
      h("h1", { testid: "signed-in" }, "You are signed in"),
      h("dl", {},
        h("dt", {}, "User id"), h("dd", { testid: "user-id" }, userId),
        h("dt", {}, "Roles (st-role)"), h("dd", { testid: "roles" }, json(payload["st-role"]?.v ?? [])),
        h("dt", {}, "E-mail verified"), verified,
        h("dt", {}, "Access token expires"), h("dd", {}, new Date(payload.exp * 1000).toLocaleTimeString()),
      ),
    );
    // GET /auth/user/email/verify also refreshes the st-ev claim.
    EmailVerification.isEmailVerified()
      .then((r) => { verified.textContent = String(r.isVerified); })
      .catch((err) => { verified.textContent = `unknown (${err.message ?? err})`; });
  } else {
    status.append(
      h("h1", { testid: "signed-out" }, "You are not signed in"),
      h("p", {}, h("a", { href: "/auth", testid: "goto-auth" }, "Sign up or sign in"),
        " — then come back here to call the API."),
    );
  }

  const actions = h("div", { class: "row" },
    button("GET /sessioninfo", "call-sessioninfo", async () => { await callApi("GET", "/sessioninfo"); }),
    button("GET /admin", "call-admin", async () => { await callApi("GET", "/admin"); }),
  );
  if (signedIn) {
    actions.append(
      button("Make me admin (dev)", "make-admin", async () => {
        await callApi("POST", "/dev/make-admin");
        await homePage();
      }, "secondary"),
      button("Send verification e-mail", "send-verification", async () => {
        const r = await EmailVerification.sendVerificationEmail();
        message("verification-sent", r.status === "OK" ? "Sent: the link is in the API's log." : r.status,
          r.status === "OK");
      }, "secondary"),
      button("Sign out", "sign-out", async () => {
        await Session.signOut();
        await homePage();
      }, "danger"),
    );
  }

  mount(
    status,
    h("p", { testid: "verification-sent" }),
    h("h2", {}, "Try the API"),
    actions,
    h("p", { testid: "error" }),
    h("pre", { testid: "result" }, last ? `${last.method} ${last.path} → ${last.status}\n${json(last.body)}` : ""),
    h("h2", {}, "SDK events"),
    h("ul", { class: "events", testid: "events" }),
  );
  renderEvents();
}

function field(id: string, label: string, type: string): HTMLLabelElement {
  return h("label", {}, label, h("input", { id, name: id, type, testid: id, autocomplete: "on" }),
    h("span", { class: "err", testid: `${id}-error` }));
}

function formFields(...ids: string[]) {
  return ids.map((id) => ({ id, value: (document.getElementById(id) as HTMLInputElement).value }));
}

function showFieldErrors(errors: { id: string; error: string }[]) {
  for (const e of errors) message(`${e.id}-error`, e.error, false);
}

function clearMessages() {
  document.querySelectorAll<HTMLElement>("form .err, [data-testid='auth-result']").forEach((el) => {
    el.textContent = "";
  });
}

function authPage() {
  const form = h("form", { testid: "auth-form" },
    field("email", "E-mail", "email"),
    field("password", "Password", "password"),
  );
  const signUp = button("Sign up", "sign-up", async () => {
    clearMessages();
    const r = await EmailPassword.signUp({ formFields: formFields("email", "password") });
    if (r.status === "OK") navigate("/");
    else if (r.status === "FIELD_ERROR") showFieldErrors(r.formFields);
    else message("auth-result", `${r.status}: ${"reason" in r ? r.reason : ""}`, false);
  });
  const signIn = button("Sign in", "sign-in", async () => {
    clearMessages();
    const r = await EmailPassword.signIn({ formFields: formFields("email", "password") });
    if (r.status === "OK") navigate("/");
    else if (r.status === "FIELD_ERROR") showFieldErrors(r.formFields);
    else if (r.status === "WRONG_CREDENTIALS_ERROR") message("auth-result", "Wrong e-mail or password.", false);
    else message("auth-result", `${r.status}: ${r.reason}`, false);
  }, "secondary");
  const forgot = button("Forgot password?", "forgot-password", async () => {
    clearMessages();
    const r = await EmailPassword.sendPasswordResetEmail({ formFields: formFields("email") });
    if (r.status === "OK") message("auth-result", "If the account exists, a reset link is in the API's log.", true);
    else if (r.status === "FIELD_ERROR") showFieldErrors(r.formFields);
    else message("auth-result", r.status, false);
  }, "secondary");
  form.addEventListener("submit", (e) => e.preventDefault());
  form.append(h("div", { class: "row" }, signUp, signIn, forgot), h("p", { testid: "auth-result" }),
    h("p", { testid: "error" }));
  mount(h("h1", {}, "Sign up or sign in"), form);
}

async function verifyEmailPage() {
  mount(h("h1", {}, "E-mail verification"), h("p", { testid: "verify-result" }, "Verifying…"),
    h("p", { testid: "error" }), h("p", {}, h("a", { href: "/", testid: "goto-home" }, "Home")));
  const r = await EmailVerification.verifyEmail();
  message("verify-result", r.status === "OK" ? "Your e-mail is verified." : "This link is invalid or has expired.",
    r.status === "OK");
  document.querySelector<HTMLElement>('[data-testid="verify-result"]')!.dataset.status = r.status;
}

function resetPasswordPage() {
  const form = h("form", { testid: "reset-form" }, field("password", "New password", "password"));
  form.addEventListener("submit", (e) => e.preventDefault());
  form.append(
    button("Set password", "reset-submit", async () => {
      clearMessages();
      const r = await EmailPassword.submitNewPassword({ formFields: formFields("password") });
      if (r.status === "OK") message("auth-result", "Password changed: sign in with it.", true);
      else if (r.status === "FIELD_ERROR") showFieldErrors(r.formFields);
      else message("auth-result", "This link is invalid or has expired.", false);
    }),
    h("p", { testid: "auth-result" }),
    h("p", { testid: "error" }),
  );
  mount(h("h1", {}, "Choose a new password"), form, h("p", {}, h("a", { href: "/auth" }, "Sign in")));
}

function header() {
  document.getElementById("mode")!.textContent = mode;
  const other: Mode = mode === "cookie" ? "header" : "cookie";
  const link = document.getElementById("mode-switch") as HTMLAnchorElement;
  link.textContent = `use ${other}s`;
  link.href = `${location.pathname}?mode=${other}`;
}

window.demo = {
  mode,
  apiDomain,
  events,
  last: null,
  calls: 0,
  ready: false,
  callApi,
  doesSessionExist: () => Session.doesSessionExist(),
  getAccessTokenPayload: () => Session.getAccessTokenPayloadSecurely(),
};

async function route() {
  window.demo.ready = false;
  delete document.body.dataset.ready;
  header();
  const path = location.pathname.replace(/\/+$/, "") || "/";
  try {
    if (path === "/auth") authPage();
    else if (path === "/auth/verify-email") await verifyEmailPage();
    else if (path === "/auth/reset-password") resetPasswordPage();
    else await homePage();
  } catch (err) {
    mount(h("h1", {}, "Something went wrong"), h("p", { testid: "error", class: "err" }, String(err)));
    console.error(err);
  }
  window.demo.ready = true;
  document.body.dataset.ready = "true";
}

// navigate shows another page without reloading (the SDK state stays).
function navigate(path: string) {
  history.pushState(null, "", path);
  void route();
}

window.addEventListener("popstate", () => void route());
void route();
