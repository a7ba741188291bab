package ginauth

import (
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/net/publicsuffix"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/internal/jws"
)

// AppInfo describes where the API and the website live. The frontend SDKs
// are configured with the same values.
type AppInfo struct {
	// AppName is shown in e-mails and authenticator apps.
	AppName string
	// APIDomain is the scheme, host and port of this API, e.g.
	// "https://api.example.com".
	APIDomain string
	// WebsiteDomain is the scheme, host and port of the website that uses
	// the API, e.g. "https://example.com". With several frontends it is the
	// default origin: the one of links built outside a request, and of a
	// request whose origin is not listed.
	WebsiteDomain string
	// WebsiteOrigins lists further origins of frontends served by this API
	// (SuperTokens' "several frontends, one backend"), e.g.
	// "https://staging.example.com" or a mobile app's "com.example.app://".
	// A request's website origin is its Origin header when that is
	// WebsiteDomain or one of these, else WebsiteDomain: it decides the
	// links in the e-mails the request sends, the cookies' SameSite and the
	// anti-CSRF default. CORSConfig allows exactly these origins, the
	// WebsiteDomain and the API's own. See docs/multi-app.md.
	WebsiteOrigins []string
	// Origin, when set, picks a request's website origin instead of its
	// Origin header (SuperTokens' appInfo.origin function), e.g. from a
	// header a mobile app sends. Its answer must be WebsiteDomain or one of
	// WebsiteOrigins (compared after normalising); any other answer, ""
	// included, means WebsiteDomain, so that no link ever points to an
	// origin that is not listed. It is not called for links built outside
	// a request, which use WebsiteDomain. It may be called several times
	// per request: keep it cheap and free of side effects.
	Origin func(r *http.Request) string
	// APIBasePath is where the auth routes live. Default "/auth".
	APIBasePath string
	// WebsiteBasePath is where the website's auth pages live (links in
	// e-mails point there). Default "/auth".
	WebsiteBasePath string
}

// AntiCSRFMode is how refreshes and cookie-carried sessions are protected
// against cross-site requests; the values are SuperTokens' names.
type AntiCSRFMode string

// Anti-CSRF modes, as SuperTokens names them.
const (
	AntiCSRFNone            AntiCSRFMode = "NONE"
	AntiCSRFViaCustomHeader AntiCSRFMode = "VIA_CUSTOM_HEADER"
	AntiCSRFViaToken        AntiCSRFMode = "VIA_TOKEN"
)

// Valid reports whether m is one of the AntiCSRF* modes.
func (m AntiCSRFMode) Valid() bool {
	switch m {
	case AntiCSRFNone, AntiCSRFViaCustomHeader, AntiCSRFViaToken:
		return true
	}
	return false
}

// ParseAntiCSRFMode reads a mode from configuration text (an environment
// variable, say); the error names the bad value.
func ParseAntiCSRFMode(s string) (AntiCSRFMode, error) {
	if m := AntiCSRFMode(s); m.Valid() {
		return m, nil
	}
	return "", fmt.Errorf("%w: anti-CSRF mode %q is not one of NONE, VIA_CUSTOM_HEADER, VIA_TOKEN", ErrConfig, s)
}

// SigningAlgorithm is the JWS algorithm access tokens are signed with.
type SigningAlgorithm string

// Signing algorithms ginauth can sign access tokens with.
const (
	SigningRS256 SigningAlgorithm = jws.RS256
	SigningES256 SigningAlgorithm = jws.ES256
	SigningEdDSA SigningAlgorithm = jws.EdDSA
)

// Valid reports whether a is one of the Signing* algorithms.
func (a SigningAlgorithm) Valid() bool {
	switch a {
	case SigningRS256, SigningES256, SigningEdDSA:
		return true
	}
	return false
}

// ParseSigningAlgorithm reads an algorithm from configuration text; the
// error names the bad value.
func ParseSigningAlgorithm(s string) (SigningAlgorithm, error) {
	if a := SigningAlgorithm(s); a.Valid() {
		return a, nil
	}
	return "", fmt.Errorf("%w: signing algorithm %q is not one of RS256, ES256, EdDSA", ErrConfig, s)
}

