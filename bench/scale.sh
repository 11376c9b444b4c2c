#!/usr/bin/env bash
# Scale: a SQLite store of SESSIONS sessions x 3 cookies; gateway RSS and latency under traffic
# over random tokens, beside the same gateway serving 1,000 tokens round-robin.
#
# Usage: bench/scale.sh [SESSIONS]        (default 1000000)
# Env:   TOKENJAR_BIN, SCALE_DIR (default /tmp/tokenjar-scale; the store is kept there and reused
#        when it already holds SESSIONS sessions), DURATION=20 s per run, ROUNDS=2, CONNS=32,
#        TOKENJAR_STORE_CACHE_ENTRIES (the gateway's bound; default from the config: 100000),
#        FILL=120000 distinct tokens sent once each at the end (bench/drive.py), so the cache
#        reaches its bound before the last RSS reading (0: skip).
# Method: bench/populate-sqlite.py fills the store (once); an nginx backend (bench/conf) on
# 127.0.0.1:18280 and the gateway on :18283 (one event loop, CPU 1; wrk on CPU 0) run
# alternately: A = tokens.lua over tok-000001..tok-001000, B = tokens-random.lua over all
# SESSIONS. Prints req/s, p50/p99 per run and the gateway's RSS (VmRSS, peak VmHWM) after each.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
SESSIONS=${1:-1000000}
BIN=${TOKENJAR_BIN:-$HERE/../.build/release/tokenjar}
DIR=${SCALE_DIR:-/tmp/tokenjar-scale}
DURATION=${DURATION:-20}
ROUNDS=${ROUNDS:-2}
CONNS=${CONNS:-32}
mkdir -p "$DIR/backend/tmp"
KEYFILE=$DIR/key
[[ -f $KEYFILE ]] || echo "1:$(head -c 32 /dev/urandom | base64)" > "$KEYFILE"
export TOKENJAR_STORE_ENCRYPTION_KEYS=$(cat "$KEYFILE")
DB=$DIR/jars-$SESSIONS.db
if [[ ! -f $DB.done ]]; then
    rm -f "$DB" "$DB"-*
    python3 "$HERE/populate-sqlite.py" "$BIN" "$DB" "$SESSIONS"
    touch "$DB.done"
fi

BACKEND_PID="" GATEWAY_PID=""
cleanup() {
    [[ -n $GATEWAY_PID ]] && kill -TERM "$GATEWAY_PID" 2>/dev/null && wait "$GATEWAY_PID" 2>/dev/null || true
    [[ -n $BACKEND_PID ]] && kill -TERM "$BACKEND_PID" 2>/dev/null && wait "$BACKEND_PID" 2>/dev/null || true
}
trap cleanup EXIT
wait_port() {
    for ((i = 0; i < 300; i++)); do (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0; sleep 0.1; done
    echo "nothing listens on $1" >&2; return 1
}
userline=""
[[ $(id -u) -eq 0 ]] && userline="user $(id -un) $(id -gn);"
sed -e "s#@RUN@#$DIR#g" -e "s#@USER_DIRECTIVE@#$userline#" -e "s#127.0.0.1:18080#127.0.0.1:18280#" \
    "$HERE/conf/backend.nginx.conf.in" > "$DIR/backend/nginx.conf"
taskset -c 1 nginx -p "$DIR/backend/" -c "$DIR/backend/nginx.conf" > /dev/null 2>&1 &
BACKEND_PID=$!
wait_port 18280
TOKENJAR_SERVER_EVENT_LOOPS=1 TOKENJAR_LOG_ACCESS_LOG=false TOKENJAR_SERVER_ADOPT_CLIENT_TOKENS=true TOKENJAR_SESSIONS_MINT_RATE=0 \
TOKENJAR_LOG_LEVEL=warning taskset -c 1 "$BIN" serve --listen 127.0.0.1:18283 \
    --upstream http://127.0.0.1:18280 --store "sqlite:$DB" > "$DIR/gateway.log" 2>&1 &
GATEWAY_PID=$!
wait_port 18283

rss() { awk '/^VmRSS|^VmHWM/ { printf "%s %d MB  ", $1, $2 / 1024 }' "/proc/$GATEWAY_PID/status"; }
run() {  # run LABEL SCRIPT TOKENS
    local line
    line=$(taskset -c 0 wrk -t1 -c"$CONNS" -d"${DURATION}s" --timeout 5s -s "$HERE/$2" http://127.0.0.1:18283/ -- "$3" |
        grep '^BENCH ')
    echo "$line" | awk -v l="$1" '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] } }
        END { printf "%-22s %8.0f req/s  p50 %6d us  p99 %6d us  errors %d  ", l, v["requests"] / (v["duration_us"] / 1e6),
              v["p50_us"], v["p99_us"], v["err_connect"] + v["err_read"] + v["err_write"] + v["err_status"] + v["err_timeout"] }'
    rss; echo
}
echo "store: $SESSIONS sessions x 3 cookies ($(du -m "$DB" | cut -f1) MB), gateway RSS at start: $(rss)"
run "warm-up 1000 tokens" tokens.lua 1000 > /dev/null
for ((r = 1; r <= ROUNDS; r++)); do
    run "r$r 1000 tokens" tokens.lua 1000
    run "r$r random of $SESSIONS" tokens-random.lua "$SESSIONS"
done
FILL=${FILL:-120000}
if [[ $FILL -gt 0 ]]; then
    python3 "$HERE/drive.py" 127.0.0.1:18283 "$FILL" 16 "$FILL" > "$DIR/fill.txt" || true
    echo "after $FILL distinct tokens once each ($(cat "$DIR/fill.txt")): $(rss)"
fi
