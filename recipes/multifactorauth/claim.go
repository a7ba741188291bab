package multifactorauth

import (
	"bytes"
	"context"
	"encoding/json"
	"slices"
	"sort"
	"time"

	"github.com/ginauth/ginauth/claims"
)

// ClaimKey is the access-token payload key of the MFA claim, as SuperTokens
// names it. The frontend SDKs read it and refresh it with PUT /mfa/info.
const ClaimKey = "st-mfa"

// Value is the st-mfa claim's value. On the wire it is
//
//	"st-mfa": {"c": {"<factorId>": <completed at, seconds since the epoch>}, "v": <satisfied>}
//
// with no "t" (fetch time), exactly as SuperTokens stores it.
type Value struct {
	// Completed maps the factors completed in the session to when they were
	// completed, in seconds since the Unix epoch.
	Completed map[string]int64
	// Satisfied reports whether the completed factors meet the user's MFA
	// requirements (the "v" field).
	Satisfied bool
}

// Payload returns the payload update that stores v.
func (v Value) Payload() claims.Payload {
	c := make(map[string]any, len(v.Completed))
	for id, at := range v.Completed {
		c[id] = at
	}
	return claims.Payload{ClaimKey: map[string]any{"c": c, "v": v.Satisfied}}
}

// CompletedFactors returns the ids in Completed, sorted.
func (v Value) CompletedFactors() []string {
	out := make([]string, 0, len(v.Completed))
	for id := range v.Completed {
		out = append(out, id)
	}
	sort.Strings(out)
	return out
}

func (v Value) equal(o Value) bool {
	if v.Satisfied != o.Satisfied || len(v.Completed) != len(o.Completed) {
		return false
	}
	for k, t := range v.Completed {
		if u, ok := o.Completed[k]; !ok || u != t {
			return false
		}
	}
	return true
}

