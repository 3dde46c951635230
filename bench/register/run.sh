#!/usr/bin/env bash
# Registers N distinct devices (default 10,000) with digest auth through sipp
# against a bench server (store + signaling + registrar), over UDP and then
# TCP, and prints sustained registrations/s, failures, retransmissions and the
# server's resident memory per 10,000 bindings. A CPU profile of each run is
# summarised at the end.
#
#   bench/register/run.sh            # N=10000, both transports
#   N=20000 RATE=8000 bench/register/run.sh udp
#
# One "registration" is REGISTER → 401 → REGISTER with credentials → 200, so
# REGISTER requests/s are twice the registrations/s. Pass 1 registers every
# device for the first time (each first binding is stored before its 200);
# pass 2 refreshes them all (written behind, once a second). The store is
# the real durable SQLite store in a fresh file (STORE=mem: the in-memory
# stand-in, to see the registrar's own cost).
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-10000}
RATE=${RATE:-20000}          # sipp's call rate ceiling; the server is the limit
LIMIT=${LIMIT:-400}          # concurrent registrations in flight
PORT=${PORT:-15060}
TRANSPORTS=${*:-udp tcp}
OUT=${OUT:-$(mktemp -d /tmp/bench-register.XXXXXX)}
command -v sipp >/dev/null || { echo "sipp missing: apt-get install sip-tester" >&2; exit 1; }

go build -o "$OUT/server" ./bench/register/server
{
  echo SEQUENTIAL
  for i in $(seq 1 "$N"); do
    id=$(printf 'B%05d' "$i")
    echo "$id;[authentication username=$id password=pw-$id]"
  done
} >"$OUT/users.csv"

rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

# stat FILE COLUMN: last value of a sipp -trace_stat column.
stat() {
  awk -F';' -v col="$2" 'NR==1 {for (i=1;i<=NF;i++) if ($i==col) c=i; next} {v=$c} END {print v}' "$1"
}

udp_drops() { awk '/^Udp:/ && !h {h=1; next} /^Udp:/ {print $6; exit}' /proc/net/snmp; }

pass() { # transport label calls
  local t=$1 label=$2 calls=$3 mode=u1
  [ "$t" = tcp ] && mode=t1
  local sf="$OUT/$t-$label.csv"
  rm -f "$sf"
  local d0 t0 t1
  d0=$(udp_drops); t0=$(date +%s.%N)
  sipp "127.0.0.1:$PORT" -sf test/sipp/register_ok.xml -inf "$OUT/users.csv" -m "$calls" \
    -r "$RATE" -l "$LIMIT" -t "$mode" -i 127.0.0.1 -p $((PORT + 1)) -nostdin \
    -key domain bench.test -key expires 3600 -max_socket 2000 -buff_size 4194304 \
    -trace_stat -stf "$sf" -fd 1 -timeout 120s >/dev/null 2>"$OUT/$t-$label.sipp.err" || true
  t1=$(date +%s.%N)
  local ok fail retr drops
  ok=$(stat "$sf" "SuccessfulCall(C)"); fail=$(stat "$sf" "FailedCall(C)")
  retr=$(stat "$sf" "Retransmissions(C)"); drops=$(( $(udp_drops) - d0 ))
  if [ "${fail:-0}" != 0 ] || [ "${ok:-0}" != "$calls" ]; then failed_passes=$((failed_passes + 1)); fi
  awk -v t="$t" -v l="$label" -v ok="$ok" -v f="$fail" -v r="$retr" -v s="$(echo "$t1 - $t0" | bc)" -v d="$drops" 'BEGIN {
    printf "%-4s %-8s %6d ok %4d failed (%.3f%%) %5d retrans %5d udp drops (box-wide) in %6.2fs: %6.0f registrations/s = %6.0f REGISTER/s\n",
      t, l, ok, f, 100*f/(ok+f), r, d, s, ok/s, 2*ok/s }'
}

echo "box: $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
failed_passes=0
for t in $TRANSPORTS; do
  db=(-db "$OUT/$t.db"); [ "${STORE:-sqlite}" = mem ] && db=()
  "$OUT/server" -sip "127.0.0.1:$PORT" -devices "$N" "${db[@]}" -cpuprofile "$OUT/$t.pprof" -memprofile "$OUT/$t.heap" >"$OUT/$t.server.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 600); do grep -q ready "$OUT/$t.server.log" && break; sleep 0.1; done
  grep -q ready "$OUT/$t.server.log" || { cat "$OUT/$t.server.log"; exit 1; }
  before=$(rss_kb "$pid")
  pass "$t" new "$N"
  after=$(rss_kb "$pid")
  pass "$t" refresh "$((2 * N))"
  # sipgo keeps each UDP server transaction 32 s (Timer J) to absorb
  # retransmissions; wait them out, return garbage to the OS, then measure.
  sleep "${SETTLE:-34}"; kill -USR1 "$pid"; sleep 1
  settled=$(rss_kb "$pid")
  echo "$t  server RSS: ${before} kB seeded; ${after} kB right after $N new registrations; ${settled} kB settled with $N bindings = $(( (settled - before) * 10000 / N )) kB per 10,000 bindings; load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
  kill -INT "$pid"; wait "$pid" || true
done
for t in $TRANSPORTS; do
  echo "--- $t CPU profile (top, flat) ---"
  go tool pprof -top -nodecount=25 "$OUT/server" "$OUT/$t.pprof" 2>/dev/null | sed -n '1,32p'
done
echo "files in $OUT"
if [ "$failed_passes" != 0 ]; then echo "FAILED: $failed_passes pass(es) had failed or missing registrations" >&2; exit 1; fi
