#!/usr/bin/env bash
# Crash test (issue 5): a job with an interval join, a window with a late stream and an
# unwindowed aggregate over ~1.8M records, checkpointing every 20 ms, is killed with SIGKILL
# at random instants again and again and restored each time (--restore latest); then it runs
# to the end. Its output files must be byte-identical to those of a run never interrupted, and
# after every kill each must hold only committed output: a prefix of that run's, ending at a
# line's end (two-phase commit). Then the newest checkpoint is damaged three ways (a flipped
# bit, a truncated file, a deleted file): each restore must say so, use the one before, and
# still produce the same output.
# STATE is the state backend the interrupted runs use (heap or rocksdb).
#   crash_test.sh FLOWC [KILLS] [STATE]
set -euo pipefail
flowc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
kills=${2:-12}
state=${3:-heap}
source "$(dirname "$0")/kill_support.sh"
work=$(mktemp -d /tmp/flow-crash-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

python3 - <<'PY'
import random
random.seed(1)
with open('events.csv', 'w') as f:
    f.write('k,v,ts\n')
    for i in range(1500000):
        f.write('%d,%d,%d\n' % (random.randint(0, 99), random.randint(0, 9), 1700000000000 + i // 2 - random.randint(0, 300)))
with open('refs.csv', 'w') as f:
    f.write('k,name,ts\n')
    for i in range(300000):
        f.write('%d,name%d,%d\n' % (random.randint(0, 99), i, 1700000000000 + i * 5 // 2 - random.randint(0, 300)))
PY
cat > job.flow <<'FLOW'
schema E { k: i64, v: i64, ts: timestamp }
schema R { k: i64, name: string, ts: timestamp }
source events: E = file("events.csv", format = csv) time ts watermark lag 1s
source refs: R = file("refs.csv", format = csv) time ts watermark lag 1s

events
| join refs as r on k == r.k within 0s .. 20ms
| aggregate by k over tumbling(1s) late 0s -> late_pairs { n = count(), names = count_distinct(r.name), last = last(r.name) }
| sink file("out.csv", format = csv)

late_pairs | sink file("late.csv", format = csv)
events | aggregate by k { total = sum(v) } | sink file("totals.csv", format = csv)
FLOW
"$flowc" build job.flow -o job
run_ms=$(time_ms ./job)
outputs=(out.csv late.csv totals.csv)
for f in "${outputs[@]}"; do mv "$f" "reference.$f"; done

same_as_reference() {
  for f in "${outputs[@]}"; do
    if ! cmp -s "$f" "reference.$f"; then
      echo "FAIL: $1: $f differs from the uninterrupted run"
      cmp "$f" "reference.$f" || true
      exit 1
    fi
  done
}

# Only committed output, at every instant a kill can catch.
after_each_kill() {
  for f in "${outputs[@]}"; do
    [ -e "$f" ] || continue
    local size
    size=$(stat -c %s "$f")
    if ! cmp -s -n "$size" "$f" "reference.$f" || { [ "$size" -gt 0 ] && [ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" != '\n' ]; }; then
      echo "FAIL: after a kill $f ($size bytes) is not a prefix of the uninterrupted output ending at a line's end"
      exit 1
    fi
  done
}
run=(./job --state "$state" --checkpoint-dir cp --checkpoint-interval 20ms --checkpoints-retained 6 --restore latest)
kill_repeatedly "$kills" "$run_ms" log.txt "${run[@]}"
same_as_reference "after $kills kills"
restores=$(grep -c "note: restored from checkpoint" log.txt || true)
if [ "$restores" -lt 3 ]; then
  echo "FAIL: only $restores of the runs restored from a checkpoint"; cat log.txt; exit 1
fi

# A damaged newest checkpoint is reported and skipped: DAMAGE is a command run in the
# directory of the newest usable checkpoint, REPORT what the restore must say about it.
restore_past_damage() {
  local damage=$1 report=$2 newest
  newest=cp/chk-$(printf '%08d' "$("$flowc" checkpoints cp | sed -n 's/^checkpoint \([0-9]*\): valid.*/\1/p' | head -1)")
  (cd "$newest" && eval "$damage")
  "$flowc" checkpoints cp | grep -q "NOT USABLE: $report" || { echo "FAIL: inspector after: $damage"; "$flowc" checkpoints cp; exit 1; }
  "${run[@]}" 2> damaged.txt
  grep -q "cannot be used: $report" damaged.txt || { echo "FAIL: damage not reported: $damage"; cat damaged.txt; exit 1; }
  grep -q "note: restored from checkpoint" damaged.txt || { echo "FAIL: no fallback after: $damage"; cat damaged.txt; exit 1; }
  same_as_reference "after restoring past a damaged checkpoint ($damage)"
}
restore_past_damage "printf X | dd of=window-0.state bs=1 seek=20 conv=notrunc status=none" "file window-0.state has checksum"
restore_past_damage "truncate -s -3 join-0.state" "file join-0.state has [0-9]* bytes, expected"
restore_past_damage "rm sources.state" "file sources.state is missing"
# Output that a checkpoint counted and that is gone cannot be restored: exit 3, saying why.
rm out.csv
if "${run[@]}" 2> gone.txt; then echo "FAIL: restored over a deleted output"; exit 1; fi
grep -q "cannot write \`out.csv\`" gone.txt || { echo "FAIL: no message for a deleted output"; cat gone.txt; exit 1; }
# Savepoints: SIGUSR1 writes one and the job goes on; SIGTERM writes one and stops the job
# (exit 0); restoring from the last one finishes with the same output.
savepoints_ok=0
for attempt in 1 2 3; do
  rm -rf sp
  ./job --state "$state" --savepoint-dir sp 2> savepoint.txt &
  pid=$!
  sleep_ms $((run_ms / 5))
  kill -USR1 "$pid" 2> /dev/null || { wait "$pid"; continue; }
  sleep_ms $((run_ms / 5))
  kill -TERM "$pid" 2> /dev/null || { wait "$pid"; continue; }
  status=0
  wait "$pid" || status=$?
  # 138: SIGUSR1 came before the job had set up its handler (a very slow start): try again.
  if [ "$status" = 138 ]; then continue; fi
  if [ "$status" != 0 ]; then echo "FAIL: stopping with a savepoint exited $status"; cat savepoint.txt; exit 1; fi
  grep -q "note: stopped with a savepoint" savepoint.txt || continue  # the job ended first: try again
  [ "$(grep -c "note: savepoint written to" savepoint.txt)" = 2 ] || { echo "FAIL: expected two savepoints"; cat savepoint.txt; exit 1; }
  last=$(ls -d sp/chk-* | sort | tail -1)
  "$flowc" checkpoints sp | grep -q "^savepoint 2: valid" || { echo "FAIL: inspector on savepoints"; "$flowc" checkpoints sp; exit 1; }
  ./job --state "$state" --restore "$last" 2> restored.txt
  same_as_reference "after stopping with a savepoint and restoring it"
  savepoints_ok=1
  break
done
[ "$savepoints_ok" = 1 ] || { echo "FAIL: the job never stopped with a savepoint"; exit 1; }
echo "ok ($state): $kills kills, $restores restores, identical output, only committed output after each kill; damaged checkpoints (bit flip, truncation, deletion) were skipped; savepoint, stop, restore"
