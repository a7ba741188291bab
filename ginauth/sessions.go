package ginauth

import (
	"context"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"gorm.io/gorm"

	"github.com/ginauth/ginauth/claims"
	"github.com/ginauth/ginauth/internal/jws"
	"github.com/ginauth/ginauth/internal/random"
	"github.com/ginauth/ginauth/models"
)

// NewSession describes a session to create.
type NewSession struct {
	UserID string
	// RecipeUserID is the login method's id; default UserID.
	RecipeUserID string
	// TenantID defaults to DefaultTenant.
	TenantID string
	// AccessTokenPayload holds extra payload keys; the configured claims
	// are added to it. Standard fields (sub, exp, ...) are ignored.
	AccessTokenPayload claims.Payload
	// SessionData is kept on the server only.
	SessionData map[string]any
	// Factor names how the user proved who they are for this session, as
	// multi-factor auth names factors: "emailpassword", "thirdparty",
	// "otp-email", "link-email", ... Recipes set it; it is empty for
	// sessions an app creates itself.
	Factor string
}

// Hooks let an app change or veto what ginauth does.
type Hooks struct {
	// BeforeSessionCreate runs after the configured claims were added and
	// before the session is stored. It may change s (add payload keys or
	// session data) or veto the session with an error.
	BeforeSessionCreate func(ctx context.Context, s *NewSession) error
	// OnEvent receives every security event (sign-ins, failures, theft,
	// lockouts, password changes, revocations), for auditing. It runs on
	// the request's goroutine: keep it quick.
	OnEvent func(ctx context.Context, e Event)
}

// Tokens are a new session's tokens, for callers that deliver them
// themselves (tests, non-HTTP transports).
type Tokens struct {
	AccessToken        string
	AccessTokenExpiry  time.Time
	RefreshToken       string
	RefreshTokenExpiry time.Time
	// AntiCSRF is set only in VIA_TOKEN mode.
	AntiCSRF string
	// FrontToken is the front-token header value.
	FrontToken string
}

// SessionInfo is what the database knows about a session.
type SessionInfo struct {
	Handle             string
	UserID             string
	RecipeUserID       string
	TenantID           string
	AccessTokenPayload claims.Payload
	SessionData        map[string]any
	CreatedAt          time.Time
	ExpiresAt          time.Time
}

// CreateSession creates a session for a user and sends its tokens on c's
// response, in cookie or header mode as the request's st-auth-mode asks.
// Recipes call it on sign-in; apps may call it from their own routes.
func (a *Auth) CreateSession(c *gin.Context, in NewSession) (*Session, error) {
	t := creationTransfer(c)
	sess, tok, refresh, antiCSRF, err := a.createSession(c.Request.Context(), in, t == TransferCookie)
	if err != nil {
		return nil, err
	}
	a.writeTokens(c, t, tok, refresh.token, refresh.expiry, antiCSRF)
	sess.transfer = t
	attachSession(c, sess)
	return sess, nil
}

// CreateSessionTokens creates a session and returns its tokens instead of
// writing them to a response.
func (a *Auth) CreateSessionTokens(ctx context.Context, in NewSession) (*Session, *Tokens, error) {
	sess, tok, refresh, antiCSRF, err := a.createSession(ctx, in, false)
	if err != nil {
		return nil, nil, err
	}
	return sess, &Tokens{AccessToken: tok.jwt, AccessTokenExpiry: tok.expiry, RefreshToken: refresh.token,
		RefreshTokenExpiry: refresh.expiry, AntiCSRF: antiCSRF,
		FrontToken: frontToken(tok.userID, tok.expiry, tok.payloadJSON)}, nil
}

type refreshToken struct {
	token  string
	expiry time.Time
}

