package jwt

import (
	gojwt "github.com/golang-jwt/jwt/v5"
)

// issuedClaims is the payload we sign. It spells out every field (rather
// than embedding gojwt.RegisteredClaims) so that "aud" is a single string,
// without touching golang-jwt's process-wide MarshalSingleStringAsArray.
type issuedClaims struct {
	Issuer    string `json:"iss"`
	Audience  string `json:"aud"`
	Subject   string `json:"sub"`
	SessionID string `json:"sid"`
	ID        string `json:"jti"`
	// Username and Role are private claims, so that authenticating a
	// request needs no database read (see session.Claims).
	Username  string             `json:"username,omitempty"`
	Role      string             `json:"role,omitempty"`
	IssuedAt  *gojwt.NumericDate `json:"iat"`
	NotBefore *gojwt.NumericDate `json:"nbf"`
	ExpiresAt *gojwt.NumericDate `json:"exp"`
}

// The gojwt.Claims methods; golang-jwt only calls them when parsing, but the
// type must implement the interface to be signed.

func (c issuedClaims) GetExpirationTime() (*gojwt.NumericDate, error) { return c.ExpiresAt, nil }
func (c issuedClaims) GetIssuedAt() (*gojwt.NumericDate, error)       { return c.IssuedAt, nil }
func (c issuedClaims) GetNotBefore() (*gojwt.NumericDate, error)      { return c.NotBefore, nil }
func (c issuedClaims) GetIssuer() (string, error)                     { return c.Issuer, nil }
func (c issuedClaims) GetSubject() (string, error)                    { return c.Subject, nil }
func (c issuedClaims) GetAudience() (gojwt.ClaimStrings, error) {
	return gojwt.ClaimStrings{c.Audience}, nil
}

// verifiedClaims is what Verify decodes into. RegisteredClaims accepts "aud"
// as a string or an array, and does the type checks on the time claims.
type verifiedClaims struct {
	gojwt.RegisteredClaims
	SessionID string `json:"sid"`
	Username  string `json:"username"`
	Role      string `json:"role"`
}