// SessionConfig tunes sessions. The zero value gives SuperTokens' defaults.
type SessionConfig struct {
	// AccessTokenValidity defaults to one hour.
	AccessTokenValidity time.Duration
	// RefreshTokenValidity defaults to 100 days. A refresh extends it.
	RefreshTokenValidity time.Duration
	// SigningAlgorithm is SigningRS256 (default), SigningES256 or
	// SigningEdDSA.
	SigningAlgorithm SigningAlgorithm
	// KeyRotationInterval is how long one signing key signs. Default 7 days.
	KeyRotationInterval time.Duration
	// ClockSkew is the leeway allowed on exp and iat. Default 5 seconds.
	ClockSkew time.Duration

	// CookieSameSite: 0 chooses as SuperTokens does (Lax when the API and
	// the website share a site and a scheme, None otherwise).
	CookieSameSite http.SameSite
	// CookieSecure: nil means secure when APIDomain is https.
	CookieSecure *bool
	// CookieDomain sets the Domain attribute; empty leaves it out.
	CookieDomain string
	// OlderCookieDomain is the Domain attribute the session cookies had
	// before CookieDomain was changed. A browser may then hold both the old
	// and the new cookies; a refresh that sees a session cookie twice clears
	// the one under this domain and answers 200 so that the SDK retries.
	// Without it such a refresh is refused with a 500 naming this setting,
	// as supertokens-node does.
	OlderCookieDomain string
	// AccessTokenPath is the access-token cookie's Path. Default "/".
	AccessTokenPath string
	// AntiCSRF is one of the AntiCSRF* constants. Empty chooses as
	// SuperTokens does: VIA_CUSTOM_HEADER when SameSite is None, else NONE.
	AntiCSRF AntiCSRFMode
	// ExposeAccessTokenInCookieMode also sends the access token in the
	// st-access-token response header when the session travels in cookies
	// (supertokens-node's exposeAccessTokenToFrontendInCookieBasedAuth), so
	// that the frontend SDK's getAccessToken() returns it, e.g. to call
	// another service that verifies it through the JWKS. The cookies stay
	// HttpOnly and the SDK keeps using them; only a token readable by page
	// scripts is added, which an XSS could then steal: leave it off unless
	// the frontend needs the token.
	ExposeAccessTokenInCookieMode bool

	// Claims are added to the access-token payload of every new session.
	Claims []claims.Claim
	// GlobalValidators run on every VerifySession unless the route
	// overrides them.
	GlobalValidators []claims.Validator

	// CleanupInterval is how often DeleteExpired sweeps expired sessions,
	// ended rate-limit windows and dead signing keys (in the background,
	// started by a refresh). Default one hour; negative disables it.
	CleanupInterval time.Duration

	// VerifyCacheSize bounds the cache of access tokens already verified,
	// which lets a repeat verify skip the signature check. 0 means the
	// default (10000 tokens); negative disables the cache.
	VerifyCacheSize int
}

// Config configures an Auth. DB and AppInfo's domains are required;
// everything else has a default.
type Config struct {
	// DB is the app's own database. The ginauth tables must exist in it
	// (see models.AutoMigrate); New names any that are missing.
	DB      *gorm.DB
	AppInfo AppInfo
	Recipes []Recipe
	Session SessionConfig
	Hooks   Hooks
	// RateLimit limits sign-in, reset, verification and code attempts. The
	// zero value turns it on with the defaults.
	RateLimit RateLimitConfig

	// SecretKey is the server secret: 32 random bytes kept outside the
	// database (an environment variable, a secret manager). It binds each
	// refresh token to the token it was issued from, so that no one can
	// forge one from the hashes an access token shows, and it seals the
	// access-token signing keys stored in ginauth_signing_keys. Generate
	// one with `openssl rand -base64 32`. Without it ginauth still works,
	// with a generated key stored in the database and the signing keys
	// unsealed, and New logs a warning: see docs/configuration.md.
	SecretKey []byte
	// OldSecretKeys are former SecretKeys, kept while rotating: what they
	// sealed still opens (and is re-sealed under SecretKey), and refresh
	// tokens they bound still work until they are used.
	OldSecretKeys [][]byte

	// Logger receives ginauth's log lines. Default slog.Default().
	Logger *slog.Logger
	// Now is the clock. Default time.Now. Tests inject their own.
	Now func() time.Time
	// ErrorHandler writes errors. Default DefaultErrorHandler.
	ErrorHandler ErrorHandler
	// DBTimeout bounds the database work of one auth request (and of a
	// VerifySession that reads the database), so that a hung database
	// answers 503 instead of holding requests. Default 10 seconds;
	// negative means no bound beyond the request's own context.
	DBTimeout time.Duration
}

