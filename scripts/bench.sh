#!/usr/bin/env bash
# microvet's performance as ratios, each printed next to the limit it is measured against,
# all from one run on this machine (docs/PERFORMANCE.md's first table is this script's output).
#
#   scripts/bench.sh [SECONDS_PER_HTTP_ROW]       (default 5)
#
# Needs valgrind (callgrind counts instructions: repeatable whatever else the machine does) and
# wrk (closed-loop HTTP load); both come from Debian and are installed here if missing. A
# measurement, not a test: CI does not run it.
set -euo pipefail
cd "$(dirname "$0")/.."
SECS=${1:-5}
MANIFEST=${MANIFEST:-examples/hr-onboarding-helper.yaml}
PORT=${PORT:-18797}
N=${N:-200}

need() { # COMMAND PACKAGE
  command -v "$1" >/dev/null 2>&1 && return
  echo "installing $2 (Debian)" >&2
  local sudo=; [ "$(id -u)" = 0 ] || sudo=sudo
  $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$2" >/dev/null
}
need valgrind valgrind
need wrk wrk

echo "building (release)" >&2
cargo build --release --locked -q -p microvet --bin microvet --example vet_loop --example warm_pool
BIN=target/release/microvet
LOOP=target/release/examples/vet_loop
WORK=$(mktemp -d)
SERVER=
trap '[ -n "$SERVER" ] && kill "$SERVER" 2>/dev/null; rm -rf "$WORK"' EXIT
# The compiled-code cache, warm before anything is counted.
export MICROVET_CACHE_DIR="$WORK/cache"
"$LOOP" warm 1 "$MANIFEST" >/dev/null

row() { printf '| %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4"; }
ratio() { python3 -c "import sys; print(f'{float(sys.argv[1]) / float(sys.argv[2]):.2f}')" "$1" "$2"; }

# Instructions for N vets: callgrind of 2N minus callgrind of N (start-up cancels out).
instr() { # MODE COUNT
  valgrind --tool=callgrind --callgrind-out-file="$WORK/cg.out" "$LOOP" "$1" "$2" "$MANIFEST" \
    >/dev/null 2>"$WORK/cg.err"
  sed -n 's/^summary: //p' "$WORK/cg.out"
}
per_vet() { # MODE
  local a b
  a=$(instr "$1" "$N"); b=$(instr "$1" $((2 * N)))
  echo $(((b - a) / N))
}
# wasmtime's compiled-code cache is keyed by the CPU's features, which differ under valgrind:
# one uncounted run fills it.
instr warm 1 >/dev/null
echo "counting instructions (callgrind, $N vs $((2 * N)) vets per mode)" >&2
native=$(per_vet native)
warm=$(per_vet warm)
typed=$(per_vet warm-typed)
fresh=$(per_vet fresh)

echo "timing fresh vs warm instances in-process" >&2
"$BIN" --version >/dev/null
fresh_us=$(python3 - "$LOOP" "$MANIFEST" <<'PY'
import subprocess, sys, time
loop, manifest = sys.argv[1], sys.argv[2]
def best(mode, n):
    t = []
    for _ in range(5):
        s = time.perf_counter(); subprocess.run([loop, mode, str(n), manifest], check=True, capture_output=True); t.append(time.perf_counter() - s)
    return min(t)
# per vet: (time of 2n - time of n) / n, the start-up cancels out
f = (best("fresh", 400) - best("fresh", 200)) / 200 * 1e6
w = (best("warm", 4000) - best("warm", 2000)) / 2000 * 1e6
print(f"{f:.1f} {w:.1f}")
PY
)
read -r fresh_t warm_t <<<"$fresh_us"

echo "HTTP (wrk -t1 -c16, ${SECS}s per row)" >&2
cat >"$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["content-type"] = "application/yaml"
local f = io.open("$MANIFEST", "rb"); wrk.body = f:read("*a"); f:close()
LUA
serve() { # extra flags
  "$BIN" serve --listen "127.0.0.1:$PORT" --log-level warn "$@" >"$WORK/server.out" 2>"$WORK/server.err" &
  SERVER=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && return; sleep 0.1; done
  echo "server did not start" >&2; cat "$WORK/server.err" >&2; exit 1
}
stop() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=; }
rps() { # PATH [wrk args]
  local path=$1; shift
  wrk -t1 -c16 -d "${SECS}s" "$@" "http://127.0.0.1:$PORT$path" | sed -n 's/^Requests\/sec: *//p'
}
serve
healthz=$(rps /healthz)
vets=$(rps /v1/vet -s "$WORK/post.lua")
stop
serve --decision-log "$WORK/decisions.jsonl"
vets_log=$(rps /v1/vet -s "$WORK/post.lua")
stop
serve --instances fresh
vets_fresh=$(rps /v1/vet -s "$WORK/post.lua")
stop

gz=$("$BIN" component --out "$WORK/c.wasm" >/dev/null && gzip -9 -c "$WORK/c.wasm" | wc -c)

echo
echo "$(date -u +%FT%TZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), manifest $MANIFEST"
echo
row "ratio" "figure" "limit (same run)" "value"
row "---" "---:" "---:" "---:"
row "warm vet in wasmtime ÷ native core, instructions (\`vet_summary\`)" "$warm" "$native" "$(ratio "$warm" "$native")×"
row "warm vet in wasmtime ÷ native core, instructions (typed \`vet\`)" "$typed" "$native" "$(ratio "$typed" "$native")×"
row "fresh instance per vet ÷ warm vet, instructions" "$fresh" "$warm" "$(ratio "$fresh" "$warm")×"
row "fresh instance per vet ÷ warm vet, time (µs)" "$fresh_t" "$warm_t" "$(ratio "$fresh_t" "$warm_t")×"
row "HTTP vets/s ÷ \`GET /healthz\` req/s, same server" "$vets" "$healthz" "$(ratio "$vets" "$healthz")"
row "HTTP vets/s with \`--decision-log\` ÷ without" "$vets_log" "$vets" "$(ratio "$vets_log" "$vets")"
row "HTTP vets/s with \`--instances fresh\` ÷ warm" "$vets_fresh" "$vets" "$(ratio "$vets_fresh" "$vets")"
echo
echo "component: $(wc -c <"$WORK/c.wasm") B raw, $gz B gzip -9"
