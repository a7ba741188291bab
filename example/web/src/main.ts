// The ginauth demo website: plain DOM + supertokens-web-js, talking to the
// ginauth example API on another origin. Pages:
//
//   /                          home: session state, calls to the API, sign out
//   /auth                      sign up / sign in / forgot password, and a
//                              "Continue with <provider>" button per social sign-in
//   /auth/callback/<provider>  where the provider sends the browser back
//   /auth/verify-email?token=  follows the link of the verification e-mail
//   /auth/reset-password?token= sets a new password
//
// On the home page, a signed-in user can set up TOTP ("Set up 2FA"); after a
// later sign-in, the home page asks for a code while MultiFactorAuth says
// TOTP is next (the API answers 403 invalid claim st-mfa until then).
//
// ?mode=header or ?mode=cookie on any page picks how session tokens travel
// (remembered in localStorage). The browser tests drive these pages, so
// elements they use carry data-testid attributes, and window.demo exposes
// the SDK events and the last API result.
import SuperTokens from "supertokens-web-js";
import Session from "supertokens-web-js/recipe/session";
import EmailPassword from "supertokens-web-js/recipe/emailpassword";
import EmailVerification from "supertokens-web-js/recipe/emailverification";
import ThirdParty from "supertokens-web-js/recipe/thirdparty";
import MultiFactorAuth from "supertokens-web-js/recipe/multifactorauth";
import TOTP from "supertokens-web-js/recipe/totp";
import WebAuthn from "supertokens-web-js/recipe/webauthn";
import qrcode from "qrcode-generator";

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
    ThirdParty.init(),
    MultiFactorAuth.init(),
    TOTP.init(),
    WebAuthn.init(),
  ],
});

// What the API offers (GET /features): social providers and TOTP.
interface Features {
  thirdPartyProviders: { id: string; name: string }[];
  totp: boolean;
}
let featuresPromise: Promise<Features> | null = null;
function features(): Promise<Features> {
  featuresPromise ??= fetch(apiDomain + "/features")
    .then((r) => (r.ok ? r.json() : Promise.reject(new Error(`GET /features: ${r.status}`))))
    .catch((err) => {
      console.error(err);
      featuresPromise = null; // try again next time
      return { thirdPartyProviders: [], totp: false };
    });
  return featuresPromise;
}

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
  if (out) showResult(out, last);
  return last;
}

// resultBox is the <pre> that shows the last API call; it is hidden (not an
// empty black box) until there is one.
function resultBox(): HTMLElement {
  const out = h("pre", { testid: "result" });
  if (last) showResult(out, last);
  else out.hidden = true;
  return out;
}

