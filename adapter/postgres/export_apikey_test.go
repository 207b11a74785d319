package postgres

// SelectKeyGrant exposes the request path's query to the external tests,
// so they explain the real statement, not a copy.
const SelectKeyGrant = selectKeyGrant
