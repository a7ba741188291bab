// Command stserver runs the conformance test servers that
// supertokens-website's test suite talks to: one on the main origin and
// one on the cross-domain origin, sharing their apps (databases), as the
// suite's two servers share one SuperTokens core. See
// tests/conformance/README.md.
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/ginauth/ginauth/tests/conformance"
)

func main() {
	port := flag.Int("port", 8080, "main server port (the suite's BASE_URL)")
	crossPort := flag.Int("cross-port", 8082, "cross-domain server port (the suite's CROSS_DOMAIN_NODE_URL); 0 for none")
	website := flag.String("website", "", "website origin for CORS (default http://localhost:<port>)")
	suiteDir := flag.String("suite-server-dir", "", "supertokens-website's test/server folder (index.html, angular/)")
	version := flag.String("package-version", "", "supertokens-website's version, for /getPackageVersion")
	dataDir := flag.String("data-dir", "", "folder for the app databases (default: a temporary folder, removed at exit)")
	accessLog := flag.Bool("access-log", false, "log every request to stderr")
	flag.Parse()
	gin.SetMode(gin.ReleaseMode)

	dir := *dataDir
	if dir == "" {
		d, err := os.MkdirTemp("", "ginauth-conformance-")
		if err != nil {
			log.Fatal(err)
		}
		defer os.RemoveAll(d)
		dir = d
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		log.Fatal(err)
	}
	apps := conformance.NewApps(dir, secret)
	defer apps.Close()
	if *website == "" {
		*website = fmt.Sprintf("http://localhost:%d", *port)
	}

	var servers []*http.Server
	for _, p := range []int{*port, *crossPort} {
		if p == 0 {
			continue
		}
		opts := conformance.Options{
			APIDomain:      fmt.Sprintf("http://0.0.0.0:%d", p), // as the reference's appInfo
			WebsiteDomain:  *website,
			SuiteServerDir: *suiteDir,
			PackageVersion: *version,
		}
		if *accessLog {
			opts.AccessLog = os.Stderr
		}
		s, err := conformance.NewServer(opts, apps)
		if err != nil {
			log.Fatal(err)
		}
		hs := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
		servers = append(servers, hs)
		// Loopback only, IPv4 and IPv6: "localhost" may resolve to either
		// (node and Chromium disagree).
		for i, host := range []string{"127.0.0.1", "::1"} {
			ln, err := net.Listen("tcp", net.JoinHostPort(host, fmt.Sprint(p)))
			if err != nil {
				if i == 0 {
					log.Fatal(err)
				}
				continue // no IPv6 loopback here
			}
			go func() {
				if err := hs.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
					log.Fatal(err)
				}
			}()
		}
		log.Printf("conformance server listening on :%d", p)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	<-ctx.Done()
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	for _, hs := range servers {
		_ = hs.Shutdown(sctx)
	}
}
