// supertokens-auth-react's e-mail code MFA screen (the passwordless
// "otp-email" feature, which its /auth/mfa/otp-email route renders),
// embedded in a page: it asks PUT /auth/mfa/info on mount, sends a code to
// the user's address (POST /auth/signinup/code with
// shouldTryLinkingWithSessionUser) and consumes the code typed in. The test
// signs in with e-mail and password through window.stx and loads ?mount=1.
import Passwordless from "supertokens-auth-react/recipe/passwordless";
import { PasswordlessPreBuiltUI } from "supertokens-auth-react/recipe/passwordless/prebuiltui";
import { mfaTestPage } from "./mfa-page.jsx";

mfaTestPage({
  appName: "ginauth e-mail code MFA test",
  mfa: { firstFactors: ["emailpassword", "thirdparty", "webauthn"] },
  recipes: [Passwordless.init({ contactMethod: "EMAIL_OR_PHONE" })],
  doneURL: "/st/otp-mfa.html?done=1",
  screen: () => PasswordlessPreBuiltUI.getInstanceOrInitAndGetInstance().getFeatureComponent("otp-email", {}),
  checkClaims: false,
});
