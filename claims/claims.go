package claims

import (
	"context"
	"time"
)

// Payload is a decoded access-token payload: the standard session fields
// (sub, exp, iat, sessionHandle, ...) beside one top-level key per claim.
type Payload = map[string]any

// Claim is a value kept in the access-token payload under Key and fetched from
// the application's data when it is missing or too old.
//
// Build is called when a session is created and whenever a validator asks for
// a refetch. It returns the payload update to merge (normally
// {Key(): {"v": value, "t": now in ms}}), or nil when the claim has no value
// for this user, in which case nothing is merged.
type Claim interface {
	Key() string
	Build(ctx context.Context, userID, tenantID string, now time.Time) (Payload, error)
}

// Validator checks one claim in a payload. ShouldRefetch tells the session
// layer to call Claim().Build and merge the result before Validate runs.
// Validate returns nil when the payload passes.
type Validator interface {
	ID() string
	Claim() Claim
	ShouldRefetch(p Payload, now time.Time) bool
	Validate(p Payload, now time.Time) *ValidationError
}

// ValidationError is one entry of the claimValidationErrors list that FDI
// sends in a 403 "invalid claim" answer.
type ValidationError struct {
	ID     string         `json:"id"`
	Reason map[string]any `json:"reason,omitempty"`
}

// Binder is implemented by a Validator whose check depends on the instance
// serving the request (a package-level claim's validator, shared by every
// app of a process, whose rules are configured per app). Bind returns the
// validator to use for a request whose context is ctx. The session layer
// calls it (through Bind) before ShouldRefetch and Validate.
type Binder interface {
	Bind(ctx context.Context) Validator
}

// Bind returns validators with every Binder replaced by what its Bind
// returns for ctx. It returns validators itself when none is a Binder.
func Bind(ctx context.Context, validators []Validator) []Validator {
	var out []Validator
	for i, v := range validators {
		b, ok := v.(Binder)
		if !ok {
			if out != nil {
				out = append(out, v)
			}
			continue
		}
		if out == nil {
			out = append(make([]Validator, 0, len(validators)), validators[:i]...)
		}
		if bv := b.Bind(ctx); bv != nil {
			v = bv
		}
		out = append(out, v)
	}
	if out == nil {
		return validators
	}
	return out
}
