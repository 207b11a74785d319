package audit

import (
	"slices"

	"github.com/m9m/auth/domain"
)

// Field size limits of a stored event. Several fields carry attacker-chosen
// text (the username of a failed login, the user agent); the limits keep one
// request from writing megabytes into the audit table.
const (
	maxIDLen         = 128
	maxNameLen       = 256
	maxTypeLen       = 64
	maxTargetIDLen   = 256
	maxIPLen         = 64
	maxUserAgentLen  = 512
	maxOutcomeLen    = 16
	maxMetadataKeys  = 32
	maxMetadataKey   = 64
	maxMetadataValue = 1024
)

// Sanitized returns a copy of e that every store can keep as is: valid
// UTF-8 without NUL bytes (Postgres refuses both in text and jsonb, and one
// refused event would sink the whole batch it was written with), every field
// cut to its limit, and a private copy of Metadata (the caller may reuse its
// map after Record returns). Metadata keeps the first maxMetadataKeys keys in
// sorted order, so the result does not depend on map iteration.
func (e Event) Sanitized() Event {
	e.ID = clean(e.ID, maxIDLen)
	e.ActorID = clean(e.ActorID, MaxActorIDLen)
	e.ActorName = clean(e.ActorName, maxNameLen)
	e.Action = Action(clean(string(e.Action), MaxActionLen))
	e.TargetType = clean(e.TargetType, maxTypeLen)
	e.TargetID = clean(e.TargetID, maxTargetIDLen)
	e.IP = clean(e.IP, maxIPLen)
	e.UserAgent = clean(e.UserAgent, maxUserAgentLen)
	e.Outcome = Outcome(clean(string(e.Outcome), maxOutcomeLen))
	e.Metadata = cleanMetadata(e.Metadata)
	return e
}

func cleanMetadata(m map[string]string) map[string]string {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	out := make(map[string]string, min(len(keys), maxMetadataKeys))
	for _, k := range keys {
		if len(out) == maxMetadataKeys {
			break
		}
		ck := clean(k, maxMetadataKey)
		if ck == "" {
			continue
		}
		if _, dup := out[ck]; !dup {
			out[ck] = clean(m[k], maxMetadataValue)
		}
	}
	return out
}

// clean is domain.CleanText: the one rule for recorded request text.
func clean(s string, n int) string { return domain.CleanText(s, n) }
