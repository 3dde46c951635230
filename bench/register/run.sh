#!/usr/bin/env bash
# REGISTER load on the real binary: builds ./cmd/hotdesk, starts
# `hotdesk serve` (SQLite in a fresh data dir, --digest MD5) on loopback,
# creates N devices through the API and drives sipp's register_ok.xml
# (REGISTER → 401 → REGISTER with credentials → 200) at a fixed RATE of
# registrations/s, over UDP, over one TCP connection and over CONNS TCP
# connections (a connection per registration, at most CONNS open; sipp
# cannot spread many registrations over a fixed set of connections, see
# pass). Each pass prints the achieved rate, failures,
# retransmissions and the server's CPU time per registration (utime+stime
# of the process from /proc, all threads). At the end it prints the Go heap
# in use (after a forced GC) with no binding and with N bindings, per
# 10,000 bindings, and the top of a CPU profile taken during the last
# refresh pass (HOTDESK_PPROF).
#
#   bench/register/run.sh                     # N=10000, RATE=4000, udp tcp1 tcpn
#   RATE=8000 bench/register/run.sh udp       # one transport
#
# Pass "new" registers every device for the first time (each first binding
# is stored before its 200); pass "refresh" registers them all again
# (written behind). One registration is two REGISTERs. Only loopback.
#
# Mode tcpmany drives bench/register/tcpload instead of sipp: CONNS TCP
# connections kept open, the N devices spread over them, RATE
# registrations/s in total (first registrations, then refreshes for DUR
# seconds), as phones do and sipp cannot. With KAMAILIO=1 the same load
# runs against Kamailio first (the side-by-side config, KAMAILIO_CFG, on
# 127.0.0.1:5070; its users 1000..10999, N at most 10000), in the same run:
#
#   CONNS=1000 N=10000 RATE=10000 DUR=10 KAMAILIO=1 bench/register/run.sh tcpmany
#
# BIN=path runs that binary instead of building ./cmd/hotdesk (A/B runs
# back to back); M sets the registrations of a refresh pass (default N,
# sipp cycles over the devices), for a longer profile at a low rate:
#
#   BIN=/tmp/hotdesk-main N=2000 M=24000 RATE=2000 SETTLE=1 bench/register/run.sh tcp1
set -euo pipefail
cd "$(dirname "$0")/../.."
N=${N:-10000}
M=${M:-$N}                   # registrations of a refresh pass
RATE=${RATE:-4000}           # registrations/s offered by sipp
LIMIT=${LIMIT:-2000}         # registrations in flight at most
CONNS=${CONNS:-1000}         # TCP connections of the tcpn pass
PORT=${PORT:-15060}
HTTP=${HTTP:-15080}
PPROF=${PPROF:-15090}
DUR=${DUR:-10}               # seconds of refreshes in tcpmany
PASSES=${*:-udp tcp1 tcpn}
OUT=${OUT:-$(mktemp -d /tmp/bench-register.XXXXXX)}
mkdir -p "$OUT"
TOKEN=bench-register-token
source bench/lib.sh
need sipp sip-tester curl curl

if [ -n "${BIN:-}" ]; then cp "$BIN" "$OUT/hotdesk"; else go build -o "$OUT/hotdesk" ./cmd/hotdesk; fi
go build -o "$OUT/tcpload" ./bench/register/tcpload
HOTDESK_PPROF=127.0.0.1:$PPROF "$OUT/hotdesk" serve --data "$OUT/data" --sip "127.0.0.1:$PORT" \
  --http "127.0.0.1:$HTTP" --rtp-ports 40000-40999 --digest MD5 --admin-token "$TOKEN" --log-level warn \
  --domain bench.test --sip-tls "" --sip-max-conns-per-source $((CONNS + 100)) --sip-max-conns $((CONNS + 1000)) \
  >"$OUT/hotdesk.log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true' EXIT
wait_healthy "http://127.0.0.1:$HTTP" "$OUT/hotdesk.log"

# heap_kb: Go heap in use after a forced GC (the profile endpoint with gc=1
# collects first; /metrics reads the memory statistics then).
heap_kb() {
  curl -sf "http://127.0.0.1:$PPROF/debug/pprof/heap?gc=1" >/dev/null
  curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HTTP/metrics" |
    awk '/^go_memstats_heap_inuse_bytes / {printf "%d\n", $2/1024}'
}

