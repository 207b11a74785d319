// Package budget spends a caller's shared rate budget (contract §10, §15)
// from slices leased in advance, so that most requests cost no round trip
// to the shared store while the budget stays within a stated bound.
//
// Leased is a port.RateLimiter over a port.BudgetLeaser (the shared GCRA,
// Redis in the multi-instance mode) and a port.Clock. With T = 1 min /
// PerMinute, its semantics are:
//
//   - Slices. Each instance holds at most one slice per key: units already
//     spent from the shared budget, spent locally one per allowed request.
//     When the slice is empty or expired, the request leases a new one
//     synchronously (one round trip for that request); concurrent requests
//     for the same key share that one in-flight lease call (singleflight)
//     and then spend from its slice, or lease the next one.
//   - Validity. A slice is valid for v = Slack × T, capped at one second
//     (and at the leaser's ValidFor), counted from the moment its lease call
//     was sent, which is no later than the moment the shared store granted
//     it. Units not spent within v lapse: they are never carried over.
//   - Lease size. The size k of the next lease adapts per key: it starts at
//     1, doubles while slices run out before they expire, and falls back to
//     the number of units actually used when a slice lapses with units left;
//     it is never above Slack (so the units an instance holds and does not
//     use are bounded too) nor above Burst. Near the limit the leaser grants
//     fewer than k by itself, down to one (one round trip per request, as
//     without leasing).
//   - Denials. A lease that granted nothing is a denial: the key is denied
//     locally until the lease's send time + RetryAfter, without a round trip.
//     That is safe: the shared TAT only moves forward, so no unit conforms
//     before then.
//   - Slack 0 disables leasing: every Allow is exactly one lease of one
//     unit (what a plain GCRA Allow is), and nothing is kept.
//   - Decisions carry Limit, Remaining (the shared budget's Remaining after
//     the last lease plus the units still held), ResetAfter (the last
//     lease's, less the time since and T per unit held) and, when denied,
//     RetryAfter, for the X-RateLimit-* headers. For one instance they are
//     exactly the shared GCRA's answers while no slice lapses.
//   - Memory. The per-key map is capped (Settings.MaxKeys, 100,000 by
//     default); keys whose slice has expired and whose denial has passed are
//     swept when the map is full and every 1,024 new keys (at most once per
//     v). A key that finds the map full of live slices is served without a
//     slice: one lease of one unit, as with Slack 0.
//   - Errors from the leaser are returned as they are (the HTTP guard fails
//     open on them; domain.ErrUnavailable when the store is unreachable).
//     Requests that shared the failed lease call get its error; a request
//     whose own context ends while it waits gets domain.ErrUnavailable.
//
// # The bound
//
// Every unit is spent at most v after the shared store granted it, so the
// admissions of any window of length W come from grants made in a window of
// length W + v, where the GCRA grants at most Burst + (W + v) / T. So all
// instances together admit at most
//
//	Burst + W / T + Slack
//
// in any window of length W, whatever their number (Burst + W / T +
// 1 s / T when Slack × T is above one second). The request that triggers a
// lease is admitted when its answer arrives, as a plain Allow would be.
// Lapsed units are the price: they were spent from the shared budget and
// admitted nobody (at most one slice per key and instance per v), so a
// caller can be refused a little before its exact GCRA would refuse it,
// never later.
//
// The saving: a slice serves up to k requests for one round trip, and k
// settles near the requests a key gets within v. A caller at or above its
// limit gets k = Slack (one round trip per Slack requests, and none while
// denied); a caller at a fraction f of its limit gets about f × Slack.
//
// Every time is read from the Clock; time.Now's monotonic reading makes the
// validity and denial intervals immune to wall-clock steps in production.
package budget
