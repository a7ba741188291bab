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
