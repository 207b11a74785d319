package postgres

// AuditListQuery exposes the listing query builder to the plan test.
var AuditListQuery = auditListQuery