function showResult(out: HTMLElement, r: APIResult) {
  out.textContent = `${r.method} ${r.path} → ${r.status}\n${json(r.body)}`;
  out.dataset.status = String(r.status);
  out.dataset.path = r.path;
  out.hidden = false;
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
  const featsP = features(); // (in parallel with the session check)
  const signedIn = await Session.doesSessionExist();
  const status = h("section", { testid: "session-state" });
  const feats = await featsP;
  let setupP: Promise<HTMLElement> | null = null;
  let second: HTMLElement | null = null;
  const sendVerification = button("Send verification e-mail", "send-verification", async () => {
    const r = await EmailVerification.sendVerificationEmail();
    if (r.status === "EMAIL_ALREADY_VERIFIED_ERROR") sendVerification.hidden = true;
    message("verification-sent", r.status === "OK" ? "Sent: the link is in the API's log." : r.status,
      r.status === "OK");
  }, "secondary");
  if (signedIn) {
    const userId = await Session.getUserId();
    let payload = await Session.getAccessTokenPayloadSecurely();
    // st-mfa.v is false while the user still owes a second factor: ask the
    // API what comes next (PUT /auth/mfa/info also brings the claim up to date).
    if (payload["st-mfa"]?.v === false) {
      const info = await MultiFactorAuth.resyncSessionAndFetchMFAInfo();
      payload = await Session.getAccessTokenPayloadSecurely();
      if (payload["st-mfa"]?.v === false) second = mfaSection(info.factors.next);
    }
    const verified = h("dd", { testid: "email-verified" }, "…");
    const methods = h("dd", { testid: "login-methods" }, second ? "(after the second factor)" : "…");
    status.append(
      h("h1", { testid: "signed-in" }, "You are signed in"),
      h("dl", {},
        h("dt", {}, "User id"), h("dd", { testid: "user-id" }, userId),
        h("dt", {}, "Signed in with"), methods,
        h("dt", {}, "Roles (st-role)"), h("dd", { testid: "roles" }, json(payload["st-role"]?.v ?? [])),
        h("dt", {}, "E-mail verified"), verified,
        h("dt", {}, "Second factor (st-mfa)"),
        h("dd", { testid: "mfa-state" }, payload["st-mfa"] ? json(payload["st-mfa"]) : "(MFA is off)"),
        h("dt", {}, "Access token expires"), h("dd", {}, new Date(payload.exp * 1000).toLocaleTimeString()),
      ),
    );
    // GET /auth/user/email/verify also refreshes the st-ev claim. The
    // "Send verification e-mail" button only shows for an unverified user.
    sendVerification.hidden = true;
    EmailVerification.isEmailVerified()
      .then((r) => {
        verified.textContent = String(r.isVerified);
        sendVerification.hidden = r.isVerified;
      })
      .catch((err) => { verified.textContent = `unknown (${err.message ?? err})`; });
    if (!second && feats.totp) setupP = totpSetupSection(); // (in parallel with GET /me)
    if (!second) {
      // GET /me: the user object, with one login method per way in.
      const res = await fetch(apiDomain + "/me");
      if (res.ok) {
        const { user } = await res.json();
        methods.textContent = user.loginMethods.map(describeLoginMethod).join("; ");
        methods.dataset.recipes = user.loginMethods.map((m: { recipeId: string }) => m.recipeId).join(",");
      } else {
        methods.textContent = `unknown (GET /me: ${res.status})`;
      }
    }
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
      sendVerification,
      button("Sign out", "sign-out", async () => {
        await Session.signOut();
        // The last answer belonged to the signed-out user: don't show it
        // under "You are not signed in".
        last = null;
        window.demo.last = null;
        await homePage();
      }, "danger"),
    );
  }

  const parts: Node[] = [status];
  if (second) parts.push(second);
  else if (setupP) parts.push(await setupP);
  mount(
    ...parts,
    h("p", { testid: "verification-sent" }),
    h("h2", {}, "Try the API"),
    actions,
    h("p", { testid: "error" }),
    resultBox(),
    h("h2", {}, "SDK events"),
    h("ul", { class: "events", testid: "events" }),
  );
  renderEvents();
}

interface LoginMethod {
  recipeId: string;
  email?: string;
  thirdParty?: { id: string; userId: string };
}

function describeLoginMethod(m: LoginMethod): string {
  const who = m.email ? ` (${m.email})` : "";
  if (m.recipeId === "thirdparty" && m.thirdParty) return `thirdparty: ${m.thirdParty.id}${who}`;
  return `${m.recipeId}${who}`;
}

// mfaSection is the "Enter your code" step, shown while the session still
// owes a second factor.
function mfaSection(next: string[]): HTMLElement {
  const sec = h("section", { testid: "mfa-required", class: "card" });
  if (!next.includes("totp")) {
    sec.append(h("h2", {}, "A second factor is required"),
      h("p", {}, `The API asks for one of: ${next.join(", ") || "(nothing this website offers)"}.`));
    return sec;
  }
  const code = h("input", { id: "totp-code", testid: "totp-code", inputmode: "numeric", autocomplete: "one-time-code",
    maxlength: "8" });
  sec.append(
    h("h2", {}, "Enter your code"),
    h("p", {}, "This account has two-factor authentication on: enter the 6-digit code from your authenticator app."),
    h("div", { class: "row" }, code,
      button("Verify", "totp-verify", async () => {
        const r = await TOTP.verifyCode({ totp: code.value.trim() });
        if (r.status === "OK") {
          await homePage(); // the response carried a new access token with st-mfa.v = true
          return;
        }
        showCodeError("mfa-result", r);
      })),
    h("p", { testid: "mfa-result" }),
  );
  return sec;
}

