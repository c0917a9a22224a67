#!/usr/bin/env bash
# wrk against bedrock-serve and nginx side by side, in one run: same files,
# same number of workers, access logs off on both. Prints a table of
# requests/s (keep-alive, and a new connection per request), the resident
# memory (sum over all processes), and the time to list a directory of
# LISTING (default 100,000) empty files against nginx's autoindex (median
# of LIST_RUNS runs, alternating; LISTING=0 skips it).
# Usage: scripts/bench-serve.sh BINARY [SECONDS] [CONNECTIONS]
set -euo pipefail
BIN=$(readlink -f "$1"); SECS=${2:-5}; CONNS=${3:-50}
WORKERS=${WORKERS:-2}; LISTING=${LISTING:-100000}; LIST_RUNS=${LIST_RUNS:-7}
NAME=bench-serve
source "$(dirname "$0")/../tests/lib/lib.sh"
TMP=$(mktemp -d /tmp/bedrock-bench-XXXXXX); chmod 755 "$TMP"
on_exit_rm "$TMP"
mkdir -p "$TMP/www" "$TMP/nginx"
printf '<!doctype html>\n<title>small</title>\n<p>%s</p>\n' "$(head -c 300 /dev/zero | tr '\0' x)" > "$TMP/www/small.html"
head -c $((1 << 20)) /dev/urandom > "$TMP/www/1m.bin"
mkdir "$TMP/www/big"
python3 -c 'import os, sys
for i in range(int(sys.argv[2])): os.close(os.open(os.path.join(sys.argv[1], f"file-{i:06d}.txt"), os.O_CREAT | os.O_WRONLY, 0o644))' "$TMP/www/big" "$LISTING"
free_port() { "$PY" tests/lib/bedrock_test.py free-port; }
BPORT=$(free_port); NPORT=$(free_port)
cat > "$TMP/nginx/nginx.conf" <<CONF
worker_processes $WORKERS;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    types { text/html html; application/octet-stream bin; }
    server { listen 127.0.0.1:$NPORT reuseport; root $TMP/www; location /big/ { autoindex on; } }
}
CONF
"$BIN" --root "$TMP/www" --listen "127.0.0.1:$BPORT" --workers "$WORKERS" --quiet 2>/dev/null & BPID=$!
on_exit_stop "$BPID"
nginx -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/error.log" 2>/dev/null & NPID=$!
on_exit_stop "$NPID"
sleep 0.5
curl -sf -X POST -d 'Hilton,Toronto' "http://127.0.0.1:$BPORT/api/hotels" >/dev/null
check() { [ "$(curl -s -o /dev/null -w '%{http_code} %{size_download}' "$1")" = "200 $2" ] || { echo "bench: $1 does not answer 200 with $2 bytes" >&2; exit 1; }; }
for port in $BPORT $NPORT; do
    check "http://127.0.0.1:$port/small.html" "$(stat -c %s "$TMP/www/small.html")"
    check "http://127.0.0.1:$port/1m.bin" $((1 << 20))
done
rps() { wrk -t2 -c"$CONNS" -d"${SECS}s" "$@" | awk '/Requests\/sec/ {print $2}'; }
rss_kb() { # parent and children: RSS, and PSS (shared pages split)
    local total=0 pss=0
    for p in "$1" $(pgrep -P "$1"); do
        total=$((total + $(awk '/VmRSS/ {print $2}' /proc/$p/status)))
        pss=$((pss + $(awk '/^Pss:/ {print $2}' /proc/$p/smaps_rollup)))
    done
    echo "$total $pss"
}
echo "wrk -t2 -c$CONNS -d${SECS}s, $WORKERS workers each, $(nproc) CPUs (shared)"
printf '| %-18s | %14s | %14s | %6s |\n' "case" "bedrock req/s" "nginx req/s" "ratio"
printf '|%s|%s|%s|%s|\n' "--------------------" "----------------" "----------------" "--------"
for case in small.html 1m.bin; do
    b=$(rps "http://127.0.0.1:$BPORT/$case"); n=$(rps "http://127.0.0.1:$NPORT/$case")
    printf '| %-18s | %14s | %14s | %6s |\n' "$case" "$b" "$n" "$(python3 -c "print(f'{$b/$n:.2f}x')")"
done
b=$(rps -H 'Connection: close' "http://127.0.0.1:$BPORT/small.html")
n=$(rps -H 'Connection: close' "http://127.0.0.1:$NPORT/small.html")
printf '| %-18s | %14s | %14s | %6s |\n' "small.html (close)" "$b" "$n" "$(python3 -c "print(f'{$b/$n:.2f}x')")"
h=$(rps "http://127.0.0.1:$BPORT/api/hotels/1")
printf '| %-18s | %14s | %14s | %6s |\n' "GET /api/hotels/1" "$h" "-" "-"
read -r br bp <<<"$(rss_kb "$BPID")"; read -r nr np <<<"$(rss_kb "$NPID")"
printf '| %-18s | %11s KiB | %11s KiB | %6s |\n' "RSS (all procs)" "$br" "$nr" "$(python3 -c "print(f'{$br/$nr:.2f}x')")"
printf '| %-18s | %11s KiB | %11s KiB | %6s |\n' "PSS (all procs)" "$bp" "$np" "$(python3 -c "print(f'{$bp/$np:.2f}x')")"
ls -l "$BIN" | awk '{print "binary size: " $5 " bytes"}'
if [ "$LISTING" -gt 0 ]; then
    # Both list every entry (plus ../); nginx also stats each one for its
    # size and date, bedrock shows names only.
    for port in $BPORT $NPORT; do
        got=$(curl -sf "http://127.0.0.1:$port/big/" | grep -c '<a href=') || true
        [ "$got" = $((LISTING + 1)) ] || { echo "bench: listing on port $port shows $got links, not $((LISTING + 1))" >&2; exit 1; }
    done
    bt=(); nt=()
    for _ in $(seq "$LIST_RUNS"); do
        bt+=("$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$BPORT/big/")")
        nt+=("$(curl -s -o /dev/null -w '%{time_total}' "http://127.0.0.1:$NPORT/big/")")
    done
    median() { printf '%s\n' "$@" | sort -g | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
    b=$(median "${bt[@]}"); n=$(median "${nt[@]}")
    echo "listing of $LISTING files (median of $LIST_RUNS, curl time_total): bedrock $(python3 -c "print(f'{$b * 1000:.1f}')") ms, nginx autoindex $(python3 -c "print(f'{$n * 1000:.1f}')") ms: $(python3 -c "print(f'{$n/$b:.2f}x')") (nginx time / bedrock time)"
fi
