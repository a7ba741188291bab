package main

import (
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"syscall"

	"github.com/ginauth/ginauth/example/devoidc"
	"github.com/ginauth/ginauth/recipes/thirdparty"
)

// devOIDCID is the thirdPartyId of the local development provider; its
// callback page on the website is /auth/callback/dev-oidc.
const devOIDCID = "dev-oidc"

// startDevOIDC starts the local OpenID Connect provider (DEMO_OIDC=1) and
// returns it with the thirdparty provider that signs in through it. The
// client secret is random per run: both ends live in this process.
func startDevOIDC(cfg config, log *slog.Logger) (*devoidc.Server, thirdparty.Provider, error) {
	b := make([]byte, 24)
	_, _ = rand.Read(b)
	client := thirdparty.Client{ClientID: "ginauth-demo", ClientSecret: base64.RawURLEncoding.EncodeToString(b)}
	local, _, _ := strings.Cut(cfg.DevOIDCEmail, "@")
	// Every frontend (WEBSITE_ORIGINS too) has its own callback page.
	// WebsiteOrigins are normalised already ("com.example.app://" must keep
	// its slashes).
	redirects := []string{strings.TrimRight(cfg.WebsiteDomain, "/") + "/auth/callback/" + devOIDCID}
	for _, o := range cfg.WebsiteOrigins {
		redirects = append(redirects, o+"/auth/callback/"+devOIDCID)
	}
	idp, err := devoidc.Start(devoidc.Config{
		Addr:         cfg.DevOIDCAddr,
		ClientID:     client.ClientID,
		ClientSecret: client.ClientSecret,
		RedirectURIs: redirects,
		User: devoidc.User{Subject: "dev-" + local, Email: cfg.DevOIDCEmail, EmailVerified: true,
			Name: "Dev User"},
		Logger: log,
	})
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, thirdparty.Provider{}, fmt.Errorf("%s is already in use by another program: stop it, or set DEMO_OIDC_ADDR to another host:port: %w",
			cfg.DevOIDCAddr, err)
	}
	if err != nil {
		return nil, thirdparty.Provider{}, err
	}
	log.Warn("demo: DEMO_OIDC=1: a development OpenID Connect provider approves anyone as "+cfg.DevOIDCEmail+
		"; never enable this in production", "issuer", idp.Issuer())
	p := thirdparty.OIDC(devOIDCID, idp.Issuer(), client)
	p.Name = "Dev OIDC"
	return idp, p, nil
}

// realProviders are the social sign-ins configured from the environment.
func realProviders(cfg config) []thirdparty.Provider {
	var out []thirdparty.Provider
	if cfg.Google.ID != "" {
		out = append(out, thirdparty.Google(thirdparty.Client{ClientID: cfg.Google.ID, ClientSecret: cfg.Google.Secret}))
	}
	if cfg.GitHub.ID != "" {
		out = append(out, thirdparty.GitHub(thirdparty.Client{ClientID: cfg.GitHub.ID, ClientSecret: cfg.GitHub.Secret}))
	}
	return out
}
