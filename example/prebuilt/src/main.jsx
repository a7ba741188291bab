// The ginauth demo with SuperTokens' PRE-BUILT UI (supertokens-auth-react),
// unmodified, against the ginauth example API on another origin. No router:
// auth-react's own canHandleRoute/getRoutingComponent pick the page, and
// every navigation is a full page load.
//
//   /auth                          auth-react's sign-in / sign-up forms
//   /auth/reset-password[?token=]  "forgot password": ask for a link / set a new password
//   /auth/verify-email[?token=]    e-mail verification (REQUIRED: a new user lands here)
//   /auth/webauthn/recover[?token=] passkey account recovery (the API's webauthn recipe)
//   /  (anything else)             the protected home page (SessionAuth): GET /sessioninfo
//
// ?mode=header or ?mode=cookie on any page picks how session tokens travel
// (remembered in localStorage), as on the plain demo website.
import { useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import SuperTokens, { SuperTokensWrapper } from "supertokens-auth-react";
import { canHandleRoute, getRoutingComponent } from "supertokens-auth-react/ui";
import EmailPassword from "supertokens-auth-react/recipe/emailpassword";
import { EmailPasswordPreBuiltUI } from "supertokens-auth-react/recipe/emailpassword/prebuiltui";
import EmailVerification from "supertokens-auth-react/recipe/emailverification";
import { EmailVerificationPreBuiltUI } from "supertokens-auth-react/recipe/emailverification/prebuiltui";
import Webauthn from "supertokens-auth-react/recipe/webauthn";
import { WebauthnPreBuiltUI } from "supertokens-auth-react/recipe/webauthn/prebuiltui";
import Session, { SessionAuth, useSessionContext } from "supertokens-auth-react/recipe/session";

const config = window.GINAUTH_DEMO_CONFIG ?? {};
const apiDomain = config.apiDomain ?? "http://localhost:3001";
const MODE_KEY = "ginauth-prebuilt-token-transfer";

function tokenTransferMethod() {
  const asked = new URLSearchParams(location.search).get("mode");
  if (asked === "cookie" || asked === "header") {
    localStorage.setItem(MODE_KEY, asked);
    return asked;
  }
  return localStorage.getItem(MODE_KEY) === "header" ? "header" : "cookie";
}

const mode = tokenTransferMethod();

SuperTokens.init({
  appInfo: {
    appName: "ginauth demo",
    apiDomain,
    websiteDomain: window.location.origin,
    apiBasePath: "/auth",
    websiteBasePath: "/auth",
  },
  recipeList: [
    EmailPassword.init(),
    // "Continue with passkey" on the same page (the API serves webauthn).
    Webauthn.init(),
    // REQUIRED on the website: SessionAuth sends unverified users to
    // /auth/verify-email. (The demo API itself runs OPTIONAL, so its own
    // routes do not insist; the st-ev claim comes from its tokens either way.)
    EmailVerification.init({ mode: "REQUIRED" }),
    Session.init({ tokenTransferMethod: mode }),
  ],
});

const preBuiltUIs = [EmailPasswordPreBuiltUI, WebauthnPreBuiltUI, EmailVerificationPreBuiltUI];

// Home is the protected page: SessionAuth renders it only with a session
// whose claims pass (e-mail verified), and it calls the API's GET
// /sessioninfo (the SDK's fetch interceptor adds the session).
function Home() {
  const session = useSessionContext();
  const [info, setInfo] = useState({ state: "loading" });
  useEffect(() => {
    let live = true;
    fetch(`${apiDomain}/sessioninfo`).then(
      async (res) => {
        const body = await res.json().catch(() => null);
        if (live) setInfo({ state: res.ok ? "ok" : "error", status: res.status, body });
      },
      (err) => live && setInfo({ state: "error", error: String(err) }),
    );
    return () => {
      live = false;
    };
  }, []);

  if (session.loading) return null;
  async function signOut() {
    await Session.signOut();
    window.location.assign("/auth");
  }
  const payload = info.body?.accessTokenPayload;
  return (
    <main className="home" data-testid="home">
      <h1>Signed in</h1>
      <p>
        A protected page: auth-react's <code>SessionAuth</code> let you in, and the API's{" "}
        <code>GET /sessioninfo</code> answered:
      </p>
      <dl>
        <dt>userId (from the session context)</dt>
        <dd data-testid="context-user-id">{session.userId}</dd>
        <dt>GET /sessioninfo</dt>
        <dd data-testid="sessioninfo-state" data-state={info.state}>
          {info.state === "loading" ? "…" : info.status ?? info.error}
        </dd>
        {info.state === "ok" && (
          <>
            <dt>userId</dt>
            <dd data-testid="sessioninfo-user-id">{info.body.userId}</dd>
            <dt>sessionHandle</dt>
            <dd data-testid="sessioninfo-handle">{info.body.sessionHandle}</dd>
            <dt>e-mail verified (st-ev)</dt>
            <dd data-testid="sessioninfo-ev">{String(payload?.["st-ev"]?.v)}</dd>
          </>
        )}
      </dl>
      {info.body && <pre data-testid="sessioninfo-body">{JSON.stringify(info.body, null, 2)}</pre>}
      <button type="button" data-testid="sign-out" onClick={signOut}>
        Sign out
      </button>
    </main>
  );
}

function App() {
  const page = canHandleRoute(preBuiltUIs) ? (
    getRoutingComponent(preBuiltUIs)
  ) : (
    <SessionAuth>
      <Home />
    </SessionAuth>
  );
  return (
    <SuperTokensWrapper>
      <header className="bar">
        <a href="/" className="brand">
          ginauth demo — SuperTokens pre-built UI
        </a>
        <span className="mode">
          tokens via <b data-testid="mode">{mode}</b>
        </span>
      </header>
      {page}
    </SuperTokensWrapper>
  );
}

createRoot(document.getElementById("root")).render(<App />);