function showCodeError(testid: string, r: { status: string; currentNumberOfFailedAttempts?: number;
  maxNumberOfFailedAttempts?: number; retryAfterMs?: number }) {
  let text = r.status;
  if (r.status === "INVALID_TOTP_ERROR") {
    text = `INVALID_TOTP_ERROR: wrong code (${r.currentNumberOfFailedAttempts} of ${r.maxNumberOfFailedAttempts} attempts)`;
  } else if (r.status === "LIMIT_REACHED_ERROR") {
    text = `LIMIT_REACHED_ERROR: too many wrong codes; try again in ${Math.ceil((r.retryAfterMs ?? 0) / 1000)} s`;
  }
  message(testid, text, false);
  const el = document.querySelector<HTMLElement>(`[data-testid="${testid}"]`);
  if (el) el.dataset.status = r.status;
}

// qrImage renders the otpauth:// URI as a QR code image, made in the page
// (the secret never leaves it for a QR service).
function qrImage(uri: string): HTMLImageElement {
  const qr = qrcode(0, "M"); // 0: the smallest version that fits
  qr.addData(uri);
  qr.make();
  const img = h("img", { testid: "totp-qr-image", class: "qr", alt: "QR code of the otpauth:// link",
    src: qr.createDataURL(4, 4) });
  img.dataset.uri = uri;
  return img;
}

