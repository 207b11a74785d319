#!/usr/bin/env bash
# `make lint`: golangci-lint v2 (config in .golangci.yml: depguard keeps
# domain/port/usecase free of frameworks), and govulncheck with VULNCHECK=1.
# Tools are built from the Go module proxy on first use. govulncheck needs
# the Go vulnerability database online, which CI machines here cannot reach,
# so it is opt-in and the script says loudly when it did not run.
set -euo pipefail
GOLANGCI_VERSION=${1:-v2.15.0}
VULN_VERSION=${2:-v1.1.4}
GOBIN=$(go env GOPATH)/bin

if ! "$GOBIN/golangci-lint" version 2>/dev/null | grep -q "${GOLANGCI_VERSION#v}"; then
  echo "lint: installing golangci-lint $GOLANGCI_VERSION (first run builds it, a few minutes)" >&2
  GOFLAGS= go install "github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$GOLANGCI_VERSION"
fi
"$GOBIN/golangci-lint" run ./...

if [ "${VULNCHECK:-0}" = 1 ]; then
  [ -x "$GOBIN/govulncheck" ] || GOFLAGS= go install "golang.org/x/vuln/cmd/govulncheck@$VULN_VERSION"
  "$GOBIN/govulncheck" ./...
else
  echo "lint: NOTE: govulncheck not run; it needs the Go vulnerability database online. Run: VULNCHECK=1 make lint" >&2
fi
