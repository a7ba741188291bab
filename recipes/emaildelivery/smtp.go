package emaildelivery

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"strings"
	"time"
)

// TLSMode is how an SMTPSender protects its connection.
type TLSMode int

// TLS modes. The zero value, TLSAuto, is implicit TLS on port 465 and
// required STARTTLS on any other port.
const (
	// TLSAuto picks TLSImplicit on port 465 and TLSStartTLS otherwise.
	TLSAuto TLSMode = iota
	// TLSImplicit speaks TLS from the first byte (SMTPS, usually port 465).
	TLSImplicit
	// TLSStartTLS connects in the clear and upgrades with STARTTLS before
	// anything else; a server that does not offer STARTTLS is refused, so
	// credentials and mail never cross the network in the clear.
	TLSStartTLS
	// TLSNone sends in the clear. It is allowed only for a loopback host
	// (a local test server or relay).
	TLSNone
)

// String returns the mode's name.
func (m TLSMode) String() string {
	switch m {
	case TLSAuto:
		return "auto"
	case TLSImplicit:
		return "implicit-tls"
	case TLSStartTLS:
		return "starttls"
	case TLSNone:
		return "none"
	}
	return "TLSMode(" + strconv.Itoa(int(m)) + ")"
}

// Errors an SMTPSender returns (wrapped), besides ErrInvalidEmail.
var (
	// ErrSMTPConfig: NewSMTPSender was given an unusable SMTPConfig.
	ErrSMTPConfig = errors.New("emaildelivery: invalid SMTP config")
	// ErrNoSTARTTLS: the server does not offer STARTTLS although the
	// sender requires it. Nothing was sent, credentials included.
	ErrNoSTARTTLS = errors.New("emaildelivery: the SMTP server does not offer STARTTLS")
	// ErrSMTP: the server could not be reached or refused the mail or
	// the credentials; the wrapped error says which.
	ErrSMTP = errors.New("emaildelivery: SMTP delivery failed")
)

// SMTPConfig configures an SMTPSender. Host and From are required.
type SMTPConfig struct {
	// Host is the SMTP server's name, also used to check its certificate.
	Host string
	// Port defaults to 465 with TLSImplicit and 587 otherwise.
	Port int
	// Username and Password, when Username is set, authenticate with AUTH
	// PLAIN, always over TLS (or to a loopback host with TLSNone).
	Username string
	Password string
	// From is the sender: "noreply@example.com" or
	// "Example <noreply@example.com>".
	From string
	// TLS is the connection security; see TLSMode.
	TLS TLSMode
	// TLSConfig overrides the TLS client settings (tests set RootCAs). Nil
	// means the system roots; ServerName defaults to Host.
	TLSConfig *tls.Config
	// Timeout bounds one whole delivery, dial to QUIT. Default 30 seconds.
	// A shorter deadline on the Send context wins.
	Timeout time.Duration
	// LocalName is the name sent in EHLO. Default "localhost".
	LocalName string
	// Now stamps the Date header. Default time.Now.
	Now func() time.Time
}

// String describes the config without the password.
func (c SMTPConfig) String() string {
	pw := ""
	if c.Password != "" {
		pw = "[redacted]"
	}
	return fmt.Sprintf("SMTPConfig{Host:%s Port:%d Username:%s Password:%s From:%s TLS:%s Timeout:%s}",
		c.Host, c.Port, c.Username, pw, c.From, c.TLS, c.Timeout)
}

// GoString is String, so that %#v does not print the password either.
func (c SMTPConfig) GoString() string { return c.String() }

// LogValue logs the config without the password.
func (c SMTPConfig) LogValue() slog.Value {
	return slog.GroupValue(slog.String("host", c.Host), slog.Int("port", c.Port), slog.String("username", c.Username),
		slog.String("from", c.From), slog.String("tls", c.TLS.String()))
}

// SMTPSender is a Sender that delivers through an SMTP server, one
// connection per e-mail, using net/smtp. Build it with NewSMTPSender; it is
// safe for concurrent use.
type SMTPSender struct {
	cfg  SMTPConfig
	from *mail.Address
	addr string
	tls  *tls.Config
}