func (a *Auth) createSession(ctx context.Context, in NewSession, cookie bool) (*Session, *accessToken, refreshToken, string, error) {
	var zero refreshToken
	if in.UserID == "" {
		return nil, nil, zero, "", BadRequest("a session needs a user id")
	}
	if in.RecipeUserID == "" {
		in.RecipeUserID = in.UserID
	}
	if in.TenantID == "" {
		in.TenantID = DefaultTenant
	}
	if a.linking && in.UserID == in.RecipeUserID {
		// The one place where a sign-in through a linked login method
		// becomes a session of its primary user: claims, hooks and the
		// token all see the primary's id, "rsub" keeps the login method's.
		primary, err := a.primaryUserID(ctx, a.db, in.RecipeUserID)
		if err != nil {
			return nil, nil, zero, "", err
		}
		in.UserID = primary
	}
	ctx = a.withAuth(ctx)
	now := a.now()
	payload := stripProtected(in.AccessTokenPayload)
	for _, cl := range a.claims {
		update, err := cl.Build(withRecipeUser(ctx, in.RecipeUserID), in.UserID, in.TenantID, now)
		if err != nil {
			return nil, nil, zero, "", err
		}
		claims.Merge(payload, update)
	}
	in.AccessTokenPayload = payload
	if in.SessionData == nil {
		in.SessionData = map[string]any{}
	}
	hooks := a.sessionHooks
	if h := a.cfg.Hooks.BeforeSessionCreate; h != nil {
		hooks = append(hooks[:len(hooks):len(hooks)], h)
	}
	for _, h := range hooks {
		if err := h(ctx, &in); err != nil {
			return nil, nil, zero, "", err
		}
		if in.AccessTokenPayload == nil {
			in.AccessTokenPayload = claims.Payload{}
		}
		in.AccessTokenPayload = stripProtected(in.AccessTokenPayload)
	}
	payloadJSON, err := json.Marshal(in.AccessTokenPayload)
	if err != nil {
		return nil, nil, zero, "", BadRequest("the access-token payload cannot be encoded as JSON: %v", err)
	}
	dataJSON, err := json.Marshal(in.SessionData)
	if err != nil {
		return nil, nil, zero, "", BadRequest("the session data cannot be encoded as JSON: %v", err)
	}

	handle := random.UUID()
	refresh, refreshHash := a.secret.newRefreshToken(handle, "")
	var antiCSRF, antiCSRFHash string
	if cookie && a.s.antiCSRF == AntiCSRFViaToken {
		antiCSRF = random.Token(32)
		antiCSRFHash = random.Hash(antiCSRF)
	}
	row := models.Session{
		Handle: handle, UserID: in.UserID, RecipeUserID: in.RecipeUserID, TenantID: in.TenantID,
		RefreshHash: refreshHash, AntiCSRFHash: antiCSRFHash,
		AccessTokenPayload: string(payloadJSON), SessionData: string(dataJSON),
		Version: 1, CreatedAt: now, RefreshedAt: now, ExpiresAt: now.Add(a.s.refreshValidity),
	}
	if err := a.db.WithContext(dbContext(ctx)).Session(&gorm.Session{SkipDefaultTransaction: true}).Create(&row).Error; err != nil {
		return nil, nil, zero, "", DBError(err)
	}
	tok, err := a.signAccessToken(ctx, tokenFields{handle: handle, userID: in.UserID, recipeUserID: in.RecipeUserID,
		tenantID: in.TenantID, refreshHash1: refreshHash, antiCSRF: antiCSRF}, in.AccessTokenPayload, now.Add(a.s.accessValidity))
	if err != nil {
		return nil, nil, zero, "", err
	}
	sess := &Session{auth: a, tok: tokenFromSigned(tok, in.RecipeUserID, in.TenantID, handle, antiCSRF)}
	return sess, tok, refreshToken{token: refresh, expiry: row.ExpiresAt}, antiCSRF, nil
}

func tokenFromSigned(tok *accessToken, recipeUserID, tenantID, handle, antiCSRF string) *verifiedToken {
	return &verifiedToken{payload: tok.payload, payloadJSON: tok.payloadJSON, userID: tok.userID,
		recipeUserID: recipeUserID, tenantID: tenantID, handle: handle, expiry: tok.expiry, antiCSRF: antiCSRF}
}

// refreshOutcome is what one refresh decided.
type refreshOutcome struct {
	row      models.Session // row.RefreshHash is the hash of the token the new one was issued from
	token    string
	antiCSRF string
}

// unauthorisedRefresh answers a refresh token that is not (or no longer)
// one of a live session's: 401, and the client drops its tokens.
func unauthorisedRefresh(why string) *Error {
	return Unauthorised(errors.New(why), true)
}

// refreshAntiCSRFFailed answers a refresh whose anti-CSRF proof (the
// anti-csrf header in VIA_TOKEN mode, the rid header in VIA_CUSTOM_HEADER
// mode) is missing or wrong. It clears nothing: such a request may come
// from another site, which must not be able to sign the user out; the
// user's own frontend retries with the header.
func refreshAntiCSRFFailed(why string) *Error {
	return Unauthorised(errors.New(why), false)
}

