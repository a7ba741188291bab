// Package smtptest runs a real SMTP server in the test process, so that
// tests can send mail through the network code they ship and read it back.
//
//	srv := smtptest.Start(t)
//	sender, _ := emaildelivery.NewSMTPSender(emaildelivery.SMTPConfig{
//		Host: srv.Host(), Port: srv.Port(), From: "app@example.com",
//		Username: "user", Password: "pass",
//		TLSConfig: srv.ClientTLSConfig(),
//	})
//	// ... code under test sends ...
//	m := srv.WaitForMessage(t, 5*time.Second)
//	link := m.Links()[0]
//
// The server listens on 127.0.0.1:0 and speaks EHLO/HELO, STARTTLS (with a
// self-signed certificate made for the test), AUTH PLAIN, MAIL FROM,
// RCPT TO, DATA, RSET, NOOP and QUIT. Options make it speak implicit TLS,
// withhold STARTTLS, or check credentials. It stops when the test ends.
package smtptest

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"fmt"
	"io"
	"math/big"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Options change how the server behaves. The zero value offers STARTTLS
// and AUTH PLAIN and accepts any credentials (and mail without them).
type Options struct {
	// ImplicitTLS makes the server speak TLS from the first byte (SMTPS).
	ImplicitTLS bool
	// NoSTARTTLS stops the server offering STARTTLS; it still offers AUTH
	// in the clear, to catch clients that would send credentials anyway.
	NoSTARTTLS bool
	// Username and Password, when Username is set, are the only accepted
	// credentials (535 otherwise), and MAIL needs a successful AUTH (530).
	Username string
	Password string
}

// Message is one mail the server accepted.
type Message struct {
	// From and To are the envelope (MAIL FROM and RCPT TO) addresses.
	From string
	To   []string
	// Data is the message as received after DATA, dot-stuffing undone,
	// with CRLF line endings.
	Data []byte
	// Header is the parsed message header.
	Header mail.Header
	// Subject is the decoded Subject header.
	Subject string
	// Text and HTML are the decoded text/plain and text/html bodies.
	Text string
	HTML string
	// TLS reports whether the mail came over TLS; AuthUser is who logged
	// in ("" when nobody did).
	TLS      bool
	AuthUser string
	// ParseError is set when the message could not be parsed as MIME.
	ParseError error
}

var linkRE = regexp.MustCompile(`https?://[^\s"'<>]+`)

// Links returns the URLs in the text body, in order.
func (m Message) Links() []string { return linkRE.FindAllString(m.Text, -1) }

// Command is one command line the server received.
type Command struct {
	// Verb is the upper-cased command ("EHLO", "AUTH", ...).
	Verb string
	// Line is the whole line, except that AUTH arguments are replaced by
	// "[redacted]".
	Line string
	// TLS reports whether the command came over TLS.
	TLS bool
}

// Server is a running test SMTP server.
type Server struct {
	opts     Options
	ln       net.Listener
	cert     tls.Certificate
	roots    *x509.CertPool
	wg       sync.WaitGroup
	mu       sync.Mutex
	conns    map[net.Conn]bool
	msgs     []Message
	cmds     []Command
	consumed int
	arrived  chan struct{}
	closed   bool
}

// Start starts a server with the zero Options and stops it when t ends.
func Start(t testing.TB) *Server { return StartWith(t, Options{}) }