// NewSMTPSender validates cfg, fills in its defaults and returns the
// sender. It does not connect.
func NewSMTPSender(cfg SMTPConfig) (*SMTPSender, error) {
	fail := func(format string, args ...any) (*SMTPSender, error) {
		return nil, fmt.Errorf("%w: %s", ErrSMTPConfig, fmt.Sprintf(format, args...))
	}
	cfg.Host = strings.TrimSpace(cfg.Host)
	if cfg.Host == "" || strings.ContainsAny(cfg.Host, " /\r\n") {
		return fail("Host %q must be a host name or address", cfg.Host)
	}
	if cfg.Port < 0 || cfg.Port > 65535 {
		return fail("Port %d is out of range", cfg.Port)
	}
	switch cfg.TLS {
	case TLSAuto:
		cfg.TLS = TLSStartTLS
		if cfg.Port == 465 {
			cfg.TLS = TLSImplicit
		}
	case TLSImplicit, TLSStartTLS:
	case TLSNone:
		if !isLoopback(cfg.Host) {
			return fail("TLS none is only allowed for a loopback host, not %q", cfg.Host)
		}
	default:
		return fail("TLS mode %d is unknown", cfg.TLS)
	}
	if cfg.Port == 0 {
		cfg.Port = 587
		if cfg.TLS == TLSImplicit {
			cfg.Port = 465
		}
	}
	from, err := parseAddress("From", cfg.From)
	if err != nil {
		return fail("%v", err)
	}
	if cfg.Password != "" && cfg.Username == "" {
		return fail("Password is set but Username is empty")
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = 30 * time.Second
	}
	if cfg.LocalName == "" {
		cfg.LocalName = "localhost"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	tc := &tls.Config{}
	if cfg.TLSConfig != nil {
		tc = cfg.TLSConfig.Clone()
	}
	if tc.ServerName == "" {
		tc.ServerName = cfg.Host
	}
	if tc.MinVersion == 0 {
		tc.MinVersion = tls.VersionTLS12
	}
	return &SMTPSender{cfg: cfg, from: from, addr: net.JoinHostPort(cfg.Host, strconv.Itoa(cfg.Port)), tls: tc}, nil
}

// Config returns the sender's config with its defaults filled in.
func (s *SMTPSender) Config() SMTPConfig { return s.cfg }

// Send implements Sender: it connects, secures the connection, logs in
// when a Username is configured, and hands the message over.
func (s *SMTPSender) Send(ctx context.Context, e Email) error {
	to, err := parseAddress("To", e.To)
	if err != nil {
		return err
	}
	msg, err := message(s.from, to, e, s.cfg.Now())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.Timeout)
	defer cancel()
	if err := s.deliver(ctx, to.Address, msg); err != nil {
		if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
			err = fmt.Errorf("%w (%v)", err, ctx.Err())
		}
		if errors.Is(err, ErrNoSTARTTLS) {
			return err
		}
		return fmt.Errorf("%w: %s: %w", ErrSMTP, s.addr, err)
	}
	return nil
}

func (s *SMTPSender) deliver(ctx context.Context, to string, msg []byte) error {
	dialer := &net.Dialer{}
	var conn net.Conn
	var err error
	if s.cfg.TLS == TLSImplicit {
		conn, err = (&tls.Dialer{NetDialer: dialer, Config: s.tls}).DialContext(ctx, "tcp", s.addr)
	} else {
		conn, err = dialer.DialContext(ctx, "tcp", s.addr)
	}
	if err != nil {
		return err
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	// Cancelling ctx interrupts whatever read or write is in progress.
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, s.cfg.Host)
	if err != nil {
		return fmt.Errorf("greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello(s.cfg.LocalName); err != nil {
		return fmt.Errorf("EHLO: %w", err)
	}
	if s.cfg.TLS == TLSStartTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return ErrNoSTARTTLS
		}
		if err := c.StartTLS(s.tls); err != nil {
			return fmt.Errorf("STARTTLS: %w", err)
		}
	}
	if s.cfg.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("the server does not offer AUTH, but a Username is configured")
		}
		// PlainAuth itself refuses to send credentials over a connection
		// that is neither TLS nor to localhost.
		if err := c.Auth(smtp.PlainAuth("", s.cfg.Username, s.cfg.Password, s.cfg.Host)); err != nil {
			return fmt.Errorf("AUTH: %w", err)
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return fmt.Errorf("MAIL FROM: %w", err)
	}
	if err := c.Rcpt(to); err != nil {
		return fmt.Errorf("RCPT TO: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	if _, err := w.Write(msg); err != nil { // the DotWriter does the dot-stuffing
		return fmt.Errorf("DATA: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("DATA: %w", err)
	}
	// The server has accepted the mail; a failed QUIT changes nothing.
	_ = c.Quit()
	return nil
}

func isLoopback(host string) bool {
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}
