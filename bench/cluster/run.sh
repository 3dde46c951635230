#!/usr/bin/env bash
# Hot-desk logins/s through the REST API with 1, 2 and 3 nodes of
# `hotdesk serve` on one PostgreSQL (a private server started here, fsync
# ON), each node count on a fresh database. bench/cluster/load creates the
# users and phones and drives the logins (each moves a user to their other
# phone: the old login ends, the new one starts), spreading requests over
# the nodes in turn.
#
#   bench/cluster/run.sh                       # 1 2 3 nodes, 32 clients, 20 s each
#   NODES="1 3" WORKERS=64 DURATION=30s bench/cluster/run.sh
#   HOTDESK_BIN=/path/to/other/hotdesk bench/cluster/run.sh   # another build, to compare
#   LOAD_NODES=1 bench/cluster/run.sh          # requests to the first node only: the
#                                              # others only consume the event log
#   NODE_CPU=0.25 bench/cluster/run.sh         # each node in a cgroup of its own capped at
#                                              # 0.25 CPU: nodes as on hosts of their own,
#                                              # so a node added brings its CPU with it
#                                              # (needs root and the cgroup cpu controller)
#
# Prints one line per node count and a table; exits non-zero when a login
# failed or a node did not start.
set -euo pipefail
cd "$(dirname "$0")/../.."
NODES=${NODES:-"1 2 3"}
WORKERS=${WORKERS:-32}
USERS=${USERS:-128}
DURATION=${DURATION:-20s}
OUT=${OUT:-$(mktemp -d /tmp/bench-cluster.XXXXXX)}
chmod 755 "$OUT"
TOKEN=bench-cluster-token-0123456789abcdef
source bench/lib.sh

if [ -n "${HOTDESK_BIN:-}" ]; then cp "$HOTDESK_BIN" "$OUT/hotdesk"; else go build -o "$OUT/hotdesk" ./cmd/hotdesk; fi
go build -o "$OUT/load" ./bench/cluster/load

pgbin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
run_pg() { if [ "$(id -u)" -eq 0 ]; then su postgres -s /bin/sh -c "$*"; else sh -c "$*"; fi; }
[ "$(id -u)" -eq 0 ] && chown postgres "$OUT"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  uncap
  run_pg "$pgbin/pg_ctl -D $OUT/pg -m fast stop" >/dev/null 2>&1 || true
}
trap cleanup EXIT
run_pg "$pgbin/initdb -D $OUT/pg -A trust -U hotdesk >/dev/null"
run_pg "$pgbin/pg_ctl -D $OUT/pg -o \"-k $OUT -c listen_addresses='' -c fsync=on -c max_connections=300 ${PGOPTS:-}\" -l $OUT/pg.log -w start >/dev/null"
echo "cluster bench: PostgreSQL $(basename "$(dirname "$pgbin")") fsync=$(run_pg "$pgbin/psql -h $OUT -U hotdesk -d postgres -Atc 'show fsync'"), $(nproc) CPUs, $WORKERS clients, $DURATION per run, out $OUT"

# NODE_CPU: one cgroup per node with a CPU quota (v1 cpu controller or v2
# cpu.max), as if each node had a host of that size to itself.
cgroups=()
cap() { # cap PID INDEX
  [ -n "${NODE_CPU:-}" ] || return 0
  local quota; quota=$(awk -v c="$NODE_CPU" 'BEGIN{printf "%d", c*100000}')
  local g
  if [ -d /sys/fs/cgroup/cpu ] && [ -w /sys/fs/cgroup/cpu ]; then
    g=/sys/fs/cgroup/cpu/hotdesk-bench-$2
    mkdir -p "$g"; echo 100000 >"$g/cpu.cfs_period_us"; echo "$quota" >"$g/cpu.cfs_quota_us"
  elif [ -w /sys/fs/cgroup/cgroup.subtree_control ]; then
    g=/sys/fs/cgroup/hotdesk-bench-$2
    mkdir -p "$g"; echo "$quota 100000" >"$g/cpu.max"
  else
    echo "NODE_CPU: no writable cgroup cpu controller here"; exit 1
  fi
  echo "$1" >"$g/cgroup.procs"
  cgroups+=("$g")
}
uncap() { local g; for g in "${cgroups[@]}"; do rmdir "$g" 2>/dev/null || true; done; cgroups=(); }