// GetValue reads the st-mfa claim from a payload (built in process or
// decoded from JSON). ok is false when the claim is absent or malformed.
func GetValue(p claims.Payload) (Value, bool) {
	raw, ok := p[ClaimKey]
	if !ok || raw == nil {
		return Value{}, false
	}
	var wire struct {
		C map[string]json.Number `json:"c"`
		V *bool                  `json:"v"`
	}
	b, err := json.Marshal(raw)
	if err != nil {
		return Value{}, false
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	if err := dec.Decode(&wire); err != nil || wire.V == nil {
		return Value{}, false
	}
	v := Value{Completed: make(map[string]int64, len(wire.C)), Satisfied: *wire.V}
	for id, n := range wire.C {
		if i, err := n.Int64(); err == nil {
			v.Completed[id] = i
		} else if f, err := n.Float64(); err == nil {
			v.Completed[id] = int64(f)
		}
	}
	return v, true
}

// Requirement is one item of a user's MFA requirement list. It is met when
// any factor of OneOf was completed (an empty OneOf is always met) and every
// factor of AllOf was. A requirement with both lists needs both.
type Requirement struct {
	OneOf []string `json:"oneOf,omitempty"`
	AllOf []string `json:"allOfInAnyOrder,omitempty"`
}

// Factor returns the requirement that factorID is completed.
func Factor(factorID string) Requirement { return Requirement{AllOf: []string{factorID}} }

// OneOf returns the requirement that at least one of factorIDs is completed.
func OneOf(factorIDs ...string) Requirement { return Requirement{OneOf: factorIDs} }

// AllOf returns the requirement that every one of factorIDs is completed,
// in any order.
func AllOf(factorIDs ...string) Requirement { return Requirement{AllOf: factorIDs} }

// substitutes maps a factor to the factors that count as completing it
// (the recovery code stands in for TOTP by default).
type substitutes map[string][]string

// done reports whether factorID, or a factor standing in for it, was
// completed.
func (s substitutes) done(completed map[string]int64, factorID string) bool {
	if _, ok := completed[factorID]; ok {
		return true
	}
	for _, alt := range s[factorID] {
		if _, ok := completed[alt]; ok {
			return true
		}
	}
	return false
}

// missing returns the factors that would meet req, or nil when it is met.
func (s substitutes) missing(completed map[string]int64, req Requirement) []string {
	var out []string
	if len(req.OneOf) > 0 && !slices.ContainsFunc(req.OneOf, func(id string) bool { return s.done(completed, id) }) {
		out = append(out, req.OneOf...)
	}
	for _, id := range req.AllOf {
		if !s.done(completed, id) && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// next returns the factors of the first requirement not met, or nil when
// all are.
func (s substitutes) next(completed map[string]int64, reqs []Requirement) []string {
	for _, req := range reqs {
		if m := s.missing(completed, req); len(m) > 0 {
			return m
		}
	}
	return nil
}

// Claim is the st-mfa claim. Its Build computes the value from the user's
// requirements with no factor completed, which is what a session without
// the claim gets when a validator refetches it (SuperTokens does the same).
// Use MFAClaim, or Recipe.Claim for apps with several ginauth instances.
type Claim struct {
	r *Recipe // nil: the recipe of the instance serving the request
}

// MFAClaim is the st-mfa claim of the multifactorauth recipe of the ginauth
// instance serving the request (ginauth.AuthFrom): one claim serves every
// instance of a process.
var MFAClaim = &Claim{}

func (c *Claim) recipe(ctx context.Context) (*Recipe, error) {
	if c.r != nil {
		if c.r.auth == nil {
			return nil, ErrNotSetUp
		}
		return c.r, nil
	}
	return current(ctx)
}

func (c *Claim) subs() substitutes {
	if r, err := c.recipe(context.Background()); err == nil {
		return r.subs
	}
	return defaultSubstitutes()
}

// Key returns ClaimKey.
func (c *Claim) Key() string { return ClaimKey }

// Build returns the claim for a session in which no factor is completed.
func (c *Claim) Build(ctx context.Context, userID, tenantID string, now time.Time) (claims.Payload, error) {
	r, err := c.recipe(ctx)
	if err != nil {
		return nil, err
	}
	v, err := r.value(ctx, userID, tenantID, map[string]int64{})
	if err != nil {
		return nil, err
	}
	return v.Payload(), nil
}

// Get returns the claim's value in p; see GetValue.
func (c *Claim) Get(p claims.Payload) (Value, bool) { return GetValue(p) }

func missingClaim(p claims.Payload, _ time.Time) bool {
	_, ok := GetValue(p)
	return !ok
}

// IsSatisfied returns the validator that passes when the session meets the
// user's MFA requirements ("v" is true). The recipe adds it as a global
// validator. It refetches only when the claim is missing, and fails with
//
//	{"message": "not all required factors are completed", "completedFactors": [...]}
func (c *Claim) IsSatisfied() claims.Validator {
	return claims.Custom(ClaimKey, c, missingClaim, func(p claims.Payload, _ time.Time) *claims.ValidationError {
		v, ok := GetValue(p)
		if !ok {
			return &claims.ValidationError{Reason: map[string]any{"message": "value does not exist"}}
		}
		if v.Satisfied {
			return nil
		}
		return &claims.ValidationError{Reason: map[string]any{
			"message":          "not all required factors are completed",
			"completedFactors": v.CompletedFactors(),
		}}
	})
}

// HasCompletedFactors returns a validator that passes when the session
// completed factors meeting every requirement, whatever the user's own
// requirements are: e.g. HasCompletedFactors(Factor("totp")) on a route
// that always wants TOTP. A factor's substitutes count (the recovery code
// for TOTP, by default). Failures name what is missing:
//
//	{"message": "factor validation failed", "factorId": "totp"}
//	{"message": "none of the factors is completed", "oneOf": [...]}
//	{"message": "some factors are not completed", "allOfInAnyOrder": [...], "missing": [...]}
func (c *Claim) HasCompletedFactors(reqs ...Requirement) claims.Validator {
	reqs = slices.Clone(reqs)
	v := &completedValidator{claim: c, reqs: reqs}
	v.Validator = c.hasCompleted(reqs, c.subs)
	return v
}

// completedValidator is HasCompletedFactors' validator. Its substitutes
// (the recovery code for TOTP ...) are configured per recipe, so the
// package-level MFAClaim's validator takes them, through claims.Bind, from
// the recipe of the instance serving the request; unbound it uses those of
// c's own recipe, or the defaults.
type completedValidator struct {
	claims.Validator
	claim *Claim
	reqs  []Requirement
}

// Bind returns the validator with the substitutes of the recipe serving
// ctx.
func (v *completedValidator) Bind(ctx context.Context) claims.Validator {
	r, err := v.claim.recipe(ctx)
	if err != nil {
		return v.Validator
	}
	return v.claim.hasCompleted(v.reqs, func() substitutes { return r.subs })
}

func (c *Claim) hasCompleted(reqs []Requirement, subs func() substitutes) claims.Validator {
	return claims.Custom(ClaimKey, c, missingClaim, func(p claims.Payload, _ time.Time) *claims.ValidationError {
		v, ok := GetValue(p)
		if !ok {
			return &claims.ValidationError{Reason: map[string]any{"message": "value does not exist"}}
		}
		s := subs()
		for _, req := range reqs {
			if len(req.OneOf) > 0 && !slices.ContainsFunc(req.OneOf, func(id string) bool { return s.done(v.Completed, id) }) {
				return &claims.ValidationError{Reason: map[string]any{"message": "none of the factors is completed", "oneOf": req.OneOf}}
			}
			var miss []string
			for _, id := range req.AllOf {
				if !s.done(v.Completed, id) {
					miss = append(miss, id)
				}
			}
			switch {
			case len(miss) == 0:
			case len(req.AllOf) == 1:
				return &claims.ValidationError{Reason: map[string]any{"message": "factor validation failed", "factorId": miss[0]}}
			default:
				return &claims.ValidationError{Reason: map[string]any{"message": "some factors are not completed",
					"allOfInAnyOrder": req.AllOf, "missing": miss}}
			}
		}
		return nil
	})
}

// IsSatisfied is MFAClaim.IsSatisfied().
func IsSatisfied() claims.Validator { return MFAClaim.IsSatisfied() }

// HasCompletedFactors is MFAClaim.HasCompletedFactors(reqs...).
func HasCompletedFactors(reqs ...Requirement) claims.Validator {
	return MFAClaim.HasCompletedFactors(reqs...)
}
