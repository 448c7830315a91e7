#!/usr/bin/env bash
# microvet's performance as ratios, each printed next to the limit it is measured against,
# all from one run on this machine (docs/PERFORMANCE.md's first table is this script's output).
#
#   scripts/bench.sh [SECONDS_PER_HTTP_ROW]       (default 5; ROUNDS=3 for the log at -c64)
#
# Needs valgrind (callgrind counts instructions: repeatable whatever else the machine does) and
# wrk (closed-loop HTTP load), both from Debian, and oha 1.4.5 (open-loop load with latency
# correction) from crates.io; each is installed here if missing. A measurement, not a test:
# CI does not run it.
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
command -v oha >/dev/null 2>&1 || { echo "installing oha (crates.io)" >&2; cargo install -q oha --locked --version 1.4.5; }
# oha 1.4 prints JSON with `--json`, later versions with `--output-format json`.
if oha --help | grep -q -- --output-format; then OHA_JSON="--output-format json"; else OHA_JSON=--json; fi

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

echo "HTTP (wrk -t1, -c16 and -c64; oha open loop at half the peak; ${SECS}s per row)" >&2
cat >"$WORK/post.lua" <<LUA
wrk.method = "POST"
wrk.headers["content-type"] = "application/yaml"
local f = io.open("$MANIFEST", "rb"); wrk.body = f:read("*a"); f:close()
LUA
serve() { # extra flags
  "$BIN" serve --listen "127.0.0.1:$PORT" --log-level warn "$@" >"$WORK/server.out" 2>"$WORK/server.err" &
  SERVER=$!
  for _ in $(seq 100); do curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 && break; sleep 0.1; done
  curl -fs "http://127.0.0.1:$PORT/healthz" >/dev/null 2>&1 || { echo "server did not start" >&2; cat "$WORK/server.err" >&2; exit 1; }
  # Warm-up: instances, caches, connections.
  wrk -t1 -c16 -d1s -s "$WORK/post.lua" "http://127.0.0.1:$PORT/v1/vet" >/dev/null
}
stop() { kill "$SERVER"; wait "$SERVER" 2>/dev/null || true; SERVER=; }
rps() { # CONNECTIONS PATH [wrk args]
  local c=$1 path=$2; shift 2
  wrk -t1 -c "$c" -d "${SECS}s" "$@" "http://127.0.0.1:$PORT$path" | sed -n 's/^Requests\/sec: *//p'
}
# Open loop: RATE requests/s offered whatever the answers' latency, timed from when each
# request was due (oha's latency correction: no coordinated omission). Prints
# "p99_us answered_200_per_s ok errors": the rate counts 200s only, and errors are oha's
# (connection errors, requests still in flight at the end) plus answers other than 200.
open_loop() { # PATH RATE
  local args=()
  case "$1" in /v1/*) args=(-m POST -T application/yaml -D "$MANIFEST") ;; esac
  oha -z "${SECS}s" -c 64 -q "$2" --latency-correction --no-tui $OHA_JSON \
    ${args[@]+"${args[@]}"} "http://127.0.0.1:$PORT$1" >"$WORK/oha.json"
  python3 - "$WORK/oha.json" <<'PY2'
import json, sys
d = json.load(open(sys.argv[1]))
codes = d.get("statusCodeDistribution", {})
ok = codes.get("200", 0)
errors = sum(codes.values()) - ok + sum(d.get("errorDistribution", {}).values())
print(f"{d['latencyPercentiles']['p99'] * 1e6:.0f} {ok / d['summary']['total']:.0f} {ok} {errors}")
PY2
}
serve
healthz=$(rps 16 /healthz)
vets=$(rps 16 /v1/vet -s "$WORK/post.lua")
vets64=$(rps 64 /v1/vet -s "$WORK/post.lua")
# Half the peak the closed loops just measured, offered to /healthz and /v1/vet alike.
half=$(python3 -c "import sys; print(int(max(float(sys.argv[1]), float(sys.argv[2])) / 2))" "$vets" "$vets64")
open_loop /healthz "$half" >"$WORK/ol"; read -r p99_h _ ok_h err_h <"$WORK/ol"
open_loop /v1/vet "$half" >"$WORK/ol"; read -r p99_v _ ok_v err_v <"$WORK/ol"
stop
serve --decision-log "$WORK/decisions.jsonl"
vets_log=$(rps 16 /v1/vet -s "$WORK/post.lua")
vets_log64=$(rps 64 /v1/vet -s "$WORK/post.lua")
open_loop /v1/vet "$half" >"$WORK/ol"; read -r p99_l got_l ok_l err_l <"$WORK/ol"
stop
serve --instances fresh
vets_fresh=$(rps 16 /v1/vet -s "$WORK/post.lua")
stop
# The log's cost at capacity, the figure that moves most with the machine: ROUNDS more
# alternating pairs of servers, the median of each side (the rows above count as one round).
median() { python3 -c "import statistics, sys; print(statistics.median(float(x) for x in sys.argv[1:]))" "$@"; }
plain64=("$vets64") logged64=("$vets_log64")
for _ in $(seq 2 "${ROUNDS:-3}"); do
  serve; plain64+=("$(rps 64 /v1/vet -s "$WORK/post.lua")"); stop
  rm -f "$WORK"/decisions.jsonl*; serve --decision-log "$WORK/decisions.jsonl"; logged64+=("$(rps 64 /v1/vet -s "$WORK/post.lua")"); stop
done
vets64=$(median "${plain64[@]}"); vets_log64=$(median "${logged64[@]}")

gz=$("$BIN" component --out "$WORK/c.wasm" >/dev/null && gzip -9 -c "$WORK/c.wasm" | wc -c)

echo
echo "$(date -u +%FT%TZ), $(nproc) CPUs, load average $(cut -d' ' -f1-3 /proc/loadavg), manifest $MANIFEST"
echo
# Every ratio is computed before it is printed, so a failure stops the script.
r_instr=$(ratio "$warm" "$native"); r_typed=$(ratio "$typed" "$native"); r_fresh=$(ratio "$fresh" "$warm")
r_fresh_t=$(ratio "$fresh_t" "$warm_t"); r_http=$(ratio "$vets" "$healthz")
r_log16=$(ratio "$vets_log" "$vets"); r_log64=$(ratio "$vets_log64" "$vets64")
r_p99=$(ratio "$p99_v" "$p99_h"); r_p99_log=$(ratio "$p99_l" "$p99_v"); r_got=$(ratio "$got_l" "$half")
r_fresh_http=$(ratio "$vets_fresh" "$vets")
row "ratio" "figure" "limit (same run)" "value"
row "---" "---:" "---:" "---:"
row "warm vet in wasmtime ÷ native core, instructions (\`vet_summary\`)" "$warm" "$native" "$r_instr×"
row "warm vet in wasmtime ÷ native core, instructions (typed \`vet\`)" "$typed" "$native" "$r_typed×"
row "fresh instance per vet ÷ warm vet, instructions" "$fresh" "$warm" "$r_fresh×"
row "fresh instance per vet ÷ warm vet, time (µs)" "$fresh_t" "$warm_t" "$r_fresh_t×"
row "HTTP vets/s ÷ \`GET /healthz\` req/s, same server (-c16)" "$vets" "$healthz" "$r_http"
row "HTTP vets/s with \`--decision-log\` ÷ without, -c16 (a closed loop of 16: bound by the sync's latency)" "$vets_log" "$vets" "$r_log16"
row "HTTP vets/s with \`--decision-log\` ÷ without, -c64 (both at capacity; median of ${ROUNDS:-3} alternating rounds)" "$vets_log64" "$vets64" "$r_log64"
row "p99 of vets ÷ p99 of \`/healthz\`, open loop at $half/s (half the peak), µs" "$p99_v" "$p99_h" "$r_p99×"
row "p99 of vets with \`--decision-log\` ÷ without, open loop at $half/s, µs" "$p99_l" "$p99_v" "$r_p99_log×"
row "vets/s answered 200 with \`--decision-log\` ÷ offered, open loop" "$got_l" "$half" "$r_got"
row "HTTP vets/s with \`--instances fresh\` ÷ warm (-c16)" "$vets_fresh" "$vets" "$r_fresh_http"
echo
echo "component: $(wc -c <"$WORK/c.wasm") B raw, $gz B gzip -9; open-loop 200s (and errors): /healthz $ok_h ($err_h), vets $ok_v ($err_v), vets with the log $ok_l ($err_l)"
