package ginauth

import (
	"time"

	"github.com/gin-contrib/cors"
)

// CORSConfig returns a gin-contrib/cors configuration for the default
// instance: the website domain as the one allowed origin, credentials on,
// the SDK headers allowed and the session headers exposed.
//
//	r.Use(cors.New(ginauth.CORSConfig()))
func CORSConfig() cors.Config { return mustDefault().CORSConfig() }

// CORSConfig returns a gin-contrib/cors configuration that lets the
// website's frontend SDK talk to this API with credentials.
func (a *Auth) CORSConfig() cors.Config {
	return cors.Config{
		AllowOrigins:     []string{a.s.websiteDomain},
		AllowMethods:     []string{"GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"},
		AllowHeaders:     append([]string{"Content-Type"}, CORSHeaders()...),
		ExposeHeaders:    []string{HeaderFrontToken, HeaderAccessToken, HeaderRefreshToken, HeaderAntiCSRF},
		AllowCredentials: true,
		MaxAge:           12 * time.Hour,
	}
}
