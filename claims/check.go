package claims

import (
	"context"
	"time"
)

// Check runs every validator's Validate against p at time now and returns the
// failures in validator order, or nil when all pass. A failure whose ID is
// empty gets the validator's ID. Nil validators are skipped.
//
// Check does not refetch; call NeedRefetch (or Refetch) first.
func Check(p Payload, validators []Validator, now time.Time) []ValidationError {
	var errs []ValidationError
	for _, v := range validators {
		if v == nil {
			continue
		}
		if e := v.Validate(p, now); e != nil {
			ve := *e
			if ve.ID == "" {
				ve.ID = v.ID()
			}
			errs = append(errs, ve)
		}
	}
	return errs
}

// NeedRefetch returns the claims whose validators report ShouldRefetch for p
// at time now, in validator order and without duplicates (two claims with the
// same Key count as one; the first is kept). It returns nil when nothing needs
// a refetch.
func NeedRefetch(p Payload, validators []Validator, now time.Time) []Claim {
	var out []Claim
	seen := map[string]bool{}
	for _, v := range validators {
		if v == nil {
			continue
		}
		c := v.Claim()
		if c == nil || seen[c.Key()] {
			continue
		}
		if v.ShouldRefetch(p, now) {
			seen[c.Key()] = true
			out = append(out, c)
		}
	}
	return out
}

// Refetch builds every claim returned by NeedRefetch(p, validators, now) and
// merges the results into p. It reports whether p changed, that is whether
// any Build returned a non-empty update; the session layer then issues a new
// access token with the updated payload. It stops at the first Build error;
// updates merged before the error stay in p.
func Refetch(ctx context.Context, p Payload, validators []Validator, userID, tenantID string, now time.Time) (bool, error) {
	changed := false
	for _, c := range NeedRefetch(p, validators, now) {
		u, err := c.Build(ctx, userID, tenantID, now)
		if err != nil {
			return changed, err
		}
		if len(u) > 0 {
			Merge(p, u)
			changed = true
		}
	}
	return changed, nil
}

// Merge applies update to dst as a shallow merge: each key of update replaces
// the key in dst, and a nil value deletes the key from dst (the FDI
// "merge null" rule). dst must be non-nil unless update is empty.
func Merge(dst Payload, update Payload) {
	for k, v := range update {
		if v == nil {
			delete(dst, k)
		} else {
			dst[k] = v
		}
	}
}

// Custom returns an application-defined validator for claim, reported under
// id (the claim key when id is empty). A nil shouldRefetch never asks for a
// refetch; a nil validate always passes. A failure returned by validate with
// an empty ID gets the validator's id.
func Custom(id string, claim Claim, shouldRefetch func(p Payload, now time.Time) bool, validate func(p Payload, now time.Time) *ValidationError) Validator {
	if id == "" && claim != nil {
		id = claim.Key()
	}
	return &custom{id: id, claim: claim, refetch: shouldRefetch, validate: validate}
}

type custom struct {
	id       string
	claim    Claim
	refetch  func(Payload, time.Time) bool
	validate func(Payload, time.Time) *ValidationError
}

// ID returns the validator id.
func (c *custom) ID() string { return c.id }

// Claim returns the claim the validator checks.
func (c *custom) Claim() Claim { return c.claim }

// ShouldRefetch reports whether the claim must be rebuilt before Validate.
func (c *custom) ShouldRefetch(p Payload, now time.Time) bool {
	return c.refetch != nil && c.refetch(p, now)
}

// Validate returns nil when p passes, else the failure.
func (c *custom) Validate(p Payload, now time.Time) *ValidationError {
	if c.validate == nil {
		return nil
	}
	e := c.validate(p, now)
	if e != nil && e.ID == "" {
		cp := *e
		cp.ID = c.id
		return &cp
	}
	return e
}
