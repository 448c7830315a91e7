#!/usr/bin/env bash
# Runs every test of microvet: Rust (core, host, CLI), the HTTP API against its OpenAPI
# document (schemathesis), Node (package, parity, PKCE interop) and the browser (Chromium
# via playwright-core). Installs what is missing on a fresh machine: the wasm target, npm
# packages (from package-lock.json), Debian's chromium and postgresql (a throwaway cluster,
# scripts/postgres.sh), a Python venv under target/py with the pinned schemathesis and
# openapi-spec-validator.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

step() { printf '\n==> %s\n' "$*"; }

step "toolchain"
if ! rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  rustup target add wasm32-unknown-unknown
fi

step "PostgreSQL for the inventory's tests (a throwaway cluster under target/pg)"
MICROVET_TEST_POSTGRES_URL=$(./scripts/postgres.sh)
export MICROVET_TEST_POSTGRES_URL
trap '"$root/scripts/postgres.sh" stop >/dev/null 2>&1 || true' EXIT
# Tests that need a service (the test OpenID provider, PostgreSQL) fail instead of skipping.
export MICROVET_REQUIRE_SERVICES=1

# Before the Rust tests: the lifecycle tests run the test OpenID provider
# (web/test/support/op.mjs, npm `oidc-provider`) from web/node_modules.
step "npm packages (package-lock.json)"
(cd "$root/web" && npm ci --no-audit --no-fund)

step "rust tests (core + wasmtime host + CLI)"
cargo test --locked
cargo test --locked -p microvet-core --features schema --test schemas

step "component for the web package (the same bytes the host embeds)"
cargo build --release --locked -p microvet
mkdir -p web/dist
./target/release/microvet component --out web/dist/microvet.wasm

step "HTTP API contract (OpenAPI 3.1 validation, schemathesis --checks all)"
MICROVET_BIN="$root/target/release/microvet" ./scripts/schemathesis.sh

step "chromium for browser tests"
if ! command -v chromium >/dev/null 2>&1 && [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    sudo apt-get update -qq && sudo DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  fi
fi

step "node + browser tests"
cd "$root/web"
MICROVET_WASM="$root/web/dist/microvet.wasm" npm run build
npm test
