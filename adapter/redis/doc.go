// Package redis holds the adapters whose state every instance must share at
// once: the token denylist, the login throttle and the request rate limiter.
// Every key lives under a caller-given prefix, so deployments and test
// packages can share one Redis. Redis failures come back as
// domain.ErrUnavailable, never as an authentication failure.
//
// Redis Cluster: a command or script that touches several keys needs them in
// one hash slot. The denylist's keys all carry the hash tag {deny} (its
// epoch marker and rebuild lock too), so the one-round-trip Check (an MGET
// of the jti, sid, user and epoch keys), the ClaimRefresh script and the
// rebuild's batch scripts work on a cluster; the price is that the denylist lives
// on one shard, which its small, TTL-bounded size and O(1) reads afford.
// Principal rate budgets (user:, key:) carry {deny} too, so the Gate's one
// script can check a token and spend its budget; IP budgets do not. The
// throttle's keys carry a tag derived from the client IP, so the two
// counters of one failure share a slot while different IPs spread out. A
// caller-given prefix must not contain a hash tag of its own ("{...}"), or it
// would pin every key to one slot (still correct, just unsharded).
package redis
