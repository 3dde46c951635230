#!/usr/bin/env bash
# Calls between hot-desk users through the real `hotdesk serve` binary on
# loopback (default 10,000 calls at 200/s): checks that every call connects
# and that nothing stays behind, and prints calls/s, the latency from the
# caller's authenticated INVITE to the 200 (p50/p99), the server's CPU time
# per call (utime+stime from /proc over the run), how often its threads
# went to sleep and were woken (voluntary context switches per call), and
# the server's RSS, heap and goroutines before, right after and after
# settling.
#
#   bench/calls/run.sh                        # CALLS=10000 RATE=200 PAIRS=100
#   CALLS=1000 RATE=100 GCWAIT=0 bench/calls/run.sh   # quick, ~1.5 min
#   PPROF=127.0.0.1:35090 bench/calls/run.sh  # + CPU and allocation profiles in $OUT,
#                                             # the goroutines in the middle of the run
#                                             # and the goroutines started per call
#   MEDIA=anchor bench/calls/run.sh           # media relayed (the default, auto, leaves these calls direct)
#   MEDIA=anchor RTP_SECS=1 bench/calls/run.sh  # ... with 1 s of RTP each way per call through the relay
#
# PERDEV (default 100) sets limits.calls_per_device: with the product's
# default of 4 calls at once per phone, 100 pairs top out near 350 calls/s
# (the rest get 486), which would measure that limit, not the B2BUA.
#
# Not part of ./scripts/test: a load script, run by hand. Exits non-zero if
# a call failed or did not run, if a call is still live after settling, if
# a user's call records do not add up, or if goroutines or the live heap
# grew (below).
#
# Set-up, all through the REST API (curl; no jq needed): PAIRS callers
# 3001.. and PAIRS callees 4001.. (hot desking on, PIN 1234; one CSV
# import), PAIRS hot desk phones BCA0001.. and PAIRS BCB0001.., user i
# logged in on phone i (8 API calls at a time). Then
# sipp registers the callee phones from PORT+1 and leaves a UAS there that
# rings and answers at once (test/sipp/bench_call_uas.xml), registers the
# caller phones from PORT+2, and from that port makes the calls
# (test/sipp/bench_call_uac.xml): INVITE → 407 → INVITE with credentials →
# 180/200 → ACK → HOLD ms of talk → BYE. Call n is from caller n mod PAIRS to
# callee n mod PAIRS, so each pair has many calls, some of them at once.
# The B2BUA looks up who is logged in where, relays the media ports and
# writes a call record per user per call to SQLite in $OUT/data.
#
# RSS is VmRSS from /proc; heap (live heap: go_memstats_heap_alloc_bytes)
# and goroutines come from /metrics. "settled" is SETTLE s (default 35)
# after the last call: sipgo keeps each finished UDP transaction 32 s
# (Timer J / 64*T1) to absorb retransmissions, so the figures right after
# the run include those. Heap is only the live heap right after a GC, and
# with no traffic the runtime collects at the latest 2 min after the last
# one, so the script then waits (GCWAIT, default 150 s) for a collection
# that began after settling and prints "after GC". It fails if goroutines
# settle above the count before the calls (+GOSLACK) or the live heap after
# that GC exceeds the heap before the calls (+HEAPSLACK kB; the "before"
# figure is not taken after a GC, so it is an upper bound: 10,000 calls
# leaking 1 kB each would still show). RSS is printed, not checked: the Go
# runtime hands freed pages back to the OS only gradually.
#
# Figures after issue 18 (records and login touches written behind the
# calls, prepared lookups; docs/performance-calls.md), box at load 13-16:
#   CALLS=6000 RATE=300 (load 25): 6000 ok, 0 failed, 10 retrans, 277
#     calls/s; p50 12 ms, p99 500 ms; 2433 µs of server CPU per call; heap
#     9.4 / 205 / 207 / 11.2 MB; goroutines 33 / 887 / 33 / 33; 60 records
#     each for 3001 and 4001.
#   CALLS=10000 RATE=500 PPROF=…: 9646 ok, 354 failed (the callee sipp,
#     starved, lost calls), 174 calls/s, 2600 µs of server CPU per call
#     (before: 9262 µs per call at 300/s, 4930 of 6000 calls failed on
#     call-record writes timing out).
# Second pass (one read per INVITE, record writes and touches paced;
# docs/performance-calls.md), box at load 10-16, before -> after:
#   CALLS=4500 RATE=300: 2651 -> 2162 and 3271 -> 2891 µs of server CPU per
#     call in two alternating pairs, 0 failed; p99 184 -> 24 ms (second pair).
#   CALLS=9000 RATE=600: p50 268 -> 4 ms, p99 1636 -> 240 ms, 4220 -> 0
#     retransmissions (load 9.7 and 13.7).
#   MEDIA=anchor RTP_SECS=1 CALLS=2000 RATE=100: 5820 µs per call (192008
#     packets relayed, none dropped) against 3205 µs direct.
# Fourth pass (a phone's first INVITE challenged without a transaction;
# docs/performance-calls.md), main -> the change, BIN= each, back to back:
#   CALLS=4500 RATE=300: 2560 -> 2207 and 2507 -> 2038 µs per call (load 22, 7).
#   CALLS=10000 RATE=1000 (load 4): 7906 -> 0 retransmissions, p50 528 -> 4
#     ms, 1421 -> 1251 µs per call; goroutines right after 3188 -> 58.
# Seventh pass (a call's events wake no subscriber goroutine; docs/performance-calls.md),
# main -> the change, BIN= each, back to back (load 2.4-10.8):
#   CALLS=4500 RATE=300: 1680 -> 1567, 1662 -> 1544 (PPROF), 1891 -> 1791 µs per call;
#     wake-ups 21.9 -> 21.9, 25.5 -> 22.2, 25.7 -> 26.3 per call.
#   CALLS=10000 RATE=1000: 898 -> 869, 980 -> 961 µs per call.
#   GCWAIT=150 SETTLE=35: goroutines 66 / 58 / 58 / 58, heap 36.8 / 141.8 / 144.8 / 14.1 MB.
# Ninth pass (signaling: responses handed over in the read loop, ACKs routed there, sends
# without the socket's write lock, answered non-INVITEs without Timer J; performance-calls.md),
# main -> the change, nine pairs at 300/s and four at 1,000/s (load 1.2-3.0):
#   CALLS=3000 RATE=300: means 1497 -> 1503 µs per call (no change shown), wake-ups 14.3 -> 12.3
#     per call; goroutines started 7.44 -> 3.37 per call (execution trace).
#   CALLS=10000 RATE=1000: means 807 -> 823 µs per call, wake-ups 2.9 -> 2.5.
#   CALLS=15000 RATE=300 (51 s: the 32 s timers of the first calls fire in the run), four
#     pairs: means 1459 -> 1362 µs per call (all four pairs lower), wake-ups 13.4 -> 12.9.
# Figures before issue 18 (2 cores shared with other helpers' builds and tests, Go 1.26,
# SQLite in $OUT; RSS / heap / goroutines: before, right after, settled,
# after GC; sipp's clock ticks in 4 ms steps here):
#   CALLS=10000 RATE=200 (quiet box, load 1.0): 10000 ok, 0 failed,
#     0 retrans, 196 calls/s; INVITE(auth)->200 p50 4 ms, p99 16 ms, max
#     60 ms; RSS 42 / 299 / 299 / 261 MB; heap 5.4 / 158 / 159 / 5.2 MB;
#     goroutines 24 / 813 / 24 / 24; 0 live calls; 100 records each for
#     3001 and 4001.
#   the same on a busy box (load 5.3): 10000 ok, 117 retrans, 196 calls/s;
#     p50 764 ms, p99 9.4 s, max 12.5 s; heap 15.7 (no GC) / 218 / 219 /
#     7.1 MB; goroutines 24 / 814 / 24 / 24.
#   RATE=500: 10000 ok, 0 failed, 0 retrans, 473 calls/s; p50 24 ms, p99
#     724 ms, max 1.4 s (near the box's limit with sipp on the same cores);
#     RSS 42 / 412 / 412 / 400 MB; heap 5.4 / 207 / 209 / 6.8 MB;
#     goroutines 24 / 1940 / 24 / 24.
#   CALLS=1000 RATE=100 GCWAIT=0: 1000 ok, 91 calls/s, p50 4 ms, p99 8 ms;
#     goroutines 24 / 421 / 24.
# The heap right after the run is garbage and finished transactions not
# yet collected; the next GC brings it back to the figure before the calls.
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
CALLS=${CALLS:-10000}
RATE=${RATE:-200}            # offered calls/s
PAIRS=${PAIRS:-100}          # caller/callee pairs (users and phones each)
HOLD=${HOLD:-1000}           # ms between the ACK and the caller's BYE
LIMIT=${LIMIT:-2000}         # sipp's ceiling on calls in progress
SETTLE=${SETTLE:-35}
GCWAIT=${GCWAIT:-150}        # s to wait for the runtime's next (forced) GC after settling
GOSLACK=${GOSLACK:-5}        # goroutines allowed above the count before the calls
HEAPSLACK=${HEAPSLACK:-8192} # kB of live heap allowed above the count before the calls
PORT=${PORT:-35060}          # SIP; sipp uses PORT+1 (callees), PORT+2 (callers)
HTTP=${HTTP:-35080}
RTP=${RTP:-42000-44999}
TLS=${TLS:-$((PORT + 3))}   # SIP over TLS (unused here, but it must not clash)
PERDEV=${PERDEV:-100}        # settings limits.calls_per_device (default 4: 100 pairs would top out near 350 calls/s)
RTP_SECS=${RTP_SECS:-0}      # s of RTP (50 packets/s, PCMU) the caller sends after the ACK, echoed by the callee; 0 none
MEDIA=${MEDIA:-auto}         # --media: auto (these loopback calls are then direct), anchor (relayed) or direct
LOGLEVEL=${LOGLEVEL:-warn}   # --log-level: debug logs each failed leg with its status (and costs CPU)
PPROF=${PPROF:-}            # host:port: serve the Go profiler there and save CPU and allocation profiles of the run in $OUT
OUT=${OUT:-$(mktemp -d /tmp/bench-calls.XXXXXX)}
TOKEN=bench-token
API="http://127.0.0.1:$HTTP"
source bench/lib.sh
need sipp sip-tester curl curl