# CPU seconds (user+system) used so far by the given processes.
pgpids() { pgrep -P "$(head -1 "$OUT/pg/postmaster.pid")" | tr '\n' ' '; }

results=()
for n in $NODES; do
  db=bench_$n
  run_pg "$pgbin/createdb -h $OUT -U hotdesk $db"
  url="postgres://hotdesk@/$db?host=$OUT&sslmode=disable"
  urls=()
  pids=()
  for i in $(seq 1 "$n"); do
    dir=$OUT/n$n-$i
    mkdir -p "$dir"
    "$OUT/hotdesk" serve --data "$dir" --db "$url" --node "bench$i" --admin-token "$TOKEN" \
      --sip "127.0.0.1:$((27100 + i))" --sip-tls "127.0.0.1:$((27300 + i))" --http "127.0.0.1:$((27200 + i))" --public-ip 127.0.0.1 \
      --rtp-ports "$((40000 + 1000 * i))-$((40000 + 1000 * i + 999))" --log-level warn >"$dir/log" 2>&1 &
    pids+=($!)
    cap $! "$i"
    urls+=("http://127.0.0.1:$((27200 + i))")
  done
  for u in "${urls[@]}"; do
    wait_healthy "$u" "$OUT"/n$n-*/log
  done
  "$OUT/load" -nodes "$(IFS=,; echo "${urls[*]}")" -token "$TOKEN" -users "$USERS" -workers "$WORKERS" -duration 1s >/dev/null
  # Measure only the logins: users and phones exist now (-setup=false).
  pg0=$(cpu_ticks $(pgpids)); nodes0=$(cpu_ticks "${pids[@]}"); each0=(); for p in "${pids[@]}"; do each0+=("$(cpu_ticks "$p")"); done
  line=$("$OUT/load" -setup=false -nodes "$(IFS=,; echo "${urls[*]:0:${LOAD_NODES:-$n}}")" -token "$TOKEN" -users "$USERS" -workers "$WORKERS" -duration "$DURATION")
  pg1=$(cpu_ticks $(pgpids)); nodes1=$(cpu_ticks "${pids[@]}"); each1=(); for p in "${pids[@]}"; do each1+=("$(cpu_ticks "$p")"); done
  logins=$(echo "$line" | sed -E 's/.* logins=([0-9]+).*/\1/')
  line=$(echo "$line" | sed -E "s/^nodes=[0-9]+/nodes=$n load-on=${LOAD_NODES:-$n}${NODE_CPU:+ node-cpu-cap=$NODE_CPU}/")
  each=""
  for i in "${!pids[@]}"; do each="$each${each:+/}$(( (each1[i] - each0[i]) * 1000000 / CLK / (logins > 0 ? logins : 1) ))"; done
  line="$line node-cpu/login=$(( (nodes1 - nodes0) * 1000000 / CLK / (logins > 0 ? logins : 1) ))us pg-cpu/login=$(( (pg1 - pg0) * 1000000 / CLK / (logins > 0 ? logins : 1) ))us each-node-cpu/login=${each}us"
  echo "$line"
  results+=("$line")
  for p in "${pids[@]}"; do kill "$p"; done
  wait "${pids[@]}" 2>/dev/null || true
  pids=()
  uncap
  if grep -i "panic\|event log connection lost" "$OUT"/n$n-*/log; then echo "a node logged trouble (above)"; exit 1; fi
done

echo
echo "| nodes | logins/s | p50 | p99 | CPU per login: nodes | PostgreSQL | each node |"
echo "|---|---|---|---|---|---|---|"
for l in "${results[@]}"; do
  echo "$l" | sed -E 's/nodes=([0-9]+).*logins\/s=([0-9]+) p50=([^ ]+) p99=([^ ]+) node-cpu\/login=([^ ]+) pg-cpu\/login=([^ ]+) each-node-cpu\/login=([^ ]+)/| \1 | \2 | \3 | \4 | \5 | \6 | \7 |/'
done
