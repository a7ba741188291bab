// supertokens-auth-react's passkey MFA screen (the "webauthn-mfa" feature,
// which its /auth/mfa/webauthn route renders), embedded in a page: it asks
// PUT /auth/mfa/info on mount and either registers a passkey as a new
// factor or signs in with one to complete the factor. The test signs in
// with e-mail and password through window.stx and loads ?mount=1.
import { createRoot } from "react-dom/client";
import SuperTokens, { SuperTokensWrapper } from "supertokens-auth-react";
import EmailPassword from "supertokens-auth-react/recipe/emailpassword";
import MultiFactorAuth from "supertokens-auth-react/recipe/multifactorauth";
import Session, { SessionAuth } from "supertokens-auth-react/recipe/session";
import Webauthn from "supertokens-auth-react/recipe/webauthn";
import { WebauthnPreBuiltUI } from "supertokens-auth-react/recipe/webauthn/prebuiltui";

const config = window.GINAUTH_DEMO_CONFIG ?? {};

SuperTokens.init({
  appInfo: {
    appName: "ginauth passkey MFA test",
    apiDomain: config.apiDomain,
    websiteDomain: window.location.origin,
    apiBasePath: "/auth",
    websiteBasePath: "/auth",
  },
  recipeList: [
    EmailPassword.init(),
    MultiFactorAuth.init(),
    Webauthn.init(),
    Session.init({ tokenTransferMethod: "cookie" }),
  ],
  // The screen sends the user on when done: back here, unmounted.
  getRedirectionURL: async (ctx) => (ctx.action === "SUCCESS" ? "/st/passkeys-mfa.html?done=1" : undefined),
});

window.stx = {
  ready: true,
  signUp: (email, password) =>
    EmailPassword.signUp({ formFields: [{ id: "email", value: email }, { id: "password", value: password }] }),
  signIn: (email, password) =>
    EmailPassword.signIn({ formFields: [{ id: "email", value: email }, { id: "password", value: password }] }),
  signOut: () => Session.signOut(),
  payload: () => Session.getAccessTokenPayloadSecurely(),
};

const mount = new URLSearchParams(location.search).get("mount") === "1";

createRoot(document.getElementById("root")).render(
  <SuperTokensWrapper>
    {mount ? (
      <SessionAuth requireAuth={true}>
        {WebauthnPreBuiltUI.getInstanceOrInitAndGetInstance().getFeatureComponent("webauthn-mfa", {})}
      </SessionAuth>
    ) : (
      <p data-testid="idle">not mounted</p>
    )}
  </SuperTokensWrapper>,
);