// rotate applies one refresh to a session (docs/sessions.md). The row
// holds only the hash of the session's current refresh token; a presented
// token is
//   - the current one: it mints a child (any number of them; nothing is
//     stored, so no child can be pushed out);
//   - a child of the current one (its authenticated parent reference says
//     so): its first use promotes it to current, which makes the old
//     current token and every other child of it stale;
//   - anything else of this session: stale, so it was copied: theft; the
//     session is revoked.
//
// This mirrors the SuperTokens core's refreshSession (parent hash inside
// the refresh token; the first child used wins). Concurrent promotions are
// resolved by the version column: the loser re-reads and decides again,
// so parallel refreshes of one child all succeed and those of two siblings
// end in theft.
func (a *Auth) rotate(ctx context.Context, presented string, antiCSRFHeader string, checkAntiCSRF bool) (*refreshOutcome, error) {
	info, ok := a.secret.openRefreshToken(presented)
	if !ok {
		return nil, unauthorisedRefresh("not a refresh token of ours")
	}
	handle := info.handle
	h := random.Hash(presented)
	// Each statement here stands alone (the version check makes the update
	// safe), so GORM's implicit BEGIN/COMMIT around it would only add two
	// round trips.
	db := a.dbNoTx.WithContext(dbContext(ctx)) // one session derived per refresh, not two
	for attempt := 0; attempt < 10; attempt++ {
		var row models.Session
		found, err := sessionByHandle(db, handle, &row)
		if err != nil {
			return nil, DBError(err)
		}
		if !found {
			return nil, unauthorisedRefresh("no such session")
		}
		now := a.now()
		if !row.ExpiresAt.After(now) {
			if err := db.Where("handle = ? AND version = ?", handle, row.Version).Delete(&models.Session{}).Error; err != nil {
				return nil, DBError(err)
			}
			return nil, unauthorisedRefresh("session expired")
		}
		// Anti-CSRF before anything is decided, so that a forged
		// cross-site refresh can neither promote a token nor revoke the
		// session as theft.
		if checkAntiCSRF && row.AntiCSRFHash != "" && random.Hash(antiCSRFHeader) != row.AntiCSRFHash {
			return nil, refreshAntiCSRFFailed("anti-csrf token does not match")
		}
		current, _ := parentRef(row.RefreshHash)
		switch {
		case h == row.RefreshHash:
			// The current token again: a second tab, a retry after a lost
			// response, parallel refreshes. Mint another child.
		case info.parent == current:
			// First use of a child: it becomes the current token.
			n, err := a.promoteRefreshHash(db, handle, row.Version, h, now)
			if err != nil {
				return nil, DBError(err)
			}
			if n != 1 {
				continue // another refresh changed the session: decide again
			}
			row.RefreshHash, row.RefreshedAt, row.ExpiresAt, row.Version = h, now, now.Add(a.s.refreshValidity), row.Version+1
		default:
			return nil, a.tokenTheft(ctx, db, &row)
		}
		child, _ := a.secret.newRefreshToken(handle, row.RefreshHash)
		var antiCSRF string
		if checkAntiCSRF && row.AntiCSRFHash != "" {
			// The session keeps its anti-CSRF token; the header just
			// proved to be it.
			antiCSRF = antiCSRFHeader
		}
		return &refreshOutcome{row: row, token: child, antiCSRF: antiCSRF}, nil
	}
	return nil, NewError(ErrDatabase, errors.New("session refresh kept conflicting"))
}

// promoteRefreshHash makes hash the session's current refresh token if the
// session is still at version, extending it from now, and returns the
// number of rows changed (0: another request changed it first). It sends
// the text GORM's Updates with these four columns builds (sorted, quoted
// for the dialect; TestRefreshFloorStatements) as one raw statement: GORM's
// map handling and clause building were most of the update's own cost.
func (a *Auth) promoteRefreshHash(db *gorm.DB, handle string, version int64, hash string, now time.Time) (int64, error) {
	q := func(name string) string { return db.Statement.Quote(name) }
	res := db.Exec("UPDATE "+q(models.TableSessions)+" SET "+q("expires_at")+"=?,"+q("refresh_hash")+"=?,"+
		q("refreshed_at")+"=?,"+q("version")+"=? WHERE handle = ? AND version = ?",
		now.Add(a.s.refreshValidity), hash, now, version+1, handle, version)
	return res.RowsAffected, res.Error
}

