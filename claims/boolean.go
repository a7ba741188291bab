package claims

import (
	"context"
	"time"
)

// Boolean is a claim holding a bool, stored as {"<key>": {"v": bool, "t": ms}}.
// It has every method of Primitive[bool] (Key, Build, Update, Remove, Get,
// FetchedAt, HasValue) plus IsTrue and IsFalse; its validators report the
// Boolean itself as their Claim.
type Boolean struct {
	*Primitive[bool]
}

// NewBoolean returns a boolean claim stored under key whose value is read by
// fetch. fetch returns ok=false when the user has no value.
func NewBoolean(key string, fetch func(ctx context.Context, userID, tenantID string) (value bool, ok bool, err error)) *Boolean {
	b := &Boolean{Primitive: NewPrimitive(key, fetch)}
	b.Primitive.self = b
	return b
}

// WithDefaultMaxAge sets the max age used by validators created afterwards
// without a MaxAge or NoMaxAge option, and returns the claim.
func (b *Boolean) WithDefaultMaxAge(d time.Duration) *Boolean {
	b.Primitive.WithDefaultMaxAge(d)
	return b
}

// IsTrue returns a validator that passes when the value is true. It is
// HasValue(true, opts...).
func (b *Boolean) IsTrue(opts ...Option) Validator { return b.HasValue(true, opts...) }

// IsFalse returns a validator that passes when the value is false. It is
// HasValue(false, opts...).
func (b *Boolean) IsFalse(opts ...Option) Validator { return b.HasValue(false, opts...) }