// StartWith starts a server with opts and stops it when t ends.
func StartWith(t testing.TB, opts Options) *Server {
	t.Helper()
	cert, roots, err := testCert()
	if err != nil {
		t.Fatalf("smtptest: certificate: %v", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("smtptest: listen: %v", err)
	}
	s := &Server{opts: opts, ln: ln, cert: cert, roots: roots, conns: map[net.Conn]bool{}, arrived: make(chan struct{}, 1)}
	s.wg.Add(1)
	go s.serve()
	t.Cleanup(s.Close)
	return s
}

// Addr returns the server's "127.0.0.1:port".
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Host returns "127.0.0.1".
func (s *Server) Host() string { return "127.0.0.1" }

// Port returns the port the server listens on.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// RootCAs returns a pool holding the server's self-signed certificate.
func (s *Server) RootCAs() *x509.CertPool { return s.roots }

// ClientTLSConfig returns a client config that trusts the server.
func (s *Server) ClientTLSConfig() *tls.Config {
	return &tls.Config{RootCAs: s.roots, ServerName: s.Host(), MinVersion: tls.VersionTLS12}
}

// Messages returns every message accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Commands returns every command line received so far, across
// connections.
func (s *Server) Commands() []Command {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Command(nil), s.cmds...)
}

// WaitForMessage returns the next message that no earlier WaitForMessage
// call returned, waiting up to timeout for it to arrive; it fails t when
// none does.
func (s *Server) WaitForMessage(t testing.TB, timeout time.Duration) Message {
	t.Helper()
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		if s.consumed < len(s.msgs) {
			m := s.msgs[s.consumed]
			s.consumed++
			s.mu.Unlock()
			return m
		}
		s.mu.Unlock()
		select {
		case <-s.arrived:
		case <-deadline.C:
			t.Fatalf("smtptest: no message arrived within %s", timeout)
			return Message{}
		}
	}
}

// Close stops the server, closes open connections and waits for them.
func (s *Server) Close() {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.closed = true
	for c := range s.conns {
		_ = c.Close()
	}
	s.mu.Unlock()
	_ = s.ln.Close()
	s.wg.Wait()
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()
			_ = c.Close()
			return
		}
		s.conns[c] = true
		s.wg.Add(1)
		s.mu.Unlock()
		go func() {
			defer s.wg.Done()
			defer func() {
				s.mu.Lock()
				delete(s.conns, c)
				s.mu.Unlock()
				_ = c.Close()
			}()
			s.handle(c)
		}()
	}
}

// session is one client connection's state.
type session struct {
	s        *Server
	conn     net.Conn
	tp       *textproto.Conn
	tls      bool
	authUser string
	authed   bool
	from     string
	to       []string
}

func (s *Server) handle(c net.Conn) {
	_ = c.SetDeadline(time.Now().Add(time.Minute))
	ss := &session{s: s, conn: c}
	if s.opts.ImplicitTLS {
		tc := tls.Server(c, &tls.Config{Certificates: []tls.Certificate{s.cert}})
		if err := tc.Handshake(); err != nil {
			return
		}
		ss.conn, ss.tls = tc, true
		s.mu.Lock()
		s.conns[tc] = true
		s.mu.Unlock()
	}
	ss.tp = textproto.NewConn(ss.conn)
	ss.reply(220, "127.0.0.1 smtptest ready")
	for {
		line, err := ss.tp.ReadLine()
		if err != nil {
			return
		}
		verb, arg, _ := strings.Cut(line, " ")
		verb = strings.ToUpper(verb)
		logged := line
		if verb == "AUTH" {
			logged = "AUTH [redacted]"
		}
		s.mu.Lock()
		s.cmds = append(s.cmds, Command{Verb: verb, Line: logged, TLS: ss.tls})
		s.mu.Unlock()
		if !ss.command(verb, arg) {
			return
		}
	}
}

func (ss *session) reply(code int, lines ...string) {
	for i, l := range lines {
		sep := " "
		if i < len(lines)-1 {
			sep = "-"
		}
		_ = ss.tp.PrintfLine("%d%s%s", code, sep, l)
	}
}