// sessionByHandle reads the session row with the statement GORM's Take
// would send (the same text: TestRefreshFloorStatements), scanning it by
// column name instead of through GORM's reflection, which allocated more
// than a hundred times per refresh (the floor does neither). A column this
// code does not know (an app's own) is read and dropped, as Take ignores
// it.
func sessionByHandle(db *gorm.DB, handle string, row *models.Session) (bool, error) {
	rows, err := db.Raw("SELECT * FROM "+db.Statement.Quote(models.TableSessions)+" WHERE handle = ? LIMIT ?", handle, 1).Rows()
	if err != nil {
		return false, err
	}
	defer rows.Close()
	if !rows.Next() {
		return false, rows.Err()
	}
	cols, err := rows.Columns()
	if err != nil {
		return false, err
	}
	dest := make([]any, len(cols))
	for i, col := range cols {
		switch col {
		case "handle":
			dest[i] = &row.Handle
		case "user_id":
			dest[i] = &row.UserID
		case "recipe_user_id":
			dest[i] = &row.RecipeUserID
		case "tenant_id":
			dest[i] = &row.TenantID
		case "refresh_hash":
			dest[i] = &row.RefreshHash
		case "anti_csrf_hash":
			dest[i] = &row.AntiCSRFHash
		case "access_token_payload":
			dest[i] = &row.AccessTokenPayload
		case "session_data":
			dest[i] = &row.SessionData
		case "version":
			dest[i] = &row.Version
		case "created_at":
			dest[i] = &row.CreatedAt
		case "refreshed_at":
			dest[i] = &row.RefreshedAt
		case "expires_at":
			dest[i] = &row.ExpiresAt
		default:
			dest[i] = new(any)
		}
	}
	if err := rows.Scan(dest...); err != nil {
		return false, err
	}
	return true, rows.Err()
}

// tokenTheft revokes a session whose stale refresh token was presented,
// reports it, and returns the answer.
func (a *Auth) tokenTheft(ctx context.Context, db *gorm.DB, row *models.Session) error {
	if err := db.Where("handle = ?", row.Handle).Delete(&models.Session{}).Error; err != nil {
		return DBError(err)
	}
	a.emit(ctx, Event{Type: EventTokenTheft, UserID: row.UserID, SessionHandle: row.Handle,
		Detail: "a superseded refresh token was presented; the session is revoked"})
	e := NewError(ErrTokenTheft, nil)
	e.ClearTokens = true
	return e
}

// promoteChild serves the uses of a child's access token (its payload
// names a parentRefreshTokenHash1), as the SuperTokens core's getSession
// does: when the parent is still the session's current refresh token, the
// child becomes current (exactly as if it had been used to refresh), and
// the response carries a fresh access token without the parent, so the
// frontend stops sending this one. When the child is current already (a
// parallel request promoted it) the fresh token is sent too. When another
// child won, the token is left alone: it lives until it expires, and its
// refresh token is theft when used.
func (a *Auth) promoteChild(c *gin.Context, tok *verifiedToken, parent string, t TokenTransfer) (*verifiedToken, error) {
	self, _ := tok.payload["refreshTokenHash1"].(string)
	ctx, cancel := a.dbDeadline(c.Request.Context())
	defer cancel()
	db := a.dbNoTx.WithContext(ctx)
	for attempt := 0; attempt < 10; attempt++ {
		var row models.Session
		err := db.Where("handle = ?", tok.handle).Take(&row).Error
		if errors.Is(err, gorm.ErrRecordNotFound) {
			return nil, unauthorisedRefresh("session revoked")
		}
		if err != nil {
			return nil, DBError(err)
		}
		now := a.now()
		if !row.ExpiresAt.After(now) {
			return nil, unauthorisedRefresh("session expired")
		}
		switch row.RefreshHash {
		case self:
		case parent:
			n, err := a.promoteRefreshHash(db, row.Handle, row.Version, self, now)
			if err != nil {
				return nil, DBError(err)
			}
			if n != 1 {
				continue // the session changed under us: decide again
			}
		default:
			return tok, nil
		}
		var custom claims.Payload
		if err := json.Unmarshal([]byte(row.AccessTokenPayload), &custom); err != nil {
			return nil, NewError(ErrInternal, err)
		}
		fresh, err := a.signAccessToken(ctx, tokenFields{handle: tok.handle, userID: tok.userID, recipeUserID: tok.recipeUserID,
			tenantID: tok.tenantID, refreshHash1: self, antiCSRF: tok.antiCSRF}, custom, now.Add(a.s.accessValidity))
		if err != nil {
			return nil, err
		}
		a.writeAccessToken(c, t, fresh)
		return tokenFromSigned(fresh, tok.recipeUserID, tok.tenantID, tok.handle, tok.antiCSRF), nil
	}
	return nil, NewError(ErrDatabase, errors.New("session promotion kept conflicting"))
}