serve --sip "127.0.0.1:$PORT" --http "127.0.0.1:$HTTP" --sip-tls "127.0.0.1:$TLS" --rtp-ports "$RTP" \
  --media "$MEDIA" --digest MD5 --log-level "$LOGLEVEL"
uas=
trap 'kill $server $uas 2>/dev/null || true' EXIT
wait_healthy "$API" "$OUT/server.log"

# api METHOD PATH BODY: an admin API call that must answer 200 or 201.
api() {
  local code
  code=$(curl -s -o "$OUT/api.out" -w '%{http_code}' -X "$1" -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' --max-time 10 ${3:+--data "$3"} "$API/api/v1$2")
  case $code in
    200 | 201) ;;
    *) echo "$1 $2: HTTP $code $(cat "$OUT/api.out")" >&2; return 1 ;;
  esac
}

# calls EXT: the number of call records of user EXT (up to 1,000).
ids() { awk '{n += gsub(/"call_id"/, "")} END {print n + 0}' "$OUT/api.out"; }
calls() { api GET "/users/$1/calls?limit=1000" && ids; }
live() { api GET /calls && ids; }
metric() { curl -sf --max-time 10 "$API/metrics" | awk -v m="$1" '$1 == m {printf "%.0f", $2}'; }
snapshot() { # label: prints and sets rss heap gor
  rss=$(rss_kb "$server") heap=$(( $(metric go_memstats_heap_alloc_bytes) / 1024 )) gor=$(metric go_goroutines)
  printf '%-8s server RSS %6d kB, heap %6d kB, goroutines %5d, live calls %d\n' "$1" "$rss" "$heap" "$gor" "$(live)"
}