// totpSetupSection is "Set up 2FA": createDevice shows a QR code of the
// otpauth:// URI and the secret, verifyDevice turns it on.
async function totpSetupSection(): Promise<HTMLElement> {
  const sec = h("section", { testid: "totp-section", class: "card" }, h("h2", {}, "Two-factor authentication"));
  const { devices } = await TOTP.listDevices();
  const on = devices.filter((d) => d.verified);
  if (on.length) {
    sec.append(h("p", { testid: "totp-status", "data-on": "true" },
      `On: every sign-in asks for a code from ${on.map((d) => d.name).join(", ")}.`),
    h("p", { testid: "totp-setup-result" }));
    return sec;
  }
  const body = h("div", {});
  const start = h("div", { class: "row" });
  start.append(button("Set up 2FA", "totp-setup", async () => {
    // Drop devices left unverified by an earlier attempt.
    for (const d of (await TOTP.listDevices()).devices) {
      if (!d.verified) await TOTP.removeDevice({ deviceName: d.name });
    }
    const r = await TOTP.createDevice();
    if (r.status !== "OK") {
      message("totp-setup-result", r.status, false);
      return;
    }
    start.style.display = "none"; // (.row is display: flex, so not `hidden`)
    const code = h("input", { id: "totp-setup-code", testid: "totp-setup-code", inputmode: "numeric",
      autocomplete: "one-time-code", maxlength: "8" });
    body.replaceChildren(
      h("p", {}, "Scan the QR code with your authenticator app (or type the secret in), then enter the code it shows."),
      qrImage(r.qrCodeString),
      h("dl", {},
        h("dt", {}, "Device"), h("dd", { testid: "totp-device" }, r.deviceName),
        h("dt", {}, "Secret (base32)"), h("dd", {}, h("code", { testid: "totp-secret" }, r.secret)),
        h("dt", {}, "otpauth link"), h("dd", {}, h("code", { testid: "totp-qr" }, r.qrCodeString)),
      ),
      h("div", { class: "row" }, code,
        button("Verify and turn on", "totp-setup-verify", async () => {
          const v = await TOTP.verifyDevice({ deviceName: r.deviceName, totp: code.value.trim() });
          if (v.status === "OK") {
            await homePage();
            message("totp-setup-result", "Two-factor authentication is on.", true);
            return;
          }
          if (v.status === "UNKNOWN_DEVICE_ERROR") message("totp-setup-result", v.status, false);
          else showCodeError("totp-setup-result", v);
        })),
    );
  }, "secondary"));
  sec.append(
    h("p", { testid: "totp-status", "data-on": "false" }, "Off: sign-ins need only the first factor."),
    start,
    body,
    h("p", { testid: "totp-setup-result" }),
  );
  return sec;
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

async function authPage() {
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
  // Passkeys (POST /auth/webauthn/...): sign-up takes the e-mail field,
  // sign-in asks the browser for any passkey of this site.
  const passkeyUp = button("Sign up with a passkey", "passkey-sign-up", async () => {
    clearMessages();
    const email = (document.getElementById("email") as HTMLInputElement).value;
    const r = await WebAuthn.registerCredentialWithSignUp({ email });
    if (r.status === "OK") navigate("/");
    else message("auth-result", `${r.status}${"reason" in r ? ": " + r.reason : ""}`, false);
  }, "secondary");
  const passkeyIn = button("Sign in with a passkey", "passkey-sign-in", async () => {
    clearMessages();
    const r = await WebAuthn.authenticateCredentialWithSignIn();
    if (r.status === "OK") navigate("/");
    else message("auth-result", `${r.status}${"reason" in r ? ": " + r.reason : ""}`, false);
  }, "secondary");
  form.addEventListener("submit", (e) => e.preventDefault());
  form.append(h("div", { class: "row" }, signUp, signIn, forgot), h("div", { class: "row" }, passkeyUp, passkeyIn),
    h("p", { testid: "auth-result" }),
    h("p", { testid: "error" }));
  const social = h("div", { class: "social", testid: "social" });
  for (const p of (await features()).thirdPartyProviders) {
    social.append(button(`Continue with ${p.name}`, `tp-${p.id}`, async () => {
      // The SDK asks the API for the provider's URL (GET /auth/authorisationurl),
      // keeps the state and PKCE verifier in sessionStorage, and adds the state.
      const url = await ThirdParty.getAuthorisationURLWithQueryParamsAndSetState({
        thirdPartyId: p.id,
        frontendRedirectURI: `${location.origin}/auth/callback/${p.id}`,
      });
      location.assign(url);
    }, "social-button"));
  }
  mount(h("h1", {}, "Sign up or sign in"), form, ...(social.childElementCount ? [h("p", {}, "or"), social] : []));
}

// callbackPage finishes a social sign-in: the SDK checks the state and
// posts the code (POST /auth/signinup).
async function callbackPage(provider: string) {
  mount(h("h1", {}, `Signing in with ${provider}`), h("p", { testid: "callback-result" }, "Signing in…"),
    h("p", { testid: "error" }), h("p", {}, h("a", { href: "/auth" }, "Back to sign in")));
  const r = await ThirdParty.signInAndUp();
  const el = document.querySelector<HTMLElement>('[data-testid="callback-result"]')!;
  el.dataset.status = r.status;
  if (r.status === "OK") {
    navigate("/");
    return;
  }
  message("callback-result", r.status === "SIGN_IN_UP_NOT_ALLOWED" ? `${r.status}: ${r.reason}` :
    r.status === "NO_EMAIL_GIVEN_BY_PROVIDER" ? "The provider gave no e-mail address." : r.status, false);
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

// routeSeq makes only the latest route() report readiness (a page may
// navigate on before it has finished, e.g. the social callback).
let routeSeq = 0;

async function route() {
  const seq = ++routeSeq;
  window.demo.ready = false;
  delete document.body.dataset.ready;
  header();
  const path = location.pathname.replace(/\/+$/, "") || "/";
  try {
    if (path === "/auth") await authPage();
    else if (path.startsWith("/auth/callback/")) await callbackPage(path.slice("/auth/callback/".length));
    else if (path === "/auth/verify-email") await verifyEmailPage();
    else if (path === "/auth/reset-password") resetPasswordPage();
    else await homePage();
  } catch (err) {
    mount(h("h1", {}, "Something went wrong"), h("p", { testid: "error", class: "err" }, String(err)));
    console.error(err);
  }
  if (seq !== routeSeq) return;
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
