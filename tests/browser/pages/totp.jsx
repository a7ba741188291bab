// supertokens-auth-react's TOTP screen (MFATOTP, the component its
// /auth/mfa/totp route renders), embedded in a page: each load mounts it
// afresh, and on mount it asks PUT /auth/mfa/info and, while the user has no
// verified device, POST /auth/totp/device, showing the new secret. The test
// signs up through window.stx and reloads the page.
import TOTP from "supertokens-auth-react/recipe/totp";
import { MFATOTP } from "supertokens-auth-react/recipe/totp/prebuiltui";
import { mfaTestPage } from "./mfa-page.jsx";

mfaTestPage({
  appName: "ginauth TOTP test",
  recipes: [TOTP.init()],
  screen: () => <MFATOTP />,
});