t0=$(date +%s.%N)
api PUT /settings "{\"limits\":{\"calls_per_device\":$PERDEV}}"
# Users in one CSV import; phones, then logins, 8 API calls at a time.
csv='extension,name,hotdesk,pin\n'
for i in $(seq 1 "$PAIRS"); do csv+="$((3000 + i)),Bench $((3000 + i)),yes,1234\\n$((4000 + i)),Bench $((4000 + i)),yes,1234\\n"; done
api POST /import/users "{\"csv\":\"$csv\"}"
post_all() { # PATH: POSTs each JSON line of stdin, 8 at a time; fails if one does
  xargs -d '\n' -P 8 -I{} curl -sf -o /dev/null --max-time 30 -X POST -H "Authorization: Bearer $TOKEN" \
    -H 'Content-Type: application/json' --data {} "$API/api/v1$1"
}
{ echo SEQUENTIAL; } >"$OUT/callees.csv"
{ echo SEQUENTIAL; } >"$OUT/callers.csv"
for i in $(seq 1 "$PAIRS"); do
  a=$(printf 'BCA%04d' "$i") b=$(printf 'BCB%04d' "$i")
  echo "$a;[authentication username=$a password=bench-pw-$a];$((4000 + i))" >>"$OUT/callers.csv"
  echo "$b;[authentication username=$b password=bench-pw-$b]" >>"$OUT/callees.csv"
  for d in "$a" "$b"; do echo "{\"id\":\"$d\",\"mode\":\"hotdesk\",\"sip_password\":\"bench-pw-$d\"}"; done
