# Sourced by the checkpoint tests: timing a run and killing one at random instants.

# time_ms CMD...: runs CMD and prints how many milliseconds it took.
time_ms() {
  local start
  start=$(date +%s%N)
  "$@" > /dev/null
  echo $(( ($(date +%s%N) - start) / 1000000 ))
}

# sleep_ms MS
sleep_ms() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }

# kill_repeatedly KILLS RUN_MS LOG CMD...: starts CMD (stderr appended to LOG) KILLS times,
# each time killing it with SIGKILL somewhere in the first 90% of RUN_MS (the time an
# uninterrupted run takes, so slower builds wait longer), then runs it to its end. A test that
# defines the function after_each_kill has it called after every kill.
kill_repeatedly() {
  local kills=$1 run_ms=$2 log=$3 pid delay_ms
  shift 3
  for _ in $(seq 1 "$kills"); do
    "$@" 2>> "$log" &
    pid=$!
    delay_ms=$(( run_ms / 10 + RANDOM % (run_ms * 8 / 10 + 1) ))
    sleep_ms "$delay_ms"
    kill -9 "$pid" 2> /dev/null || true
    wait "$pid" 2> /dev/null || true
    if declare -F after_each_kill > /dev/null; then after_each_kill; fi
  done
  "$@" 2>> "$log"
}
