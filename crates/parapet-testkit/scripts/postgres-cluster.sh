#!/usr/bin/env bash
# A PostgreSQL cluster for one test process: initdb in a new temporary
# folder; the server on a Unix socket in that folder and, for the TLS tests,
# on 127.0.0.1 at a free port with a certificate of a test authority made
# here (ca.pem in the folder). Prints "FOLDER PORT" once the server accepts
# connections. It runs until its standard input closes (the test process
# ends, however it ends), then stops the server and removes the folder.
# Usage: postgres-cluster.sh BINDIR
set -euo pipefail
bin="$1"
dir="$(mktemp -d "${TMPDIR:-/tmp}/parapet-pg.XXXXXX")"
trap 'rm -rf "$dir"' EXIT
if ! "$bin/initdb" -D "$dir/data" -U parapet -A trust --no-sync -E UTF8 >"$dir/initdb.log" 2>&1; then
    cat "$dir/initdb.log" >&2
    exit 1
fi
# Every user is trusted but `guarded`, which must give its password over TCP
# (the tests of passwords create it).
sed -i '1i host all guarded 127.0.0.1/32 scram-sha-256' "$dir/data/pg_hba.conf"
# A test certificate authority and the server's certificate for 127.0.0.1.
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=Parapet test CA" \
    -keyout "$dir/ca.key" -out "$dir/ca.pem" 2>/dev/null
openssl req -newkey rsa:2048 -nodes -subj "/CN=127.0.0.1" \
    -keyout "$dir/server.key" -out "$dir/server.csr" 2>/dev/null
printf 'subjectAltName=IP:127.0.0.1\n' >"$dir/san.ext"
openssl x509 -req -in "$dir/server.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca.key" \
    -CAcreateserial -days 2 -extfile "$dir/san.ext" -out "$dir/server.pem" 2>/dev/null
chmod 600 "$dir/server.key"
started=""
for _ in $(seq 20); do
    port=$((20000 + RANDOM % 40000))
    "$bin/postgres" -D "$dir/data" -k "$dir" -p "$port" -c listen_addresses=127.0.0.1 \
        -c ssl=on -c ssl_cert_file="$dir/server.pem" -c ssl_key_file="$dir/server.key" \
        -c fsync=off -c synchronous_commit=off -c full_page_writes=off \
        -c max_connections=300 >"$dir/server.log" 2>&1 &
    pid=$!
    for _ in $(seq 600); do
        if [ -S "$dir/.s.PGSQL.$port" ] && "$bin/pg_isready" -q -h "$dir" -p "$port" -U parapet -d postgres; then
            started=yes
            break
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    if [ -n "$started" ]; then
        break
    fi
    # The port was taken: try another.
    wait "$pid" 2>/dev/null || true
done
if [ -z "$started" ]; then
    cat "$dir/server.log" >&2
    exit 1
fi
echo "$dir $port"
read -r _ || true
kill -INT "$pid" 2>/dev/null || true
wait "$pid" || true