done | post_all /devices
# Logged in before the phones register: no check-sync NOTIFY reaches sipp.
for i in $(seq 1 "$PAIRS"); do
  printf '{"extension":"%d","device":"BCA%04d"}\n{"extension":"%d","device":"BCB%04d"}\n' $((3000 + i)) "$i" $((4000 + i)) "$i"
done | post_all /logins
echo "set-up: $PAIRS pairs of users (CSV import), phones and logins through the API in $(echo "$(date +%s.%N) - $t0" | bc | cut -c1-5)s"

register() { # csv port
  sipp "127.0.0.1:$PORT" -sf test/sipp/register_ok.xml -inf "$1" -m "$PAIRS" -r 500 -l 200 \
    -t u1 -i 127.0.0.1 -p "$2" -nostdin -key domain hotdesk.local -key expires 3600 \
    -timeout 60s >/dev/null 2>"$OUT/register-$2.err" || { echo "registration from port $2 failed"; cat "$OUT/register-$2.err"; exit 1; }
}
register "$OUT/callees.csv" $((PORT + 1))
register "$OUT/callers.csv" $((PORT + 2))
mkdir -p "$OUT/uas" "$OUT/uac"
uac_xml=$ROOT/test/sipp/bench_call_uac.xml echo=
if [ "$RTP_SECS" -gt 0 ]; then
  # The caller plays RTP_SECS s of a tone after its ACK (sipp, a thread per
  # call) and the callee's sipp echoes it: both directions of each call
  # carry RTP, through the relay when the call is anchored (MEDIA=anchor).
  go run ./bench/voicemail/tool pcap "$OUT/uac/rtp.pcap" "$RTP_SECS"
  sed 's|^  <pause/>|  <nop><action><exec play_pcap_audio="rtp.pcap"/></action></nop>\n  <pause/>|' "$uac_xml" >"$OUT/uac/scenario.xml"
  grep -q play_pcap_audio "$OUT/uac/scenario.xml" || { echo "RTP_SECS: scenario not rewritten"; exit 1; }
  uac_xml=$OUT/uac/scenario.xml echo=-rtp_echo