// command runs one command; false ends the connection.
func (ss *session) command(verb, arg string) bool {
	o := ss.s.opts
	switch verb {
	case "EHLO", "HELO":
		ss.from, ss.to = "", nil
		if verb == "HELO" {
			ss.reply(250, "127.0.0.1")
			return true
		}
		lines := []string{"127.0.0.1 greets " + arg, "8BITMIME", "PIPELINING"}
		if !ss.tls && !o.NoSTARTTLS {
			lines = append(lines, "STARTTLS")
		}
		lines = append(lines, "AUTH PLAIN")
		ss.reply(250, lines...)
	case "STARTTLS":
		if ss.tls || o.NoSTARTTLS {
			ss.reply(502, "5.5.1 STARTTLS not available")
			return true
		}
		ss.reply(220, "2.0.0 go ahead")
		tc := tls.Server(ss.conn, &tls.Config{Certificates: []tls.Certificate{ss.s.cert}})
		if err := tc.Handshake(); err != nil {
			return false
		}
		ss.s.mu.Lock()
		ss.s.conns[tc] = true
		ss.s.mu.Unlock()
		// RFC 3207: the client starts over after the handshake.
		ss.conn, ss.tp, ss.tls = tc, textproto.NewConn(tc), true
		ss.authed, ss.authUser, ss.from, ss.to = false, "", "", nil
	case "AUTH":
		ss.auth(arg)
	case "MAIL":
		if o.Username != "" && !ss.authed {
			ss.reply(530, "5.7.0 authentication required")
			return true
		}
		addr, ok := pathArg(arg, "FROM:")
		if !ok {
			ss.reply(501, "5.5.4 syntax: MAIL FROM:<address>")
			return true
		}
		ss.from, ss.to = addr, nil
		ss.reply(250, "2.1.0 ok")
	case "RCPT":
		if ss.from == "" {
			ss.reply(503, "5.5.1 MAIL first")
			return true
		}
		addr, ok := pathArg(arg, "TO:")
		if !ok || addr == "" {
			ss.reply(501, "5.5.4 syntax: RCPT TO:<address>")
			return true
		}
		ss.to = append(ss.to, addr)
		ss.reply(250, "2.1.5 ok")
	case "DATA":
		if len(ss.to) == 0 {
			ss.reply(503, "5.5.1 RCPT first")
			return true
		}
		ss.reply(354, "end data with <CR><LF>.<CR><LF>")
		data, err := ss.tp.ReadDotBytes() // undoes dot-stuffing, gives \n endings
		if err != nil {
			return false
		}
		data = bytes.ReplaceAll(data, []byte("\n"), []byte("\r\n"))
		m := parseMessage(data)
		m.From, m.To, m.TLS, m.AuthUser = ss.from, ss.to, ss.tls, ss.authUser
		ss.s.mu.Lock()
		ss.s.msgs = append(ss.s.msgs, m)
		ss.s.mu.Unlock()
		select {
		case ss.s.arrived <- struct{}{}:
		default:
		}
		ss.from, ss.to = "", nil
		ss.reply(250, "2.0.0 queued")
	case "RSET":
		ss.from, ss.to = "", nil
		ss.reply(250, "2.0.0 ok")
	case "NOOP":
		ss.reply(250, "2.0.0 ok")
	case "QUIT":
		ss.reply(221, "2.0.0 bye")
		return false
	default:
		ss.reply(502, "5.5.2 command not recognised")
	}
	return true
}

func (ss *session) auth(arg string) {
	mech, initial, _ := strings.Cut(arg, " ")
	if !strings.EqualFold(mech, "PLAIN") {
		ss.reply(504, "5.5.4 only PLAIN")
		return
	}
	if ss.authed {
		ss.reply(503, "5.5.1 already authenticated")
		return
	}
	if initial == "" {
		ss.reply(334, "")
		l, err := ss.tp.ReadLine()
		if err != nil {
			return
		}
		initial = l
	}
	raw, err := base64.StdEncoding.DecodeString(initial)
	parts := strings.Split(string(raw), "\x00")
	if err != nil || len(parts) != 3 {
		ss.reply(501, "5.5.2 bad PLAIN response")
		return
	}
	user, pass := parts[1], parts[2]
	o := ss.s.opts
	if o.Username != "" && (user != o.Username || pass != o.Password) {
		ss.reply(535, "5.7.8 authentication credentials invalid")
		return
	}
	ss.authed, ss.authUser = true, user
	ss.reply(235, "2.7.0 authentication successful")
}

