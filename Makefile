# Kehu — the two commands a user needs are `make run` and `make test`.
# Everything they need is installed by scripts/install-deps.sh (skipping what
# is already there).

SHELL := /bin/bash
export PATH := $(HOME)/.cargo/bin:$(PATH)

.PHONY: run test deps ui test-core test-ui test-desktop test-e2e test-notify test-syncthing bench fmt check clippy

## Build and open the desktop app on the default database (demo data on first start).
run: deps ui
	cargo build --release -p kehu-desktop
	./target/release/kehu-desktop

## Everything: core tests, UI unit tests, end-to-end tests, notification tests,
## team sync through two real Syncthing instances.
test: deps test-core test-ui test-desktop test-e2e test-notify test-syncthing
	@echo "All Kehu test suites passed."

deps:
	@./scripts/install-deps.sh

ui:
	cd ui && npm run build

test-core:
	cargo test -p kehu --no-fail-fast

test-ui:
	cd ui && npm run check && npm test

## The desktop shell's own tests (state, error mapping); Tauri embeds ui/dist.
test-desktop: ui
	cargo test -p kehu-desktop

test-e2e:
	./tests/e2e/run.sh

test-notify:
	cargo build -p kehu --bin kehu
	./tests/notify/run.sh target/debug/kehu

test-syncthing:
	cargo build -p kehu --bin kehu
	./tests/syncthing/run.sh target/debug/kehu

## Benchmarks (speed targets of the issues); not part of `make test`.
bench:
	cargo bench -p kehu

fmt:
	cargo fmt --all

check:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets -- -D warnings
