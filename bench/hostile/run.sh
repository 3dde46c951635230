#!/usr/bin/env bash
# Hostile-network load (issue 11): runs each flood for a bounded time against
# the real `hotdesk serve --demo` on loopback while a sipp phone keeps
# working, and prints per flood the phone's success rate, the server's RSS
# and goroutines before/after and the bytes it logged. Exits non-zero when
# the phone's success rate during any flood is below 99%.
#
#   bench/hostile/run.sh                          # every flood, 10 s each
#   DUR=30 bench/hostile/run.sh udp-garbage tcp-idle
#
# Each flood lasts DUR seconds (default 10), except tcp-idle and slow-http,
# which hold their connections HOLD seconds (default 40) so that the PBX's
# timeouts (30 s without a first SIP message, 10 s for HTTP headers, 30 s
# for a whole HTTP request) show in the count of connections it closed.
# The phone: HD00002 re-registers (REGISTER → 401 → REGISTER → 200) at
# REGRATE/s and HD00001 logs user 201 in and out (*35*201*1234: INVITE →
# 407 → INVITE → 200 → ACK → BYE) at LOGINRATE/s, all from 127.0.0.1.
# Floods (bench/hostile/flood, sipp for the PINs) come from other loopback
# addresses, as an attacker on the office network would:
#   udp-garbage   random bytes, SIP-looking junk and the malformed corpus, GARBAGE_RATE/s
#   tcp-idle      TCP_IDLE (5,000) SIP TCP connections that never send, from 50 addresses
#   slow-http     SLOW_HTTP (2,000) HTTP connections trickling headers or a /signin body
#   invite-noack  INVITEs never ACKed (each 407 retransmitted until Timer H), NOACK_RATE/s
#   wrong-pins    HD00003 dials *35*202*<wrong PIN>, PIN_PARALLEL calls at a time
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
DUR=${DUR:-10}
HOLD=${HOLD:-40}
PORT=${PORT:-35060}
HTTP=${HTTP:-35080}
REGRATE=${REGRATE:-10}
LOGINRATE=${LOGINRATE:-4}
GARBAGE_RATE=${GARBAGE_RATE:-5000}
TCP_IDLE=${TCP_IDLE:-5000}
SLOW_HTTP=${SLOW_HTTP:-2000}
NOACK_RATE=${NOACK_RATE:-200}
PIN_PARALLEL=${PIN_PARALLEL:-30}
FLOODS=${*:-udp-garbage tcp-idle slow-http invite-noack wrong-pins}
OUT=${OUT:-$(mktemp -d /tmp/bench-hostile.XXXXXX)}
TOKEN=bench-hostile-token
source bench/lib.sh
need sipp sip-tester curl curl

go build -o "$OUT/hotdesk" ./cmd/hotdesk
go build -o "$OUT/flood" ./bench/hostile/flood
pw() { echo "demo-$1-secret"; }
printf 'SEQUENTIAL\nHD00001;[authentication username=HD00001 password=%s];*35*201*1234\n' "$(pw HD00001)" >"$OUT/login.csv"
printf 'SEQUENTIAL\nHD00002;[authentication username=HD00002 password=%s]\n' "$(pw HD00002)" >"$OUT/reg.csv"
printf 'SEQUENTIAL\nHD00003;[authentication username=HD00003 password=%s];*35*202*0000\n' "$(pw HD00003)" >"$OUT/attack.csv"

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

"$OUT/hotdesk" serve --demo --data "$OUT/data" --sip "127.0.0.1:$PORT" --http "127.0.0.1:$HTTP" \
  --public-ip 127.0.0.1 --rtp-ports 40000-49999 --admin-token "$TOKEN" --digest MD5 --domain bench.test \
  >"$OUT/server.out" 2>"$OUT/server.log" &
server=$!
pids+=("$server")
wait_healthy "http://127.0.0.1:$HTTP" "$OUT/server.log"