// parseRefreshToken returns the session handle of a refresh token of the
// form "<handle>.<secret>", or false when the token cannot be one of ours.
// It checks the shape only; openRefreshToken checks the rest.
func parseRefreshToken(tok string) (string, bool) {
	if len(tok) > 200 {
		return "", false
	}
	dot := strings.IndexByte(tok, '.')
	if dot <= 0 || dot == len(tok)-1 || strings.IndexByte(tok[dot+1:], '.') >= 0 {
		return "", false
	}
	handle := tok[:dot]
	if !validTenantID(handle) { // a UUID: letters, digits and dashes
		return "", false
	}
	return handle, true
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// handleRefresh serves POST /session/refresh.
func (a *Auth) handleRefresh(c *gin.Context) {
	ctx := c.Request.Context()
	if hasLegacyIDRefreshCookie(c) {
		// Whatever the answer, the pre-v3 cookie has done its job (forcing
		// this refresh); supertokens-node's refreshSessionInRequest clears it
		// on success and whenever it clears the session.
		a.clearLegacyIDRefreshCookie(c)
	}
	// --- transport (h-transport): which refresh token, from where ---
	if a.refreshDuplicateCookies(c) {
		return
	}
	presented, t := refreshTokenFromRequest(c)
	// --- end transport ---
	if presented == "" {
		a.writeError(c, unauthorisedRefresh("no refresh token"))
		return
	}
	// A cookie refresh without its anti-CSRF proof is refused before the
	// database is read, and clears nothing (refreshAntiCSRFFailed).
	antiCSRF := a.antiCSRFFor(c.Request)
	if t == TransferCookie && antiCSRF == AntiCSRFViaCustomHeader && c.GetHeader(HeaderRID) == "" {
		a.writeError(c, refreshAntiCSRFFailed("refresh without the rid header (anti-CSRF)"))
		return
	}
	if t == TransferCookie && antiCSRF == AntiCSRFViaToken && c.GetHeader(HeaderAntiCSRF) == "" {
		a.writeError(c, refreshAntiCSRFFailed("refresh without the anti-csrf header"))
		return
	}
	out, err := a.rotate(ctx, presented, c.GetHeader(HeaderAntiCSRF), t == TransferCookie && antiCSRF == AntiCSRFViaToken)
	if err != nil {
		a.writeError(c, err)
		return
	}
	a.maybeCleanup()
	// The stored payload is JSON that json.Marshal wrote; the token
	// decoder reads it faster than encoding/json, with the same result.
	custom, err := jws.DecodePayload([]byte(out.row.AccessTokenPayload))
	if err != nil {
		a.writeError(c, NewError(ErrInternal, err))
		return
	}
	row := out.row
	tok, err := a.signAccessTokenJSON(ctx, tokenFields{handle: row.Handle, userID: row.UserID, recipeUserID: row.RecipeUserID,
		tenantID: row.TenantID, refreshHash1: random.Hash(out.token), parentRefreshHash1: row.RefreshHash, antiCSRF: out.antiCSRF},
		custom, a.now().Add(a.s.accessValidity))
	if err != nil {
		a.writeError(c, err)
		return
	}
	a.writeTokens(c, t, tok, out.token, row.ExpiresAt, out.antiCSRF)
	c.JSON(200, gin.H{})
}

// handleSignOut serves POST /signout: it needs a valid session (claims are
// not checked), revokes it and clears the tokens.
func (a *Auth) handleSignOut(c *gin.Context) {
	s, resp, err := a.getSession(c, VerifyOptions{SkipClaims: true})
	if err != nil {
		a.writeError(c, err)
		return
	}
	defer resp.end()
	if err := s.Revoke(c.Request.Context()); err != nil {
		a.writeError(c, err)
		return
	}
	a.emit(c.Request.Context(), Event{Type: EventSignOut, UserID: s.UserID(), SessionHandle: s.Handle(), IP: c.ClientIP()})
	c.JSON(200, gin.H{"status": "OK"})
}

// GetSessionInfo returns what the database holds for a session, or an
// ErrNotFound error.
func (a *Auth) GetSessionInfo(ctx context.Context, handle string) (*SessionInfo, error) {
	var row models.Session
	err := a.db.WithContext(dbContext(ctx)).Where("handle = ? AND expires_at > ?", handle, a.now()).Take(&row).Error
	if errors.Is(err, gorm.ErrRecordNotFound) {
		return nil, NewError(ErrNotFound, nil)
	}
	if err != nil {
		return nil, DBError(err)
	}
	return sessionInfo(&row), nil
}

func sessionInfo(row *models.Session) *SessionInfo {
	info := &SessionInfo{Handle: row.Handle, UserID: row.UserID, RecipeUserID: row.RecipeUserID, TenantID: row.TenantID,
		CreatedAt: row.CreatedAt, ExpiresAt: row.ExpiresAt}
	_ = json.Unmarshal([]byte(row.AccessTokenPayload), &info.AccessTokenPayload)
	_ = json.Unmarshal([]byte(row.SessionData), &info.SessionData)
	return info
}

// ListSessions returns a user's live sessions, oldest first. With account
// linking, those of a primary user include the sessions of every user
// linked to it.
func (a *Auth) ListSessions(ctx context.Context, userID string) ([]SessionInfo, error) {
	ids, err := a.sessionOwners(ctx, userID)
	if err != nil {
		return nil, err
	}
	var rows []models.Session
	if err := a.db.WithContext(dbContext(ctx)).Where("user_id IN ? AND expires_at > ?", ids, a.now()).Order("created_at").Find(&rows).Error; err != nil {
		return nil, DBError(err)
	}
	out := make([]SessionInfo, len(rows))
	for i := range rows {
		out[i] = *sessionInfo(&rows[i])
	}
	return out, nil
}

// RevokeSession deletes a session; its refresh token stops working at
// once, its access token at its expiry (at once on routes that check the
// database). It reports whether the session existed.
func (a *Auth) RevokeSession(ctx context.Context, handle string) (bool, error) {
	res := a.db.WithContext(dbContext(ctx)).Where("handle = ?", handle).Delete(&models.Session{})
	if res.Error != nil {
		return false, DBError(res.Error)
	}
	return res.RowsAffected > 0, nil
}

// RevokeAllSessions deletes every session of a user and returns how many
// there were. With account linking, those of a primary user include the
// sessions of every user linked to it.
func (a *Auth) RevokeAllSessions(ctx context.Context, userID string) (int64, error) {
	ids, err := a.sessionOwners(ctx, userID)
	if err != nil {
		return 0, err
	}
	var n int64
	for _, id := range ids {
		k, err := a.revokeAllSessions(ctx, a.db, id, "")
		if err != nil {
			return n, err
		}
		n += k
	}
	return n, nil
}

// sessionOwners returns the user ids whose sessions are userID's: the
// whole linked group with account linking on (sessions made before a link
// still carry the linked user's own id), else userID alone.
func (a *Auth) sessionOwners(ctx context.Context, userID string) ([]string, error) {
	if !a.linking {
		return []string{userID}, nil
	}
	return a.linkedGroup(a.db.WithContext(dbContext(ctx)), userID)
}

// primaryUserID returns the primary user userID is linked to, else userID
// itself (also when no such user exists: apps may create sessions for ids
// of their own).
func (a *Auth) primaryUserID(ctx context.Context, db *gorm.DB, userID string) (string, error) {
	var primary []string
	if err := db.WithContext(dbContext(ctx)).Model(&models.User{}).Where("id = ?", userID).Limit(1).Pluck("primary_user_id", &primary).Error; err != nil {
		return "", DBError(err)
	}
	if len(primary) == 1 && primary[0] != "" {
		return primary[0], nil
	}
	return userID, nil
}

// RevokeOtherSessions deletes every session of a user except keep.
func (a *Auth) RevokeOtherSessions(ctx context.Context, userID, keep string) (int64, error) {
	return a.revokeAllSessions(ctx, a.db, userID, keep)
}

// revokeAllSessions deletes every session of a user except keep (which
// may be empty) through db; kit.Kit.RevokeSessionsTx passes a transaction,
// so that a password change and the revocation it implies commit or fail
// together.
func (a *Auth) revokeAllSessions(ctx context.Context, db *gorm.DB, userID, keep string) (int64, error) {
	q := db.WithContext(dbContext(ctx)).Where("user_id = ?", userID)
	if keep != "" {
		q = q.Where("handle <> ?", keep)
	}
	res := q.Delete(&models.Session{})
	if res.Error != nil {
		return 0, DBError(res.Error)
	}
	if res.RowsAffected > 0 {
		a.emit(ctx, Event{Type: EventSessionsRevoked, UserID: userID, Detail: strconv.FormatInt(res.RowsAffected, 10) + " sessions"})
	}
	return res.RowsAffected, nil
}

// UpdateSessionData replaces a session's server-side data.
func (a *Auth) UpdateSessionData(ctx context.Context, handle string, data map[string]any) error {
	b, err := json.Marshal(data)
	if err != nil {
		return BadRequest("the session data cannot be encoded as JSON: %v", err)
	}
	res := a.db.WithContext(dbContext(ctx)).Model(&models.Session{}).Where("handle = ?", handle).
		Updates(map[string]any{"session_data": string(b), "version": gorm.Expr("version + 1")})
	if res.Error != nil {
		return DBError(res.Error)
	}
	if res.RowsAffected == 0 {
		return NewError(ErrNotFound, nil)
	}
	return nil
}

// MergeIntoAccessTokenPayload merges update into a session's stored
// payload outside a request; the client sees it at its next refresh.
func (a *Auth) MergeIntoAccessTokenPayload(ctx context.Context, handle string, update claims.Payload) error {
	info, err := a.GetSessionInfo(ctx, handle)
	if err != nil {
		return err
	}
	custom := info.AccessTokenPayload
	if custom == nil {
		custom = claims.Payload{}
	}
	claims.Merge(custom, stripProtected(update))
	return a.storePayload(ctx, handle, custom)
}

// DeleteExpiredSessions removes sessions whose refresh token has expired
// and returns how many went. It runs on its own in the background (see
// SessionConfig.CleanupInterval); call it from a cron job if you prefer.
func (a *Auth) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	res := a.db.WithContext(dbContext(ctx)).Where("expires_at <= ?", a.now()).Delete(&models.Session{})
	return res.RowsAffected, DBError(res.Error)
}

