// What the tests' auth-react MFA pages (totp.jsx, passkeys-mfa.jsx,
// otp-mfa.jsx) share: SuperTokens' init on the demo API (its address from
// the demo website's /config.js), in cookie mode, with EmailPassword as
// the first factor; window.stx, through which the tests sign in, out and
// read the session; and the page itself, which mounts the factor's screen
// inside SessionAuth on ?mount=1 and shows "not mounted" otherwise.
import { createRoot } from "react-dom/client";
import SuperTokens, { SuperTokensWrapper } from "supertokens-auth-react";
import EmailPassword from "supertokens-auth-react/recipe/emailpassword";
import MultiFactorAuth from "supertokens-auth-react/recipe/multifactorauth";
import Session, { SessionAuth } from "supertokens-auth-react/recipe/session";

/**
 * @param {object} o
 * @param {string} o.appName
 * @param {object} [o.mfa] MultiFactorAuth.init's config
 * @param {object[]} o.recipes the factor's recipes, initialised
 * @param {string} [o.doneURL] where the screen sends the user on success
 * @param {() => import("react").ReactNode} o.screen the factor's screen, made after the init
 * @param {boolean} [o.checkClaims] false: SessionAuth checks no claim
 */
export function mfaTestPage({ appName, mfa, recipes, doneURL, screen, checkClaims = true }) {
  const config = window.GINAUTH_DEMO_CONFIG ?? {};
  SuperTokens.init({
    appInfo: {
      appName,
      apiDomain: config.apiDomain,
      websiteDomain: window.location.origin,
      apiBasePath: "/auth",
      websiteBasePath: "/auth",
    },
    recipeList: [EmailPassword.init(), MultiFactorAuth.init(mfa), ...recipes, Session.init({ tokenTransferMethod: "cookie" })],
    // The screen sends the user on when done: back to the page, unmounted.
    ...(doneURL && { getRedirectionURL: async (ctx) => (ctx.action === "SUCCESS" ? doneURL : undefined) }),
  });

  const form = (email, password) => ({ formFields: [{ id: "email", value: email }, { id: "password", value: password }] });
  window.stx = {
    ready: true,
    signUp: (email, password) => EmailPassword.signUp(form(email, password)),
    signIn: (email, password) => EmailPassword.signIn(form(email, password)),
    signOut: () => Session.signOut(),
    payload: () => Session.getAccessTokenPayloadSecurely(),
    doesSessionExist: () => Session.doesSessionExist(),
  };

  const mount = new URLSearchParams(location.search).get("mount") === "1";
  // With checkClaims false, the MFA claim the screen completes is not
  // checked (as auth-react's own /auth/mfa/* routes do), or SessionAuth
  // would send a user who still needs the factor away to the factor chooser.
  const claims = checkClaims ? {} : { overrideGlobalClaimValidators: () => [] };
  createRoot(document.getElementById("root")).render(
    <SuperTokensWrapper>
      {mount ? (
        <SessionAuth requireAuth={true} {...claims}>
          {screen()}
        </SessionAuth>
      ) : (
        <p data-testid="idle">not mounted</p>
      )}
    </SuperTokensWrapper>,
  );
}