metric() { curl -s -m 5 -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HTTP/metrics" | awk -v m="$1" '$1==m {print $2}'; }
rss_mb() { awk -v k="$(rss_kb "$server")" 'BEGIN {printf "%.1f", k/1024}'; }
logbytes() { stat -c %s "$OUT/server.log"; }

# HD00001 registers once from PORT+1, where a sipp UAS answers check-sync NOTIFYs.
sipp "127.0.0.1:$PORT" -sf test/sipp/register_ok.xml -inf "$OUT/login.csv" -m 1 -t u1 -i 127.0.0.1 \
  -p $((PORT + 1)) -nostdin -key domain bench.test -key expires 3600 -timeout 10s >/dev/null 2>"$OUT/register.err" ||
  { echo "HD00001 did not register"; cat "$OUT/register.err"; exit 1; }
sipp -sf test/sipp/login_notify_uas.xml -t u1 -i 127.0.0.1 -p $((PORT + 1)) -nostdin >/dev/null 2>&1 &
pids+=("$!")

flood() { # name
  case $1 in
    udp-garbage) "$OUT/flood" udp-garbage -sip "127.0.0.1:$PORT" -src 127.0.0.2 -dur "${DUR}s" -rate "$GARBAGE_RATE" ;;
    tcp-idle) "$OUT/flood" tcp-idle -sip "127.0.0.1:$PORT" -n "$TCP_IDLE" -srcs 50 -dur "${HOLD}s" ;;
    slow-http) "$OUT/flood" slow-http -http "127.0.0.1:$HTTP" -n "$SLOW_HTTP" -dur "${HOLD}s" ;;
    invite-noack) "$OUT/flood" invite-noack -sip "127.0.0.1:$PORT" -src 127.0.0.3 -dur "${DUR}s" -rate "$NOACK_RATE" ;;
    wrong-pins)
      local d="$OUT/attack"; mkdir -p "$d"
      (cd "$d" && timeout $((DUR + 5)) sipp "127.0.0.1:$PORT" -sf "$ROOT/test/sipp/login_bench.xml" -inf "$OUT/attack.csv" \
        -m $((DUR * PIN_PARALLEL)) -r "$PIN_PARALLEL" -l "$PIN_PARALLEL" -t u1 -i 127.0.0.4 -p $((PORT + 20)) \
        -mi 127.0.0.4 -mp $((PORT + 30)) -nostdin -key domain bench.test -timeout "${DUR}s" \
        -trace_stat -stf stat.csv -fd 1 >/dev/null 2>sipp.err) || true
      echo "wrong-pins: $(stat_col "$d/stat.csv" "SuccessfulCall(C)") calls completed, $(stat_col "$d/stat.csv" "FailedCall(C)") refused or failed (HD00003, user 202, $PIN_PARALLEL in parallel)" ;;
  esac
}

phone() { # dir seconds: register and log in for that long; prints "ok total"
  local d=$1 secs=$2; mkdir -p "$d"
  local nreg=$((secs * REGRATE)) nlog=$((secs * LOGINRATE))
  (cd "$d" && sipp "127.0.0.1:$PORT" -sf "$ROOT/test/sipp/register_ok.xml" -inf "$OUT/reg.csv" -m "$nreg" \
    -r "$REGRATE" -t u1 -i 127.0.0.1 -p $((PORT + 2)) -nostdin -key domain bench.test -key expires 3600 \
    -timeout $((secs + 20))s -trace_stat -stf reg.csv -fd 1 >/dev/null 2>reg.err) &
  local r=$!
  (cd "$d" && sipp "127.0.0.1:$PORT" -sf "$ROOT/test/sipp/login_bench.xml" -inf "$OUT/login.csv" -m "$nlog" \
    -r "$LOGINRATE" -t u1 -i 127.0.0.1 -p $((PORT + 3)) -mi 127.0.0.1 -mp $((PORT + 10)) -nostdin \
    -key domain bench.test -timeout $((secs + 20))s -trace_stat -stf login.csv -fd 1 >/dev/null 2>login.err) &
  local l=$!
  wait "$r" "$l" || true
  echo "$(($(stat_col "$d/reg.csv" "SuccessfulCall(C)") + $(stat_col "$d/login.csv" "SuccessfulCall(C)"))) $((nreg + nlog))"
}

echo "box: $(nproc) cores, load average before: $(cut -d' ' -f1-3 /proc/loadavg); output in $OUT"
read -r ok total < <(phone "$OUT/baseline" "$DUR")
echo "baseline (no flood, ${DUR}s): phone $ok/$total"
bad=0
for f in $FLOODS; do
  g0=$(metric go_goroutines); r0=$(rss_mb); l0=$(logbytes)
  flood "$f" >"$OUT/$f.flood" 2>&1 &
  fp=$!
  secs=$DUR; case $f in tcp-idle | slow-http) secs=$HOLD ;; esac
  read -r ok total < <(phone "$OUT/$f" "$secs")
  wait "$fp" || true
  g1=$(metric go_goroutines); r1=$(rss_mb); l1=$(logbytes)
  kill -0 "$server" 2>/dev/null || { echo "$f: THE SERVER DIED"; tail -20 "$OUT/server.log"; exit 1; }
  rate=$(echo "scale=2; 100 * $ok / $total" | bc)
  printf '%-13s phone %4d/%-4d ok = %6.2f%%  rss %6s -> %6s MB  goroutines %5s -> %5s  log +%d bytes\n' \
    "$f" "$ok" "$total" "$rate" "$r0" "$r1" "$g0" "$g1" "$((l1 - l0))"
  sed 's/^/              /' "$OUT/$f.flood"
  if [ "$(echo "$rate < 99" | bc)" = 1 ]; then bad=$((bad + 1)); fi
done
echo "sip refusals: $(curl -s -H "Authorization: Bearer $TOKEN" "http://127.0.0.1:$HTTP/metrics" | grep -E '^hotdesk_sip_(bad|tcp|accept|handler)' | tr '\n' ' ')"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
kill -INT "$server"; wait "$server" || true
if [ "$bad" != 0 ]; then echo "FAILED: the phone's success rate fell below 99% during $bad flood(s)" >&2; exit 1; fi
