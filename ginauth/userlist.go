package ginauth

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"time"

	"gorm.io/gorm"

	"github.com/ginauth/ginauth/models"
)

// ListUsers limits.
const (
	DefaultListUsersLimit = 100
	MaxListUsersLimit     = 500
)

// ListUsersOptions select and order a page of users. The zero value lists
// the 100 oldest users of every tenant.
type ListUsersOptions struct {
	// Limit is the page size: default DefaultListUsersLimit, at most
	// MaxListUsersLimit.
	Limit int
	// PaginationToken continues from where the previous page stopped (the
	// nextToken ListUsers returned). Use it with the same options.
	PaginationToken string
	// Newest lists the most recent sign-ups first; the default is oldest
	// first.
	Newest bool
	// TenantID keeps the users of one tenant; empty means every tenant.
	TenantID string
	// Email keeps the users that a recipe's e-mail lookup (see
	// Registrar.AddEmailLookup) finds for this address. With no lookup
	// registered nothing matches.
	Email string
}

// EmailLookupFunc returns the ids of the users with a login method whose
// e-mail matches email (how it matches, exactly or by prefix, is the
// recipe's choice). db may be a transaction.
type EmailLookupFunc func(ctx context.Context, db *gorm.DB, email string) ([]string, error)

// AddEmailLookup registers a way to find users by e-mail, used by
// ListUsers' Email filter. Recipes holding e-mail addresses register one.
func (r *Registrar) AddEmailLookup(fn EmailLookupFunc) {
	r.auth.emailLookups = append(r.auth.emailLookups, fn)
}

// pageToken is the decoded PaginationToken: the sort key of the last user
// of the previous page, and the order it was listed in.
type pageToken struct {
	TimeJoined string `json:"t"` // RFC 3339 with nanoseconds, in the zone the database returned
	ID         string `json:"i"`
	Newest     bool   `json:"n,omitempty"`
}

func encodePageToken(u models.User, newest bool) string {
	b, _ := json.Marshal(pageToken{TimeJoined: u.TimeJoined.Format(time.RFC3339Nano), ID: u.ID, Newest: newest})
	return base64.RawURLEncoding.EncodeToString(b)
}

func decodePageToken(s string, newest bool) (time.Time, string, error) {
	bad := BadRequest("invalid pagination token")
	if len(s) > 1024 {
		return time.Time{}, "", bad
	}
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return time.Time{}, "", bad
	}
	var p pageToken
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil || p.ID == "" {
		return time.Time{}, "", bad
	}
	t, err := time.Parse(time.RFC3339Nano, p.TimeJoined)
	if err != nil {
		return time.Time{}, "", bad
	}
	if p.Newest != newest {
		return time.Time{}, "", BadRequest("invalid pagination token: it belongs to a listing in the other order")
	}
	return t, p.ID, nil
}

// ListUsers returns a page of users in FDI's shape, ordered by sign-up time
// (then id), and the token of the next page, empty after the last one. The
// pagination is by key, not offset: users signing up or being deleted
// between pages neither repeat nor shift others. A malformed token is an
// ErrBadRequest error.
func (a *Auth) ListUsers(ctx context.Context, opts ListUsersOptions) (users []User, nextToken string, err error) {
	limit := opts.Limit
	switch {
	case limit <= 0:
		limit = DefaultListUsersLimit
	case limit > MaxListUsersLimit:
		limit = MaxListUsersLimit
	}
	db := a.db.WithContext(dbContext(ctx))
	// Primary users and users never linked: a linked user is listed as
	// part of its primary (recipes/accountlinking).
	q := db.Model(&models.User{}).Where("primary_user_id = ?", "")
	if opts.PaginationToken != "" {
		t, id, err := decodePageToken(opts.PaginationToken, opts.Newest)
		if err != nil {
			return nil, "", err
		}
		// (time_joined, id) > (t, id), spelled out for every database.
		if opts.Newest {
			q = q.Where("time_joined < ? OR (time_joined = ? AND id < ?)", t, t, id)
		} else {
			q = q.Where("time_joined > ? OR (time_joined = ? AND id > ?)", t, t, id)
		}
	}
	if opts.TenantID != "" {
		inTenant := db.Model(&models.UserTenant{}).Select("user_id").Where("tenant_id = ?", opts.TenantID)
		q = q.Where("id IN (?) OR id IN (?)", inTenant, db.Model(&models.User{}).Select("primary_user_id").Where("id IN (?)", inTenant))
	}
	if email := strings.TrimSpace(opts.Email); email != "" {
		ids, err := a.usersByEmail(ctx, email)
		if err != nil {
			return nil, "", err
		}
		if len(ids) == 0 {
			return []User{}, "", nil
		}
		q = q.Where("id IN ? OR id IN (?)", ids, db.Model(&models.User{}).Select("primary_user_id").Where("id IN ?", ids))
	}
	if opts.Newest {
		q = q.Order("time_joined DESC").Order("id DESC")
	} else {
		q = q.Order("time_joined").Order("id")
	}
	var rows []models.User
	if err := q.Limit(limit + 1).Find(&rows).Error; err != nil {
		return nil, "", DBError(err)
	}
	if len(rows) > limit {
		rows = rows[:limit]
		nextToken = encodePageToken(rows[limit-1], opts.Newest)
	}
	users = make([]User, 0, len(rows))
	for _, row := range rows {
		u, err := a.getUser(ctx, a.db, row.ID)
		if errors.Is(err, ErrNotFound) {
			continue // deleted since the page was read
		}
		if err != nil {
			return nil, "", err
		}
		users = append(users, *u)
	}
	return users, nextToken, nil
}

// usersByEmail runs every registered e-mail lookup and returns the ids
// found, without repeats.
func (a *Auth) usersByEmail(ctx context.Context, email string) ([]string, error) {
	seen := map[string]bool{}
	var ids []string
	for _, fn := range a.emailLookups {
		found, err := fn(ctx, a.db, email)
		if err != nil {
			return nil, DBError(err)
		}
		for _, id := range found {
			if !seen[id] {
				seen[id] = true
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}

// CountUsers returns how many users belong to tenantID, or how many users
// there are in all when tenantID is empty.
func (a *Auth) CountUsers(ctx context.Context, tenantID string) (int64, error) {
	var n int64
	q := a.db.WithContext(dbContext(ctx))
	// Linked users count as part of their primary user.
	unlinked := q.Model(&models.User{}).Where("primary_user_id = ?", "")
	if tenantID == "" {
		q = unlinked
	} else {
		q = a.db.WithContext(dbContext(ctx)).Model(&models.UserTenant{}).Where("tenant_id = ?", tenantID).
			Where("user_id IN (?)", a.db.WithContext(dbContext(ctx)).Model(&models.User{}).Select("id").Where("primary_user_id = ?", ""))
	}
	if err := q.Count(&n).Error; err != nil {
		return 0, DBError(err)
	}
	return n, nil
}
