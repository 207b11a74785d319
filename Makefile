# m9m auth service. `make help` lists the targets.
GO       ?= go
BIN      := bin/m9m
VERSION  ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS  := -s -w -X main.version=$(VERSION)
GOLANGCI_LINT_VERSION := v2.15.0
GOFUMPT_VERSION       := v0.9.2
GOVULNCHECK_VERSION   := v1.1.4
GOBIN    := $(shell $(GO) env GOPATH)/bin

.DEFAULT_GOAL := help
.PHONY: help build run test test-unit test-repeat lint fmt bench up down migrate services

help: ## List the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  %-10s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

build: ## Build bin/m9m
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags '$(LDFLAGS)' -o $(BIN) ./cmd/m9m

services: ## Make sure local Postgres and Redis run (installs/starts them if needed)
	@scripts/services.sh

run: build services ## Serve on :8080 (or $$M9M_SERVER_PORT) against local Postgres/Redis, dev secrets generated
	@scripts/dev-run.sh

test: services ## All tests (unit, contract, integration, end-to-end, fuzz seeds) with -race
	$(GO) test -race -count=1 -timeout 20m ./...

N   ?= 10
PKG ?= ./test/e2e/
test-repeat: services ## Run PKG (default ./test/e2e/) N times in a row with -race (default N=10), stopping at the first failure
	@for i in $$(seq 1 $(N)); do echo "== test-repeat: run $$i of $(N): $(PKG)"; $(GO) test -race -count=1 -timeout 20m $(PKG) || { echo "== test-repeat: run $$i of $(N) FAILED"; exit 1; }; done; echo "== test-repeat: $(N) of $(N) passed"

test-unit: ## Unit tests only (no Postgres/Redis needed)
	$(GO) test -short -count=1 ./...

lint: ## golangci-lint (incl. depguard layering rules) and govulncheck when its database is reachable
	@scripts/lint.sh $(GOLANGCI_LINT_VERSION) $(GOVULNCHECK_VERSION)

fmt: ## Format with gofumpt
	@test -x $(GOBIN)/gofumpt || $(GO) install mvdan.cc/gofumpt@$(GOFUMPT_VERSION)
	$(GOBIN)/gofumpt -l -w .

bench: build services ## Go benchmarks and a bounded load run on loopback
	@scripts/bench.sh

migrate: build services ## Apply migrations to the configured database
	$(BIN) migrate up $(if $(CONFIG),--config $(CONFIG))

up: ## docker compose up (app, Postgres, Redis) — needs a Docker engine; creates ./secrets if missing
	@scripts/compose-secrets.sh
	docker compose up -d --build

down: ## docker compose down
	docker compose down
