#!/usr/bin/env bash
# User-space instructions per HTTP request of `microvet serve`, counted by valgrind's
# callgrind: deterministic to ~1 %, so an A/B of the host's HTTP path does not depend on
# the machine's speed (which varies ±40 % from minute to minute here). The kernel's share
# (sockets, wake-ups: about half of a 404's CPU) is not counted; measure it with wrk
# (loadtest.sh). Needs valgrind and oha.
#
#   host/scripts/http-instructions.sh [BIN] [N]
#
# Prints, for GET /healthz, POST the manifest to an unknown policy (404, no vet) and a warm
# POST /v1/vet: instructions per request (all threads; counting is on only during the N
# requests, after a warm-up), and for the vet the share outside `Vetter::vet_summary` (or
# `vet_kind` in older builds): the HTTP path + handler, without the guest call.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=${1:-target/release/microvet}
N=${2:-3000}
PORT=${PORT:-18890}
MANIFEST=examples/hr-onboarding-helper.yaml
WORK=$(mktemp -d)
SERVER=
trap 'kill "$SERVER" 2>/dev/null || true; rm -rf "$WORK"' EXIT

count() { # PATH
  local path=$1 args=()
  case "$path" in /v1/*) args=(-m POST -D "$MANIFEST") ;; esac
  valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$WORK/cg.%p" \
    "$BIN" serve --listen "127.0.0.1:$PORT" --log-level warn >"$WORK/out" 2>"$WORK/err" &
  SERVER=$!
  for _ in $(seq 600); do grep -q listening "$WORK/out" 2>/dev/null && break; sleep 0.2; done
  oha -n 200 -c 16 --no-tui ${args[@]+"${args[@]}"} "http://127.0.0.1:$PORT$path" >/dev/null
  callgrind_control -i on "$SERVER" >/dev/null 2>&1
  oha -n "$N" -c 16 --no-tui ${args[@]+"${args[@]}"} "http://127.0.0.1:$PORT$path" >"$WORK/oha"
  callgrind_control -i off "$SERVER" >/dev/null 2>&1
  kill -INT "$SERVER"; wait "$SERVER" 2>/dev/null || true
  cat "$WORK"/cg.* >"$WORK/all"; rm -f "$WORK"/cg.*
  callgrind_annotate --inclusive=yes "$WORK/all" 2>/dev/null |
    awk -v path="$path" -v n="$N" -v codes="$(grep -oE '\[[0-9]+\] +[0-9]+ responses' "$WORK/oha" | tr '\n' ' ')" '
      /PROGRAM TOTALS/ {gsub(",", "", $1); total = $1}
      /microvet::Vetter::(vet_kind|vet_summary) \[/ {gsub(",", "", $1); vet = $1}
      END {
        printf "| %s | %.0f |", path, total / n
        if (vet) printf " %.0f |", (total - vet) / n; else printf " |"
        printf " %s|\n", codes
      }'
}

echo "| request | instructions/req | outside the vet call | responses |"
echo "|---|---:|---:|---|"
count /healthz
count "/v1/vet?policy=none"
count /v1/vet
