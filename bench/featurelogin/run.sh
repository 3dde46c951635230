#!/usr/bin/env bash
# Hot desk logins by feature code (*35*E*P) through the real `hotdesk serve`
# binary on loopback, SQLite in $OUT (durable: WAL, synchronous=FULL): N
# phones log N users in, and the next pass over the same pair logs them out
# again (*35*E*P as the user logged in there toggles: also a committed
# write). Prints logins/s, the latency from the authenticated INVITE to the
# 200 OK (p50/p99; the PBX answers only once the login is committed), the
# server's CPU time per login from /proc, and goroutines and heap after.
#
#   bench/featurelogin/run.sh                  # N=500: 4,000 at 200/s, then 10,000 at 1,000/s
#   LATRATE=200 RATE=1500 CALLS=15000 bench/featurelogin/run.sh
#   PPROF=127.0.0.1:36090 bench/featurelogin/run.sh   # CPU profiles of both passes in $OUT, and allocations
#   PPROF=127.0.0.1:36090 TRACE=1 bench/featurelogin/run.sh  # and an execution trace of the latency pass
#   BIN=/tmp/hotdesk-main bench/featurelogin/run.sh   # that binary instead of building ./cmd/hotdesk (A/B runs)
#
# Not part of ./scripts/test: a load script, run by hand. Exits non-zero if
# a login failed or did not run. Set-up: users 5001.. (hot desking on, PIN
# 1234) imported as one CSV through the API, hot desk phones FL00001.. made
# through the API; sipp registers the phones from PORT+1 and leaves a UAS
# there answering the check-sync (and message-summary) NOTIFYs each login
# and logout sends; the logins come from PORT+2 (test/sipp/login_bench.xml:
# INVITE → 407 → INVITE with credentials → 200 → ACK → BYE at once).
# Each phone's calls alternate login and logout, so the -m count and N
# decide the mix; the CPU figure covers both.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
N=${N:-500}
PORT=${PORT:-36060}
HTTP=${HTTP:-36080}
TLS=${TLS:-$((PORT + 3))}
RTP=${RTP:-36100-39999}
LATRATE=${LATRATE:-200}     # logins/s of the latency pass
LATCALLS=${LATCALLS:-4000}
RATE=${RATE:-1000}          # offered logins/s of the throughput pass
CALLS=${CALLS:-10000}
LIMIT=${LIMIT:-500}
PPROF=${PPROF:-}
TRACE=${TRACE:-}            # with PPROF: $OUT/latency.trace (go tool trace $OUT/latency.trace)
OUT=${OUT:-$(mktemp -d /tmp/bench-featurelogin.XXXXXX)}
TOKEN=bench-token
API="http://127.0.0.1:$HTTP"
source bench/lib.sh
need sipp sip-tester curl curl

serve --sip "127.0.0.1:$PORT" --http "127.0.0.1:$HTTP" --sip-tls "127.0.0.1:$TLS" --rtp-ports "$RTP" \
  --digest MD5 --log-level warn --domain bench.test
uas=
trap 'kill $server $uas 2>/dev/null || true' EXIT
wait_healthy "$API" "$OUT/server.log"

api() { # METHOD PATH BODY: must answer 200 or 201
  local code
  code=$(curl -s -o "$OUT/api.out" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' --max-time 30 ${3:+--data "$3"} "$API/api/v1$2")
  case $code in
    200 | 201) ;;
    *) echo "$1 $2: HTTP $code $(head -c 300 "$OUT/api.out")" >&2; return 1 ;;
  esac
}
metric() { curl -sf --max-time 10 "$API/metrics" | awk -v m="$1" '$1 == m {printf "%.0f", $2}'; }
sys_ticks() { awk '{sub(/.*\) /, ""); print $13}' "/proc/$server/stat"; } # kernel time: syscalls, fsync

t0=$(date +%s.%N)
csv='extension,name,hotdesk,pin\n'
for i in $(seq 1 "$N"); do csv+="$((5000 + i)),Bench $((5000 + i)),yes,1234\\n"; done
api POST /import/users "{\"csv\":\"$csv\"}"
echo SEQUENTIAL >"$OUT/phones.csv"
for i in $(seq 1 "$N"); do
  id=$(printf 'FL%05d' "$i")
  echo "$id;[authentication username=$id password=bench-pw-$id];*35*$((5000 + i))*1234" >>"$OUT/phones.csv"
  echo "{\"id\":\"$id\",\"mode\":\"hotdesk\",\"sip_password\":\"bench-pw-$id\"}"
done | xargs -d '\n' -P 8 -I{} curl -sf -o /dev/null --max-time 30 -X POST -H "Authorization: Bearer $TOKEN" \
  -H 'Content-Type: application/json' --data {} "$API/api/v1/devices"
echo "set-up: $N users (CSV import) and $N phones through the API in $(echo "$(date +%s.%N) - $t0" | bc | cut -c1-5)s"

sipp "127.0.0.1:$PORT" -sf test/sipp/register_ok.xml -inf "$OUT/phones.csv" -m "$N" -r 500 -l 200 \
  -t u1 -i 127.0.0.1 -p $((PORT + 1)) -nostdin -key domain bench.test -key expires 3600 \
  -timeout 60s >/dev/null 2>"$OUT/register.err" || { echo "registration failed"; cat "$OUT/register.err"; exit 1; }
mkdir -p "$OUT/uas"
(cd "$OUT/uas" && exec sipp -sf "$ROOT/test/sipp/login_notify_uas.xml" -t u1 -i 127.0.0.1 -p $((PORT + 1)) \
  -nostdin -max_socket 2000 -buff_size 4194304 >/dev/null 2>sipp.err) &
