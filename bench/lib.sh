# bench/lib.sh: helpers the bench scripts source (bash): start-up waits and /proc figures.

# need CMD PACKAGE...: fail with the package to install when a command is missing.
need() {
  while [ $# -ge 2 ]; do
    command -v "$1" >/dev/null || { echo "$1 missing: apt-get install $2" >&2; exit 1; }
    shift 2
  done
}

# wait_healthy URL LOG...: wait up to 30 s for URL/healthz to answer; print the logs and fail if not.
wait_healthy() {
  local _
  for _ in $(seq 1 300); do curl -fs "$1/healthz" >/dev/null 2>&1 && return 0; sleep 0.1; done
  echo "server at $1 did not come up" >&2
  cat "${@:2}" >&2
  exit 1
}

# serve ARGS...: build cmd/hotdesk (or copy $BIN, for A/B runs) into $OUT and start `hotdesk serve --data $OUT/data
# --admin-token $TOKEN ARGS...` in the background, its output in $OUT/server.log and the Go
# profiler on $PPROF when that is set; server is its pid. Set the EXIT trap that stops it next.
serve() {
  if [ -n "${BIN:-}" ]; then cp "$BIN" "$OUT/hotdesk"; else go build -o "$OUT/hotdesk" ./cmd/hotdesk; fi
  HOTDESK_PPROF=${PPROF:-} "$OUT/hotdesk" serve --data "$OUT/data" --admin-token "$TOKEN" "$@" >"$OUT/server.log" 2>&1 &
  server=$!
}

# cpu_ticks PID...: user + system CPU of the processes in clock ticks (CLK_TCK a second);
# a process that is gone counts 0. The command name may hold spaces, so fields are counted
# from the ")" that ends it.
cpu_ticks() {
  local t=0 p
  for p in "$@"; do
    [ -r "/proc/$p/stat" ] && t=$((t + $(awk '{sub(/.*\) /, ""); print $12 + $13}' "/proc/$p/stat")))
  done
  echo "$t"
}

# rss_kb PID: resident set size in kB.
rss_kb() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }

CLK=$(getconf CLK_TCK)

# stat_col FILE COLUMN: the last value of a column of a sipp -trace_stat file.
stat_col() { awk -F';' -v col="$2" 'NR==1 {for (i=1;i<=NF;i++) if ($i==col) c=i; next} {v=$c} END {print v+0}' "$1"; }
