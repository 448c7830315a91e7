#!/usr/bin/env bash
# The HTTP API against its contract: validates host/openapi.json as OpenAPI 3.1
# (openapi-spec-validator), starts `microvet serve` on 127.0.0.1 (a free port), runs
# schemathesis with every check (`--checks all`) from a fixed seed with a bounded number of
# examples per operation, and fails on any finding. Python tools are pinned and installed
# into a venv under target/ (once). Runs alone or from scripts/test.sh.
#
#   MICROVET_BIN      the binary to serve (default: target/release/microvet, built if missing)
#   ST_MAX_EXAMPLES   examples per operation and phase (default 60)
#   ST_SEED           Micro Apps, Macro Risk (default 20260101)
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)

SCHEMATHESIS_VERSION=4.32.5
VALIDATOR_VERSION=0.9.0
venv="$root/target/py/venv"
stamp="$venv/.microvet-$SCHEMATHESIS_VERSION-$VALIDATOR_VERSION"

if [ ! -e "$stamp" ]; then
  echo "installing schemathesis==$SCHEMATHESIS_VERSION, openapi-spec-validator==$VALIDATOR_VERSION into $venv"
  rm -rf "$venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check \
    "schemathesis==$SCHEMATHESIS_VERSION" "openapi-spec-validator==$VALIDATOR_VERSION"
  touch "$stamp"
fi

"$venv/bin/openapi-spec-validator" host/openapi.json

bin=${MICROVET_BIN:-$root/target/release/microvet}
if [ ! -x "$bin" ]; then
  cargo build --release --locked -p microvet
fi

work=$(mktemp -d)
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  rm -rf "$work"
}
trap cleanup EXIT

# An admin API token, so that `POST /v1/discover` (admin role) is exercised too: every
# request carries it, and schemathesis drops it to check that the route then answers 401.
token="st-$(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')"
printf 'schemathesis admin %s\n' "$(printf '%s' "$token" | sha256sum | cut -d' ' -f1)" >"$work/tokens"

# Port 0: the server picks a free port and prints it.
"$bin" serve --listen 127.0.0.1:0 --log-level warn --discover --api-tokens "$work/tokens" \
  >"$work/stdout" 2>"$work/stderr" &
server_pid=$!
addr=""
for _ in $(seq 1 600); do
  addr=$(sed -n 's|^microvet: listening on http://||p' "$work/stdout")
  [ -n "$addr" ] && break
  if ! kill -0 "$server_pid" 2>/dev/null; then
    cat "$work/stderr" >&2
    echo "schemathesis: the server did not start" >&2
    exit 1
  fi
  sleep 0.1
done
if [ -z "$addr" ]; then
  echo "schemathesis: the server did not print its address" >&2
  exit 1
fi

# `--checks all` fails the run on any finding (exit code 1).
(
  cd "$work"
  "$venv/bin/st" --config-file "$root/scripts/schemathesis.toml" run "http://$addr/openapi.json" \
    --checks all \
    --header "Authorization: Bearer $token" \
    --seed "${ST_SEED:-20260101}" \
    --max-examples "${ST_MAX_EXAMPLES:-60}" \
    --workers 2 \
    --request-timeout 10 \
    --generation-database none \
    --no-color
)
echo "schemathesis: no findings"
