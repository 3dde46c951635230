#!/usr/bin/env bash
# Anchored media: N simultaneous G.711 calls through the relay
# (internal/relay) on loopback, 20 ms packets both ways, at 100, 500 and
# 1,000 calls (CALLS="100 500 1000"). For each it prints the relay
# process's CPU (total and per call), packet loss and the p99 added jitter
# (bench/media/gen explains how each is measured), and the load average,
# since other processes on the machine add jitter too. Aim (issue 15): 1,000
# calls on 2 cores with < 0.1% loss and < 5 ms p99 added jitter. With
# PROFILE=1 the largest run writes the relay's CPU profile and prints its
# top functions.
#
#   bench/media/run.sh                    # DUR=10s WARM=2s
#   CALLS=1000 PROFILE=1 bench/media/run.sh
#
# Not part of ./scripts/test: a load script, run by hand. Loopback only.
set -euo pipefail
cd "$(dirname "$0")/../.."
CALLS=${CALLS:-"100 500 1000"}
DUR=${DUR:-10s}
WARM=${WARM:-2s}
OUT=$(mktemp -d /tmp/hotdesk-bench-media.XXXXXX)
trap 'rm -rf "$OUT"' EXIT
go build -o "$OUT/gen" ./bench/media/gen
echo "cores: $(nproc); $(go version | cut -d' ' -f3)"
last=${CALLS##* }
for n in $CALLS; do
  prof=()
  if [ "${PROFILE:-0}" = 1 ] && [ "$n" = "$last" ]; then prof=(-cpuprofile "$OUT/relay.pprof"); fi
  echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
  "$OUT/gen" -calls "$n" -warm "$WARM" -dur "$DUR" "${prof[@]}"
done
if [ -f "$OUT/relay.pprof" ]; then
  go tool pprof -top -nodecount=25 "$OUT/gen" "$OUT/relay.pprof" 2>/dev/null | head -35
fi
