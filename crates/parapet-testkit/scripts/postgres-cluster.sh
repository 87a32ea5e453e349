#!/usr/bin/env bash
# A PostgreSQL cluster for one test process: initdb in a new temporary
# folder, the server on a Unix socket in that folder (no TCP port), its
# folder printed once it accepts connections. It runs until its standard
# input closes (the test process ends, however it ends), then stops the
# server and removes the folder.
# Usage: postgres-cluster.sh BINDIR
set -euo pipefail
bin="$1"
dir="$(mktemp -d "${TMPDIR:-/tmp}/parapet-pg.XXXXXX")"
trap 'rm -rf "$dir"' EXIT
if ! "$bin/initdb" -D "$dir/data" -U parapet -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    exit 1
fi
"$bin/postgres" -D "$dir/data" -k "$dir" -c listen_addresses= \
    -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
    -c max_connections=300 >"$dir/server.log" 2>&1 &
pid=$!
for _ in $(seq 600); do
    if [ -S "$dir/.s.PGSQL.5432" ] && "$bin/pg_isready" -q -h "$dir" -U parapet -d postgres; then
        break
    fi
    if ! kill -0 "$pid" 2>/dev/null; then
        cat "$dir/server.log" >&2
        exit 1
    fi
    sleep 0.1
done
echo "$dir"
read -r _ || true
kill -INT "$pid" 2>/dev/null || true
wait "$pid" || true