// DeleteExpired removes what has expired: sessions, rate-limit counters
// whose window has ended, and signing keys that no longer verify anything.
// It returns how many rows went. It runs in the background on its own (see
// SessionConfig.CleanupInterval).
func (a *Auth) DeleteExpired(ctx context.Context) (int64, error) {
	total, err := a.DeleteExpiredSessions(ctx)
	if err != nil {
		return total, err
	}
	now := a.now()
	if st, ok := a.limiter.store.(*dbRateLimitStore); ok {
		n, err := st.deleteExpired(ctx, now)
		total += n
		if err != nil {
			return total, DBError(err)
		}
	}
	res := a.db.WithContext(dbContext(ctx)).Where("verify_until <= ?", now).Delete(&models.SigningKey{})
	return total + res.RowsAffected, DBError(res.Error)
}

// maybeCleanup starts a background DeleteExpired when the last one is
// older than the cleanup interval. Requests never wait for it.
func (a *Auth) maybeCleanup() {
	if a.s.cleanupInterval < 0 {
		return
	}
	now := a.now().UnixMilli()
	last := a.lastCleanup.Load()
	if now-last < a.s.cleanupInterval.Milliseconds() || !a.lastCleanup.CompareAndSwap(last, now) {
		return
	}
	// Through Go, so that Close waits for (or stops) the sweep and none
	// starts after it.
	_ = a.Go(context.Background(), func(ctx context.Context) {
		ctx, cancel := context.WithTimeout(ctx, time.Minute)
		defer cancel()
		if n, err := a.DeleteExpired(ctx); err != nil {
			a.log.Warn("ginauth: deleting expired rows failed", "error", err)
		} else if n > 0 {
			a.log.Debug("ginauth: deleted expired rows", "count", n)
		}
	})
}
