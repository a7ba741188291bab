// supertokens-auth-react's TOTP screen (MFATOTP, the component its
// /auth/mfa/totp route renders), embedded in a page: each load mounts it
// afresh, and on mount it asks PUT /auth/mfa/info and, while the user has no
// verified device, POST /auth/totp/device, showing the new secret. The test
// signs up through window.stx and reloads the page.
import { createRoot } from "react-dom/client";
import SuperTokens, { SuperTokensWrapper } from "supertokens-auth-react";
import EmailPassword from "supertokens-auth-react/recipe/emailpassword";
import MultiFactorAuth from "supertokens-auth-react/recipe/multifactorauth";
import Session, { SessionAuth } from "supertokens-auth-react/recipe/session";
import TOTP from "supertokens-auth-react/recipe/totp";
import { MFATOTP } from "supertokens-auth-react/recipe/totp/prebuiltui";

const config = window.GINAUTH_DEMO_CONFIG ?? {};

SuperTokens.init({
  appInfo: {
    appName: "ginauth TOTP test",
    apiDomain: config.apiDomain,
    websiteDomain: window.location.origin,
    apiBasePath: "/auth",
    websiteBasePath: "/auth",
  },
  recipeList: [EmailPassword.init(), MultiFactorAuth.init(), TOTP.init(), Session.init({ tokenTransferMethod: "cookie" })],
});

window.stx = {
  ready: true,
  signUp: (email, password) =>
    EmailPassword.signUp({ formFields: [{ id: "email", value: email }, { id: "password", value: password }] }),
  doesSessionExist: () => Session.doesSessionExist(),
};

const mount = new URLSearchParams(location.search).get("mount") === "1";

createRoot(document.getElementById("root")).render(
  <SuperTokensWrapper>
    {mount ? (
      <SessionAuth requireAuth={true}>
        <MFATOTP />
      </SessionAuth>
    ) : (
      <p data-testid="idle">not mounted</p>
    )}
  </SuperTokensWrapper>,
);