// settings are the validated, defaulted values derived from a Config.
type settings struct {
	apiDomain, websiteDomain        string
	apiBasePath, websiteBasePath    string
	issuer                          string
	accessValidity, refreshValidity time.Duration
	rotation, skew, cleanupInterval time.Duration
	alg                             string
	sameSite                        http.SameSite
	secure                          bool
	cookieDomain, accessTokenPath   string
	olderCookieDomain               string
	dbTimeout                       time.Duration
	refreshTokenPath                string
	antiCSRF                        AntiCSRFMode
	exposeAccessToken               bool

	// Several frontends (origin.go). defaultOrigin describes websiteDomain;
	// origins maps each listed origin, lower-cased, to its description;
	// multiOrigin is false when WebsiteDomain is the only origin, which
	// keeps the single-frontend path free of per-request work.
	defaultOrigin *websiteOrigin
	origins       map[string]*websiteOrigin
	multiOrigin   bool
	originFunc    func(*http.Request) string
	antiCSRFFixed bool // Session.AntiCSRF was set: the same mode for every origin
}

func (cfg *Config) validate() (settings, error) {
	var s settings
	fail := func(format string, args ...any) (settings, error) {
		return settings{}, fmt.Errorf("%w: %s", ErrConfig, fmt.Sprintf(format, args...))
	}
	if cfg.DB == nil {
		return fail("DB is nil: pass the app's *gorm.DB")
	}
	if err := checkSecretKeys(cfg); err != nil {
		return settings{}, err
	}
	var err error
	if s.apiDomain, err = normaliseDomain(cfg.AppInfo.APIDomain); err != nil {
		return fail("AppInfo.APIDomain: %v", err)
	}
	if s.websiteDomain, err = normaliseDomain(cfg.AppInfo.WebsiteDomain); err != nil {
		return fail("AppInfo.WebsiteDomain: %v", err)
	}
	if s.apiBasePath, err = normalisePath(cfg.AppInfo.APIBasePath); err != nil {
		return fail("AppInfo.APIBasePath: %v", err)
	}
	if s.websiteBasePath, err = normalisePath(cfg.AppInfo.WebsiteBasePath); err != nil {
		return fail("AppInfo.WebsiteBasePath: %v", err)
	}
	s.issuer = s.apiDomain + s.apiBasePath

	sc := cfg.Session
	s.accessValidity = orDefault(sc.AccessTokenValidity, time.Hour)
	s.refreshValidity = orDefault(sc.RefreshTokenValidity, 100*24*time.Hour)
	s.rotation = orDefault(sc.KeyRotationInterval, 7*24*time.Hour)
	s.skew = orDefault(sc.ClockSkew, 5*time.Second)
	s.cleanupInterval = orDefault(sc.CleanupInterval, time.Hour)
	s.dbTimeout = orDefault(cfg.DBTimeout, 10*time.Second)
	if s.accessValidity < 0 || s.refreshValidity < 0 || s.rotation < 0 || s.skew < 0 {
		return fail("Session durations must not be negative")
	}
	if s.refreshValidity < s.accessValidity {
		return fail("Session.RefreshTokenValidity (%s) is shorter than AccessTokenValidity (%s)", s.refreshValidity, s.accessValidity)
	}
	alg := sc.SigningAlgorithm
	if alg == "" {
		alg = SigningRS256
	}
	if !alg.Valid() {
		return fail("Session.SigningAlgorithm %q is not one of RS256, ES256, EdDSA", alg)
	}
	s.alg = string(alg)
	// A misspelt action would configure nothing and leave the default
	// limit on: New refuses it by name once the recipes have declared
	// their own actions (Registrar.RateLimitAction).
	for action, l := range cfg.RateLimit.Limits {
		for _, r := range []Rule{l.PerIP, l.PerAccount} {
			if r.Max > 0 && r.Window <= 0 {
				return fail("RateLimit.Limits[%q]: a rule with Max %d needs a positive Window", action, r.Max)
			}
		}
	}

	apiURL, _ := url.Parse(s.apiDomain)
	s.secure = apiURL.Scheme == "https"
	if sc.CookieSecure != nil {
		s.secure = *sc.CookieSecure
	}
	if err := s.setOrigins(cfg); err != nil {
		return settings{}, err
	}
	s.sameSite = s.defaultOrigin.sameSite
	s.cookieDomain = sc.CookieDomain
	s.olderCookieDomain = sc.OlderCookieDomain
	s.exposeAccessToken = sc.ExposeAccessTokenInCookieMode
	s.accessTokenPath = sc.AccessTokenPath
	if s.accessTokenPath == "" {
		s.accessTokenPath = "/"
	}
	s.refreshTokenPath = s.apiBasePath + "/session/refresh"
	s.antiCSRF = sc.AntiCSRF
	switch s.antiCSRF {
	case "":
		// As SuperTokens, per origin: VIA_CUSTOM_HEADER where SameSite is
		// None. s.antiCSRF becomes the strictest of them (origin.go).
		s.antiCSRF = AntiCSRFNone
		for _, o := range s.origins {
			o.antiCSRF = AntiCSRFNone
			if o.sameSite == http.SameSiteNoneMode {
				o.antiCSRF = AntiCSRFViaCustomHeader
				s.antiCSRF = AntiCSRFViaCustomHeader
			}
		}
	case AntiCSRFNone, AntiCSRFViaCustomHeader, AntiCSRFViaToken:
		s.antiCSRFFixed = true
		for _, o := range s.origins {
			o.antiCSRF = s.antiCSRF
		}
	default:
		return fail("Session.AntiCSRF %q is not one of NONE, VIA_CUSTOM_HEADER, VIA_TOKEN", s.antiCSRF)
	}
	return s, nil
}