t0=$(date +%s.%N)
python3 - "$HTTP" "$TOKEN" "$N" <<'PY'
import concurrent.futures, http.client, json, sys, threading
port, token, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
local = threading.local()
def create(i):
    if not hasattr(local, "c"):
        local.c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    d = "B%05d" % i
    local.c.request("POST", "/api/v1/devices", json.dumps({"id": d, "mode": "hotdesk", "sip_password": "pw-bench-" + d}),
                    {"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    r = local.c.getresponse()
    r.read()
    if r.status != 201:
        raise SystemExit("POST /devices %s: %d" % (d, r.status))
with concurrent.futures.ThreadPoolExecutor(8) as ex:
    list(ex.map(create, range(1, n + 1)))
PY
{
  echo SEQUENTIAL
  seq -f 'B%05g' 1 "$N" | awk '{print $1 ";[authentication username=" $1 " password=pw-bench-" $1 "]"}'
} >"$OUT/users.csv"
echo "box: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg); $N devices created in $(echo "$(date +%s.%N) - $t0" | bc | cut -c1-5) s"
heap0=$(heap_kb)
curl -sf -o "$OUT/heap0.pprof" "http://127.0.0.1:$PPROF/debug/pprof/heap?gc=1"

# ctx_switches PID: context switches (voluntary and not) of all the
# process's threads: a wake-up per message costs more than its CPU time
# shows.
ctx_switches() {
  cat /proc/"$1"/task/*/status 2>/dev/null | awk '/ctxt_switches/ {n += $2} END {print n + 0}'
}

failed=0
pass() { # name transport label
  local name=$1 t=$2 label=$3 calls=$N
  [ "$label" = refresh ] && calls=$M
  local sf="$OUT/$name-$label.csv" extra=(-l "$LIMIT")
  # sipp -t tn opens a connection per registration (closed after it) and,
  # once -max_socket are open, sends on its first socket, which it never
  # connected: sendto fails with EPIPE and sipp aborts with "Broken pipe
  # on TCP connection, remote peer probably closed the socket" (strace;
  # the PBX closed none). Half as many registrations in flight as
  # connections keeps it below -max_socket.
  [ "$t" = tn ] && extra=(-l "$(( LIMIT < CONNS / 2 ? LIMIT : CONNS / 2 ))" -max_socket "$CONNS")
  rm -f "$sf"
  local k0 w0 k1 w1 x0 x1
  k0=$(cpu_ticks "$pid"); w0=$(date +%s.%N); x0=$(ctx_switches "$pid")
  sipp "127.0.0.1:$PORT" -sf test/sipp/register_ok.xml -inf "$OUT/users.csv" -m "$calls" -r "$RATE" \
    -t "$t" -i 127.0.0.1 -p $((PORT + 1)) -nostdin -key domain bench.test -key expires 3600 \
    -buff_size 4194304 -trace_stat -stf "$sf" -fd 1 -timeout 120s "${extra[@]}" \
    >/dev/null 2>"$OUT/$name-$label.err" || true
  k1=$(cpu_ticks "$pid"); w1=$(date +%s.%N); x1=$(ctx_switches "$pid")
  local ok fail retr
  ok=$(stat_col "$sf" "SuccessfulCall(C)"); fail=$(stat_col "$sf" "FailedCall(C)"); retr=$(stat_col "$sf" "Retransmissions(C)")
  [ "$fail" = 0 ] && [ "$ok" = "$calls" ] || failed=$((failed + 1))
  awk -v n="$name" -v l="$label" -v ok="$ok" -v f="$fail" -v r="$retr" -v s="$(echo "$w1 - $w0" | bc)" \
    -v cpu="$(echo "($k1 - $k0) / $CLK" | bc -l)" -v rate="$RATE" -v x=$((x1 - x0)) 'BEGIN {
    printf "%-5s %-8s offered %6d/s: %6d ok %4d failed %5d retrans in %6.2f s = %6.0f registrations/s; CPU %5.1f%% of a core, %4.0f us, %4.2f context switches per registration\n",
      n, l, rate, ok, f, r, s, ok / s, 100 * cpu / s, ok ? 1e6 * cpu / ok : 0, ok ? x / ok : 0 }'
}

# tcpmany: tcpload over CONNS connections, against Kamailio first when
# KAMAILIO=1, then the PBX, with a CPU profile of the PBX's refreshes.
tcpmany() {
  if [ "${KAMAILIO:-}" = 1 ]; then
    local cfg=${KAMAILIO_CFG:-../shared/bench/kamailio/kamailio.cfg} kpid
    command -v kamailio >/dev/null || { echo "kamailio missing (apt-get install kamailio)" >&2; exit 1; }
    kamailio -f "$cfg" -DD -E -n 4 -m 2048 -M 16 -A "CTL_SOCK=\"unix:$OUT/kam_ctl\"" >"$OUT/kamailio.log" 2>&1 &
    kpid=$!
    for _ in $(seq 1 50); do kamcmd -s "unix:$OUT/kam_ctl" core.uptime >/dev/null 2>&1 && break; sleep 0.2; done
    echo "--- kamailio ---"
    "$OUT/tcpload" -addr 127.0.0.1:5070 -conns "$CONNS" -n "$N" -rate "$RATE" -dur "${DUR}s" \
      -user %d -first 1000 -password secret -domain 127.0.0.1:5070 -pid "$kpid" || failed=$((failed + 1))
    kill -TERM "$kpid"; wait "$kpid" || true
  fi
  echo "--- hotdesk ---"
  # PROFPASS=new profiles the first registrations instead (from the
  # start of the pass, N/RATE + 3 s; in the sipp passes N/RATE + 1 s).
  local pwait=$((N / ${RATE%.*} + 2)) psecs=$((DUR > 4 ? DUR - 3 : 1))
  [ "${PROFPASS:-refresh}" = new ] && pwait=0 psecs=$((N / ${RATE%.*} + 3))
  (sleep "$pwait"; curl -sf -o "$OUT/tcpmany.pprof" \
    "http://127.0.0.1:$PPROF/debug/pprof/profile?seconds=$psecs") &
  local prof=$!
  "$OUT/tcpload" -addr "127.0.0.1:$PORT" -conns "$CONNS" -n "$N" -rate "$RATE" -dur "${DUR}s" \
    -user B%05d -first 1 -password pw-bench-%s -domain bench.test -pid "$pid" || failed=$((failed + 1))
  wait "$prof" || true
  echo "goroutines $(curl -sf "http://127.0.0.1:$PPROF/debug/pprof/goroutine?debug=1" | head -1)"
  curl -sf -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HTTP/metrics" |
    grep -E '^hotdesk_(events_dropped_total|sip_tcp_(closed|refused)_total|sip_bad_messages_total|registrations?_)' || true
}

for p in $PASSES; do
  if [ "$p" = tcpmany ]; then tcpmany; last=$p; continue; fi
  case $p in
    udp) t=u1 ;;
    tcp1) t=t1 ;;
    tcpn) t=tn ;;
    *) echo "unknown pass $p (udp, tcp1, tcpn, tcpmany)" >&2; exit 1 ;;
  esac
  last=$p
  if [ "${PROFPASS:-refresh}" = new ]; then
    curl -sf -o "$OUT/$p.pprof" "http://127.0.0.1:$PPROF/debug/pprof/profile?seconds=$((N / RATE + 1))" &
    prof=$!
    pass "$p" "$t" new
    wait "$prof" || true
    pass "$p" "$t" refresh
    continue
  fi
  pass "$p" "$t" new
  curl -sf -o "$OUT/$p.pprof" "http://127.0.0.1:$PPROF/debug/pprof/profile?seconds=$((M / RATE > 1 ? M / RATE - 1 : 1))" &
  prof=$!
  pass "$p" "$t" refresh
  wait "$prof" || true
done
# sipgo keeps each UDP server transaction 32 s (Timer J) to absorb
# retransmissions: wait them out before measuring the bindings' memory.
sleep "${SETTLE:-35}"
heap1=$(heap_kb)
echo "Go heap in use: ${heap0} kB with no binding, ${heap1} kB with $N bindings: $(( (heap1 - heap0) * 10000 / N )) kB per 10,000 bindings; process RSS $(rss_kb "$pid") kB"
curl -sf -o "$OUT/heap.pprof" "http://127.0.0.1:$PPROF/debug/pprof/heap?gc=1"
echo "--- heap in use with $N bindings less with none (top, flat; sampled every 512 kB) ---"
go tool pprof -sample_index=inuse_space -top -nodecount=15 -base "$OUT/heap0.pprof" "$OUT/hotdesk" "$OUT/heap.pprof" 2>/dev/null | sed -n '5,22p'
echo "--- CPU profile of the $last ${PROFPASS:-refresh} pass (top, flat) ---"
go tool pprof -top -nodecount=30 "$OUT/hotdesk" "$OUT/$last.pprof" 2>/dev/null | sed -n '1,38p'
kill -TERM "$pid"; wait "$pid" || true
trap - EXIT
echo "files in $OUT"
if [ "$failed" != 0 ]; then echo "FAILED: $failed pass(es) had failed or missing registrations" >&2; exit 1; fi
