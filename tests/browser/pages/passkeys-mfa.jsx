// supertokens-auth-react's passkey MFA screen (the "webauthn-mfa" feature,
// which its /auth/mfa/webauthn route renders), embedded in a page: it asks
// PUT /auth/mfa/info on mount and either registers a passkey as a new
// factor or signs in with one to complete the factor. The test signs in
// with e-mail and password through window.stx and loads ?mount=1.
import Webauthn from "supertokens-auth-react/recipe/webauthn";
import { WebauthnPreBuiltUI } from "supertokens-auth-react/recipe/webauthn/prebuiltui";
import { mfaTestPage } from "./mfa-page.jsx";

mfaTestPage({
  appName: "ginauth passkey MFA test",
  recipes: [Webauthn.init()],
  doneURL: "/st/passkeys-mfa.html?done=1",
  screen: () => WebauthnPreBuiltUI.getInstanceOrInitAndGetInstance().getFeatureComponent("webauthn-mfa", {}),
});