func orDefault(d, def time.Duration) time.Duration {
	if d == 0 {
		return def
	}
	return d
}

func normaliseDomain(raw string) (string, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return "", fmt.Errorf("required, e.g. \"http://localhost:3001\"")
	}
	if !strings.Contains(raw, "://") {
		raw = "https://" + raw
		if h := strings.Split(strings.TrimPrefix(raw, "https://"), ":")[0]; isLocal(h) {
			raw = "http://" + strings.TrimPrefix(raw, "https://")
		}
	}
	u, err := url.Parse(raw)
	if err != nil {
		return "", err
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return "", fmt.Errorf("scheme %q is not http or https", u.Scheme)
	}
	if u.Host == "" {
		return "", fmt.Errorf("%q has no host", raw)
	}
	if u.Path != "" && u.Path != "/" {
		return "", fmt.Errorf("%q has a path; put paths in the base path fields", raw)
	}
	return u.Scheme + "://" + u.Host, nil
}

func normalisePath(p string) (string, error) {
	p = strings.TrimSpace(p)
	if p == "" {
		return "/auth", nil
	}
	if !strings.HasPrefix(p, "/") {
		p = "/" + p
	}
	p = strings.TrimRight(p, "/")
	if strings.ContainsAny(p, "?#* :") {
		return "", fmt.Errorf("%q is not a plain path", p)
	}
	return p, nil // "" means the root
}

func isLocal(host string) bool {
	return host == "localhost" || strings.HasSuffix(host, ".localhost") || net.ParseIP(host) != nil
}

// siteOf returns the registrable domain (eTLD+1) of host, or host itself.
func siteOf(host string) string {
	if net.ParseIP(host) != nil || host == "localhost" {
		return host
	}
	site, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return host
	}
	return site
}