fi
(cd "$OUT/uas" && exec sipp -sf "$ROOT/test/sipp/bench_call_uas.xml" -t u1 -i 127.0.0.1 -p $((PORT + 1)) \
  -mi 127.0.0.1 -mp $((PORT + 20)) $echo -nostdin -max_socket 2000 -buff_size 4194304 \
  -trace_stat -stf stat.csv -fd 1 >/dev/null 2>sipp.err) &
uas=$!
sleep 0.5
kill -0 "$uas" 2>/dev/null || { echo "callee UAS did not start"; cat "$OUT/uas/sipp.err"; exit 1; }

echo "box: $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
snapshot before
rss0=$rss heap0=$heap gor0=$gor
if [ -n "$PPROF" ]; then
  curl -sf --max-time 10 -o "$OUT/allocs-before.pprof" "http://$PPROF/debug/pprof/allocs"
  secs=$(( CALLS / RATE > 5 ? CALLS / RATE : 5 ))
  curl -sf --max-time $((secs + 30)) -o "$OUT/cpu.pprof" "http://$PPROF/debug/pprof/profile?seconds=$secs" &
  prof=$!
  # Where the goroutines are (and wait) in the middle of the run.
  (sleep $((secs / 2)); curl -sf --max-time 10 -o "$OUT/goroutines-mid.txt" "http://$PPROF/debug/pprof/goroutine?debug=1") &
