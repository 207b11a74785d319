// Package port declares the interfaces the core needs from the outside world,
// in domain types only. Adapters implement them; use cases depend on them.
// Each port is named for a capability and stays small.
package port