// pathArg reads "FROM:<a@b>" (with optional parameters after it).
func pathArg(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", false
	}
	return rest[1:end], true
}

// parseMessage decodes the header and the text and HTML bodies.
func parseMessage(data []byte) Message {
	m := Message{Data: data}
	msg, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		m.ParseError = err
		return m
	}
	m.Header = msg.Header
	dec := new(mime.WordDecoder)
	if m.Subject, err = dec.DecodeHeader(msg.Header.Get("Subject")); err != nil {
		m.ParseError = err
	}
	if err := m.readPart(textproto.MIMEHeader(msg.Header), msg.Body); err != nil && m.ParseError == nil {
		m.ParseError = err
	}
	return m
}

func (m *Message) readPart(h textproto.MIMEHeader, body io.Reader) error {
	ct := h.Get("Content-Type")
	if ct == "" {
		ct = "text/plain"
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return err
	}
	if strings.HasPrefix(mt, "multipart/") {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextRawPart()
			if err == io.EOF {
				return nil
			}
			if err != nil {
				return err
			}
			if err := m.readPart(p.Header, p); err != nil {
				return err
			}
		}
	}
	switch strings.ToLower(h.Get("Content-Transfer-Encoding")) {
	case "quoted-printable":
		body = quotedprintable.NewReader(body)
	case "base64":
		body = base64.NewDecoder(base64.StdEncoding, &newlineStripper{r: bufio.NewReader(body)})
	}
	b, err := io.ReadAll(body)
	if err != nil {
		return err
	}
	switch mt {
	case "text/plain":
		m.Text = strings.ReplaceAll(string(b), "\r\n", "\n")
	case "text/html":
		m.HTML = strings.ReplaceAll(string(b), "\r\n", "\n")
	}
	return nil
}

// newlineStripper drops CR and LF, for base64 bodies.
type newlineStripper struct{ r *bufio.Reader }

func (n *newlineStripper) Read(p []byte) (int, error) {
	i := 0
	for i < len(p) {
		b, err := n.r.ReadByte()
		if err != nil {
			if i > 0 {
				return i, nil
			}
			return 0, err
		}
		if b != '\r' && b != '\n' {
			p[i] = b
			i++
		}
	}
	return i, nil
}

var certOnce struct {
	sync.Once
	cert  tls.Certificate
	roots *x509.CertPool
	err   error
}

// testCert makes (once per test binary) a self-signed certificate for
// 127.0.0.1 and localhost.
func testCert() (tls.Certificate, *x509.CertPool, error) {
	certOnce.Do(func() {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			certOnce.err = err
			return
		}
		serial, _ := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
		tmpl := &x509.Certificate{
			SerialNumber:          serial,
			Subject:               pkix.Name{CommonName: "smtptest"},
			NotBefore:             time.Now().Add(-time.Hour),
			NotAfter:              time.Now().Add(24 * time.Hour),
			KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
			ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
			BasicConstraintsValid: true,
			IsCA:                  true,
			IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1), net.IPv6loopback},
			DNSNames:              []string{"localhost"},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			certOnce.err = err
			return
		}
		leaf, err := x509.ParseCertificate(der)
		if err != nil {
			certOnce.err = err
			return
		}
		certOnce.roots = x509.NewCertPool()
		certOnce.roots.AddCert(leaf)
		certOnce.cert = tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	})
	return certOnce.cert, certOnce.roots, certOnce.err
}

// String describes the message briefly, for test failure output.
func (m Message) String() string {
	return fmt.Sprintf("Message{From:%s To:%v Subject:%q TLS:%v AuthUser:%q Size:%d}", m.From, m.To, m.Subject, m.TLS,
		m.AuthUser, len(m.Data))
}
