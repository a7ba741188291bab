// supertokens-auth-react's e-mail code MFA screen (the passwordless
// "otp-email" feature, which its /auth/mfa/otp-email route renders),
// embedded in a page: it asks PUT /auth/mfa/info on mount, sends a code to
// the user's address (POST /auth/signinup/code with
// shouldTryLinkingWithSessionUser) and consumes the code typed in. The test
// signs in with e-mail and password through window.stx and loads ?mount=1.
import { createRoot } from "react-dom/client";
import SuperTokens, { SuperTokensWrapper } from "supertokens-auth-react";
import EmailPassword from "supertokens-auth-react/recipe/emailpassword";
import MultiFactorAuth from "supertokens-auth-react/recipe/multifactorauth";
import Passwordless from "supertokens-auth-react/recipe/passwordless";
import { PasswordlessPreBuiltUI } from "supertokens-auth-react/recipe/passwordless/prebuiltui";
import Session, { SessionAuth } from "supertokens-auth-react/recipe/session";

const config = window.GINAUTH_DEMO_CONFIG ?? {};

SuperTokens.init({
  appInfo: {
    appName: "ginauth e-mail code MFA test",
    apiDomain: config.apiDomain,
    websiteDomain: window.location.origin,
    apiBasePath: "/auth",
    websiteBasePath: "/auth",
  },
  recipeList: [
    EmailPassword.init(),
    MultiFactorAuth.init({ firstFactors: ["emailpassword", "thirdparty", "webauthn"] }),
    Passwordless.init({ contactMethod: "EMAIL_OR_PHONE" }),
    Session.init({ tokenTransferMethod: "cookie" }),
  ],
  // The screen sends the user on when done: back here, unmounted.
  getRedirectionURL: async (ctx) => (ctx.action === "SUCCESS" ? "/st/otp-mfa.html?done=1" : undefined),
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
      // The MFA claim is what the screen completes: not checked here (as
      // auth-react's own /auth/mfa/* routes do), or SessionAuth would send
      // a user who still needs the factor away to the factor chooser.
      <SessionAuth requireAuth={true} overrideGlobalClaimValidators={() => []}>
        {PasswordlessPreBuiltUI.getInstanceOrInitAndGetInstance().getFeatureComponent("otp-email", {})}
      </SessionAuth>
    ) : (
      <p data-testid="idle">not mounted</p>
    )}
  </SuperTokensWrapper>,
);
