#!/usr/bin/env bash
# The gateway beside nginx and HAProxy in bench/harness.sh, for each store and token count.
#
# Usage: bench/suite.sh                 (stores: memory sqlite; tokens: 10 1000 100000)
# Env:   STORES="memory sqlite postgres"  POSTGRES_URL=postgres://user@127.0.0.1:5432/db (for postgres)
#        TOKEN_COUNTS="10 1000 100000"    TOKENJAR_BIN (default .build/release/tokenjar)
#        and the harness's own knobs (DURATION, ROUNDS, WARMUP, CONNS, TARGETS, RESULTS_DIR).
# Needs nginx, haproxy, wrk, curl (Debian packages) and a release build:
#   swift build -c release --product tokenjar
# Each combination is one harness run (targets alternate A/B inside it); its summary is printed
# and kept under RESULTS_DIR. A fresh SQLite database is used for every run.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
export TOKENJAR_BIN=${TOKENJAR_BIN:-$HERE/../.build/release/tokenjar}
export TOKENJAR_STORE_ENCRYPTION_KEYS=${TOKENJAR_STORE_ENCRYPTION_KEYS:-"1:$(head -c 32 /dev/urandom | base64)"}
[[ -x $TOKENJAR_BIN ]] || { echo "no gateway binary at $TOKENJAR_BIN (swift build -c release --product tokenjar)" >&2; exit 2; }
for store in ${STORES:-memory sqlite}; do
    case $store in
        postgres) [[ -n ${POSTGRES_URL:-} ]] || { echo "postgres needs POSTGRES_URL" >&2; exit 2; }
                  bench_store=$POSTGRES_URL ;;
        *) bench_store=$store ;;
    esac
    for tokens in ${TOKEN_COUNTS:-10 1000 100000}; do
        echo "=== store=$store tokens=$tokens"
        db_dir=$(mktemp -d /tmp/tokenjar-bench-db.XXXXXX)
        BENCH_SQLITE_DIR=$db_dir BENCH_STORE=$bench_store TOKENS=$tokens GATEWAY_CMD="$HERE/gateway.sh" \
            TARGETS=${TARGETS:-direct nginx haproxy gateway} "$HERE/harness.sh" || status=$?
        rm -rf "$db_dir"
        [[ ${status:-0} -eq 0 ]] || exit "$status"
    done
done