uas=$!
sleep 0.5
kill -0 "$uas" 2>/dev/null || { echo "NOTIFY answerer did not start"; cat "$OUT/uas/sipp.err"; exit 1; }

k0=$(cpu_ticks "$server")
sleep 5
k1=$(cpu_ticks "$server")
echo "box: $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg); idle server CPU $(( 100 * (k1 - k0) / $CLK / 5 ))% of a core"
printf 'before     goroutines %d, heap %d kB\n' "$(metric go_goroutines)" $(( $(metric go_memstats_heap_alloc_bytes) / 1024 ))
bad=0
pass() { # label rate calls
  local label=$1 rate=$2 calls=$3 dir="$OUT/$1"
  mkdir -p "$dir"
  local secs=$(( calls / rate > 5 ? calls / rate : 5 )) profs=()
  if [ -n "$PPROF" ]; then # CPU profile of the pass: cpu.pprof (throughput), latency.pprof
    local file="$OUT/cpu.pprof"
    [ "$label" = throughput ] || file="$OUT/$label.pprof"
    curl -sf --max-time $((secs + 40)) -o "$file" "http://$PPROF/debug/pprof/profile?seconds=$secs" &
    profs+=($!)
  fi
  if [ -n "$PPROF" ] && [ -n "$TRACE" ] && [ "$label" = latency ]; then
    curl -sf --max-time $((secs + 40)) -o "$OUT/latency.trace" "http://$PPROF/debug/pprof/trace?seconds=$secs" &
    profs+=($!)
  fi
  local k0 k1 ts te
  k0=$(cpu_ticks "$server") s0=$(sys_ticks) ts=$(date +%s.%N)
  (cd "$dir" && sipp "127.0.0.1:$PORT" -sf "$ROOT/test/sipp/login_bench.xml" -inf "$OUT/phones.csv" \
    -m "$calls" -r "$rate" -l "$LIMIT" -t u1 -i 127.0.0.1 -p $((PORT + 2)) -mi 127.0.0.1 -mp $((PORT + 10)) \
    -nostdin -key domain bench.test -max_socket 2000 -buff_size 4194304 -timeout $((calls / rate + 120))s \
    -trace_stat -stf stat.csv -fd 1 -trace_rtt -rtt_freq 1 >/dev/null 2>sipp.err) || true
  k1=$(cpu_ticks "$server") s1=$(sys_ticks) te=$(date +%s.%N)
  local p
  for p in "${profs[@]}"; do wait "$p" || echo "$label: profile or trace failed"; done
  # Allocations since the start (set-up included, logins most of them).
  [ -n "$PPROF" ] && [ "$label" = throughput ] && { curl -sf --max-time 30 -o "$OUT/allocs.pprof" "http://$PPROF/debug/pprof/allocs" || echo "allocation profile failed"; }
  local ok fail retr
  ok=$(stat_col "$dir/stat.csv" "SuccessfulCall(C)") fail=$(stat_col "$dir/stat.csv" "FailedCall(C)")
  retr=$(stat_col "$dir/stat.csv" "Retransmissions(C)")
  [ "$fail" -eq 0 ] && [ "$ok" -eq "$calls" ] || bad=1
  sort -t';' -k2 -g <(tail -q -n +2 "$dir"/*_rtt.csv 2>/dev/null | awk -F';' 'NF>=2') | awk -F';' \
    -v l="$label" -v r="$rate" -v ok="$ok" -v f="$fail" -v re="$retr" -v s="$(echo "$te - $ts" | bc)" \
    -v k="$((k1 - k0))" -v sk="$((s1 - s0))" -v hz="$CLK" '
    {v[NR]=$2} END {
      printf "%-10s offered %5d/s: %6d ok %4d failed %5d retrans in %6.2fs = %6.0f logins/s; ", l, r, ok, f, re, s, ok/s
      if (NR) printf "INVITE(auth)->200 p50 %.2f ms p99 %.2f ms max %.2f ms; ", v[int(NR*0.50)+1], v[int(NR*0.99)+1], v[NR]
      printf "server CPU %.0f%% of a core, %.0f µs per login (%.0f in the kernel)\n", 100*k/hz/s, ok ? 1e6*k/hz/ok : 0,
        ok ? 1e6*sk/hz/ok : 0 }'
}
pass latency "$LATRATE" "$LATCALLS"
pass throughput "$RATE" "$CALLS"
k0=$(cpu_ticks "$server")
sleep 35 # sipgo keeps finished UDP transactions 32 s
k1=$(cpu_ticks "$server")
printf 'settled    goroutines %d, heap %d kB (not after a GC); idle server CPU %d%% of a core; load average now: %s\n' \
  "$(metric go_goroutines)" $(( $(metric go_memstats_heap_alloc_bytes) / 1024 )) $(( 100 * (k1 - k0) / $CLK / 35 )) \
  "$(cut -d' ' -f1-3 /proc/loadavg)"
[ -n "$PPROF" ] && echo "profile: go tool pprof -top $OUT/hotdesk $OUT/cpu.pprof (latency pass: $OUT/latency.pprof; allocations: -sample_index=alloc_space $OUT/allocs.pprof)"
kill -INT "$server"; wait "$server" || true
echo "server log: $(grep -c 'level=' "$OUT/server.log" || true) warnings and errors; files in $OUT"
[ "$bad" = 0 ] || { echo "FAIL: logins failed or did not run (see $OUT/*/sipp.err)"; exit 1; }