fi
# Voluntary context switches of the server's threads (an OS thread that
# sleeps on a futex or in epoll_wait because its goroutines parked): how
# often the server went idle and was woken, which CPU per call alone
# does not tell apart from work. Threads started and ended within the run
# are not counted.
vcsw() { cat /proc/"$1"/task/*/status 2>/dev/null | awk '/^voluntary_ctxt_switches/ {n += $2} END {print n + 0}'; }
# Goroutines started (the runtime's count, served with the profiler): each
# start may wake an idle thread to run it.
started() { [ -n "$PPROF" ] && curl -sf --max-time 10 "http://$PPROF/debug/sched" | awk '{print $2}'; }
g0=$(started || true)
w0=$(vcsw "$server")
k0=$(cpu_ticks "$server")
ts=$(date +%s.%N)
(cd "$OUT/uac" && sipp "127.0.0.1:$PORT" -sf "$uac_xml" -inf "$OUT/callers.csv" \
  -m "$CALLS" -r "$RATE" -l "$LIMIT" -d "$HOLD" -t u1 -i 127.0.0.1 -p $((PORT + 2)) \
  -mi 127.0.0.1 -mp $((PORT + 10)) -nostdin -key domain hotdesk.local -max_socket 2000 \
  -buff_size 4194304 -timeout $((CALLS / RATE + 120))s \
  -trace_stat -stf stat.csv -fd 1 -trace_rtt -rtt_freq 1 -trace_err >/dev/null 2>sipp.err) || true
te=$(date +%s.%N)
k1=$(cpu_ticks "$server")
w1=$(vcsw "$server")
g1=$(started || true)
ok=$(stat_col "$OUT/uac/stat.csv" "SuccessfulCall(C)"); fail=$(stat_col "$OUT/uac/stat.csv" "FailedCall(C)")
retr=$(stat_col "$OUT/uac/stat.csv" "Retransmissions(C)")
# rtt file: Date_ms;response_time_ms;rtd_no
sort -t';' -k2 -g <(tail -q -n +2 "$OUT"/uac/*_rtt.csv 2>/dev/null | awk -F';' 'NF>=2') | awk -F';' \
  -v r="$RATE" -v ok="$ok" -v f="$fail" -v re="$retr" -v s="$(echo "$te - $ts" | bc)" -v h="$HOLD" '
  {v[NR]=$2} END {
    printf "calls    offered %d/s, %d ms talk: %d ok %d failed %d retrans in %.2fs = %.0f calls/s; ", r, h, ok, f, re, s, ok/s
    if (NR) printf "INVITE(auth)->200: p50 %.2f ms p99 %.2f ms max %.2f ms (%d samples)\n", v[int(NR*0.50)+1], v[int(NR*0.99)+1], v[NR], NR
    else print "no INVITE->200 samples" }'
awk -v k="$((k1 - k0))" -v hz="$CLK" -v ok="$ok" -v s="$(echo "$te - $ts" | bc)" \
  'BEGIN {printf "server CPU %.2f s over %.2f s (%.0f%% of one core) = %.0f µs per call\n", k/hz, s, 100*k/hz/s, ok ? 1e6*k/hz/ok : 0}'
awk -v w="$((w1 - w0))" -v ok="$ok" 'BEGIN {printf "server thread wake-ups (voluntary context switches) %d = %.1f per call\n", w, ok ? w/ok : 0}'
if [ -n "$g0" ] && [ -n "$g1" ]; then
  awk -v g="$((g1 - g0))" -v ok="$ok" 'BEGIN {printf "goroutines started %d = %.1f per call (with the profile'"'"'s and the curl'"'"'s own)\n", g, ok ? g/ok : 0}'
fi
if [ -n "$PPROF" ]; then
  wait "$prof" || echo "CPU profile failed"
  curl -sf --max-time 10 -o "$OUT/allocs-after.pprof" "http://$PPROF/debug/pprof/allocs"
  echo "profiles: go tool pprof -top $OUT/hotdesk $OUT/cpu.pprof; go tool pprof -sample_index=alloc_space -top -diff_base $OUT/allocs-before.pprof $OUT/hotdesk $OUT/allocs-after.pprof"
fi
snapshot after
sleep "$SETTLE"
snapshot settled
# The heap figure is only the live heap right after a collection. With no
# traffic the runtime collects at the latest 2 min after the previous GC:
# wait (at most GCWAIT s) for a collection that began after settling.
settled_at=$(date +%s)
for _ in $(seq 1 $((GCWAIT / 5))); do
  [ "$(metric go_memstats_last_gc_time_seconds)" -ge "$settled_at" ] && break
  sleep 5
done
if [ "$(metric go_memstats_last_gc_time_seconds)" -ge "$settled_at" ]; then
  snapshot "after GC"
  gc=1
else
  echo "no garbage collection within ${GCWAIT}s of settling: heap not compared"
  gc=0
fi
answered=$(stat_col "$OUT/uas/stat.csv" "SuccessfulCall(C)")
remaining=$(live)
first=$(calls 3001) firstcallee=$(calls 4001)
want=$(( (CALLS + PAIRS - 1) / PAIRS ))
if [ "$want" -gt 1000 ]; then want=1000; fi
echo "relay: $(metric hotdesk_relay_packets_total) packets relayed, $(metric hotdesk_relay_packets_dropped_total) dropped (anchored calls; none when direct)"
echo "callees answered $answered; call records: 3001 has $first, 4001 has $firstcallee (want $want each); load average now: $(cut -d' ' -f1-3 /proc/loadavg)"
kill -INT "$server"; wait "$server" || true
echo "server log: $(grep -c 'level=' "$OUT/server.log" || true) warnings and errors (--log-level $LOGLEVEL); files in $OUT"

bad=0
[ "$fail" -eq 0 ] && [ "$ok" -eq "$CALLS" ] || { echo "FAIL: $ok of $CALLS calls succeeded, $fail failed (see $OUT/uac/*errors.log)"; bad=1; }
[ "$remaining" -eq 0 ] || { echo "FAIL: $remaining calls still live ${SETTLE}s after the run"; bad=1; }
[ "$first" -eq "$want" ] && [ "$firstcallee" -eq "$want" ] || { echo "FAIL: call records do not add up"; bad=1; }
[ "$gor" -le $((gor0 + GOSLACK)) ] || { echo "FAIL: $gor goroutines settled, $gor0 before the calls"; bad=1; }
if [ "$gc" = 1 ] && [ "$heap" -gt $((heap0 + HEAPSLACK)) ]; then
  echo "FAIL: live heap $heap kB after the calls and a GC, $heap0 kB before"; bad=1
fi
exit "$bad"
