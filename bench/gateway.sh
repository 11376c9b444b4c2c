#!/usr/bin/env bash
# GATEWAY_CMD for bench/harness.sh: the release gateway on one event loop, access log off,
# client tokens adopted (the harness sends fixed tokens; benchmark use only, never production).
#   TOKENJAR_BIN  the binary (default: .build/release/tokenjar beside this folder)
#   BENCH_STORE   memory | sqlite (a fresh database in a temporary directory) | a store URL
# SQLite and PostgreSQL runs need TOKENJAR_STORE_ENCRYPTION_KEYS (bench/suite.sh sets one).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=${TOKENJAR_BIN:-$HERE/../.build/release/tokenjar}
STORE=${BENCH_STORE:-memory}
if [[ $STORE == sqlite ]]; then
    # bench/suite.sh passes a fresh directory it removes after the run.
    dir=${BENCH_SQLITE_DIR:-$(mktemp -d /tmp/tokenjar-bench-db.XXXXXX)}
    STORE="sqlite:$dir/jars.db"
fi
export TOKENJAR_SERVER_EVENT_LOOPS=1 TOKENJAR_LOG_ACCESS_LOG=false \
       TOKENJAR_SERVER_ADOPT_CLIENT_TOKENS=true TOKENJAR_LOG_LEVEL=warning TOKENJAR_SESSIONS_MINT_RATE=0
exec "$BIN" serve --listen "$GATEWAY_LISTEN" --upstream "http://$GATEWAY_UPSTREAM" --store "$STORE"
