# siphon's build, test and lint entry points. CI runs .ci/run, which calls
# `make lint` and `make test`.

SHELL := bash
.SHELLFLAGS := -eu -o pipefail -c
.DEFAULT_GOAL := build

GO ?= go
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo 0.1.0-dev)
GOBIN := $(shell $(GO) env GOPATH)/bin
GOLANGCI_LINT_VERSION := v2.15.0
GOLANGCI_LINT := $(GOBIN)/golangci-lint

# Unit tests run with the race detector; integration tests (real servers,
# subprocesses) without it, to keep `make test` well under 15 minutes.
UNIT_PKGS = $$($(GO) list ./... | grep -v '/integration\(/\|$$\)')

.PHONY: build test unit integration lint bench demo mongosim ferretdb deps clean

build:
	$(GO) build -ldflags "-X main.version=$(VERSION)" -o bin/siphon ./cmd/siphon

deps:
	bash .ci/deps

test: deps ferretdb
	$(GO) vet ./...
	$(GO) test -race -count=1 $(UNIT_PKGS)
	FERRETDB_BIN=$(FERRETDB_BIN) $(GO) test -count=1 -timeout 12m ./integration/...

unit:
	$(GO) test -race -count=1 $(UNIT_PKGS)

integration: deps ferretdb
	FERRETDB_BIN=$(FERRETDB_BIN) $(GO) test -count=1 -timeout 12m ./integration/...

lint:
	@unformatted=$$(gofmt -l .); \
	if [ -n "$$unformatted" ]; then echo "gofmt -l: these files need gofmt -w:"; echo "$$unformatted"; exit 1; fi
	@if ! "$(GOLANGCI_LINT)" version 2>/dev/null | grep -q "version $(GOLANGCI_LINT_VERSION:v%=%)"; then \
		echo "installing golangci-lint $(GOLANGCI_LINT_VERSION) into $(GOBIN)"; \
		GOBIN="$(GOBIN)" $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION) || true; \
	fi
	@if "$(GOLANGCI_LINT)" version 2>/dev/null | grep -q "version $(GOLANGCI_LINT_VERSION:v%=%)"; then \
		"$(GOLANGCI_LINT)" run ./...; \
	else \
		echo "WARNING: golangci-lint $(GOLANGCI_LINT_VERSION) could not be installed; falling back to go vet + gofmt only"; \
		$(GO) vet ./...; \
	fi

bench:
	$(GO) test -run '^$$' -bench . -benchmem ./pipeline/... ./capture/... ./sink/...

demo: deps
	$(GO) run ./integration/demo

# A simulated MongoDB replica set (rs0) on a free loopback port; prints its URI.
mongosim:
	$(GO) run ./integration/mongosim/cmd/mongosim

# Embedded FerretDB (SQLite backend), a real MongoDB-compatible server for
# the MongoDB tests; a nested module keeps its dependencies out of siphon's.
FERRETDB_BIN := $(CURDIR)/bin/ferretdb-embedded
ferretdb:
	cd integration/ferretdb && $(GO) build -o $(FERRETDB_BIN) ./cmd/ferretdb-embedded

clean:
	rm -rf bin
