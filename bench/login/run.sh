#!/usr/bin/env bash
# Inline hot-desk logins (*35*E*P) through sipp from N registered phones for
# N users (default 1,000 each), reporting logins/s and the latency from the
# authenticated INVITE to the 200 OK (p50/p99; the 200 is sent only after
# the login is committed).
#
#   bench/login/run.sh                 # N=1000, latency at 200/s, then throughput
#   RATE=1500 CALLS=15000 bench/login/run.sh
#
# It runs bench/login/server: the same registrar, desk rules, feature codes
# and check-sync as `hotdesk serve`, on the real SQLite store (a fresh
# durable file in $OUT). STORE=journal uses the in-memory store with an
# fsynced journal per transaction instead, STORE=mem no durability at all.
# Each call: INVITE → 407 → INVITE with credentials → 200 (login committed)
# → ACK → BYE (the caller hangs up at once, which stops the prompt). Calls
# walk the N phones in order; phone i logs user 2000+i in, and the next
# pass over the same pair toggles the login out (also a committed write).
# A sipp UAS on the phones' registration port answers the check-sync NOTIFYs.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
N=${N:-1000}
PORT=${PORT:-25060}
LATRATE=${LATRATE:-200}      # calls/s for the latency pass
LATCALLS=${LATCALLS:-4000}
RATE=${RATE:-1500}           # offered calls/s for the throughput pass
CALLS=${CALLS:-15000}
LIMIT=${LIMIT:-500}
OUT=${OUT:-$(mktemp -d /tmp/bench-login.XXXXXX)}
source bench/lib.sh
need sipp sip-tester

go build -o "$OUT/server" ./bench/login/server
{
  echo SEQUENTIAL
  for i in $(seq 1 "$N"); do
    id=$(printf 'HD%05d' "$i")
    echo "$id;[authentication username=$id password=pw-$id];*35*$((2000 + i))*1234"
  done
} >"$OUT/phones.csv"

case ${STORE:-sqlite} in
  sqlite) store=(-db "$OUT/hotdesk.db") ;;
  journal) store=(-journal "$OUT") ;;
  mem) store=() ;;
  *) echo "STORE must be sqlite, journal or mem" >&2; exit 1 ;;
esac
"$OUT/server" -sip "127.0.0.1:$PORT" -n "$N" "${store[@]}" -cpuprofile "$OUT/server.pprof" >"$OUT/server.log" 2>&1 &
server=$!
trap 'kill $server $uas 2>/dev/null || true' EXIT
uas=
for _ in $(seq 1 300); do grep -q ready "$OUT/server.log" && break; sleep 0.1; done
grep -q ready "$OUT/server.log" || { cat "$OUT/server.log"; exit 1; }

# Register every phone from PORT+1, then leave a NOTIFY answerer there.
sipp "127.0.0.1:$PORT" -sf test/sipp/register_ok.xml -inf "$OUT/phones.csv" -m "$N" -r 500 -l 200 \
  -t u1 -i 127.0.0.1 -p $((PORT + 1)) -nostdin -key domain bench.test -key expires 3600 \
  -timeout 60s >/dev/null 2>"$OUT/register.err" || { echo "registration failed"; cat "$OUT/register.err"; exit 1; }
sipp -sf test/sipp/login_notify_uas.xml -t u1 -i 127.0.0.1 -p $((PORT + 1)) -nostdin -bg >/dev/null 2>&1 || true
uas=$(pgrep -n -f "login_notify_uas.xml -t u1 -i 127.0.0.1 -p $((PORT + 1))" || true)

pass() { # label rate calls
  local label=$1 rate=$2 calls=$3 dir="$OUT/$1"
  mkdir -p "$dir"
  local t0 t1
  t0=$(date +%s.%N)
  (cd "$dir" && sipp "127.0.0.1:$PORT" -sf "$ROOT/test/sipp/login_bench.xml" -inf "$OUT/phones.csv" \
    -m "$calls" -r "$rate" -l "$LIMIT" -t u1 -i 127.0.0.1 -p $((PORT + 2)) -mi 127.0.0.1 -mp $((PORT + 10)) \
    -nostdin -key domain bench.test -max_socket 2000 -buff_size 4194304 -timeout 300s \
    -trace_stat -stf stat.csv -fd 1 -trace_rtt -rtt_freq 1 >/dev/null 2>sipp.err) || true
  t1=$(date +%s.%N)
  local ok fail retr
  ok=$(stat_col "$dir/stat.csv" "SuccessfulCall(C)"); fail=$(stat_col "$dir/stat.csv" "FailedCall(C)")
  retr=$(stat_col "$dir/stat.csv" "Retransmissions(C)")
  if [ "${fail:-0}" != 0 ] || [ "${ok:-0}" != "$calls" ]; then failed_passes=$((failed_passes + 1)); fi
  # rtt file: Date_ms;response_time_ms;rtd_no
  sort -t';' -k2 -g <(tail -n +2 "$dir"/*_rtt.csv | awk -F';' 'NF>=2 {print $0}') | awk -F';' \
    -v l="$label" -v r="$rate" -v ok="$ok" -v f="$fail" -v re="$retr" -v s="$(echo "$t1 - $t0" | bc)" '
    {v[NR]=$2} END {
      p50=v[int(NR*0.50)+1]; p99=v[int(NR*0.99)+1]; mx=v[NR]
      printf "%-10s offered %5d/s: %6d ok %4d failed %5d retrans in %6.2fs = %6.0f logins/s; INVITE(auth)->200: p50 %.2f ms p99 %.2f ms max %.2f ms (%d samples)\n",
        l, r, ok, f, re, s, ok/s, p50, p99, mx, NR }'
}

echo "box: $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg); store: ${STORE:-sqlite}"
failed_passes=0
pass latency "$LATRATE" "$LATCALLS"
pass throughput "$RATE" "$CALLS"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg); output in $OUT"
kill -INT "$server"; wait "$server" || true
go tool pprof -top -nodecount=15 "$OUT/server" "$OUT/server.pprof" 2>/dev/null | sed -n '1,22p' || true
if [ "$failed_passes" != 0 ]; then echo "FAILED: $failed_passes pass(es) had failed or missing logins" >&2; exit 1; fi
