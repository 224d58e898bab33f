#!/usr/bin/env bash
# Checkpoints of parallel instances (issue 6): a job with an interval join, a window with
# count_distinct and two unwindowed aggregates (one two-phase, one salted), some of them on the
# first one or two instances only (`@parallel`), must give the
# records of an uninterrupted run at parallelism 1, sorted (records of different keys come out
# in another order at N > 1):
#   - restored from a checkpoint taken at N = 2 at N = 1, 2, 3 and 4 (rescaling: state moves
#     by key group), and from one taken at N = 1 at N = 3;
#   - killed with SIGKILL at random instants again and again, each run at another parallelism
#     restoring the latest checkpoint; after every kill each output holds committed records
#     only (two-phase commit);
#   - stopped by SIGTERM with a savepoint at N = 2 and resumed from it at N = 3.
# Session windows move to another parallelism as well.
# With STATE rocksdb each instance's database is checkpointed under instance-K.rocksdb.*, the
# later checkpoints share SST files, and a restore at another parallelism copies the rows of
# the key groups each instance now owns out of every part's database.
#   checkpoint_test.sh FLOWC [KILLS] [STATE]
set -euo pipefail
flowc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
kills=${2:-8}
state=${3:-heap}
source "$(dirname "$0")/../checkpoint/kill_support.sh"
work=$(mktemp -d /tmp/flow-parallel-checkpoint-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

awk 'BEGIN { srand(1); print "k,v,ts";
  for (i = 0; i < 1500000; i++) printf "%d,%d,%.0f\n", int(rand() * 100), int(rand() * 10), 1700000000000 + int(i / 2) - int(rand() * 300) }' > events.csv
awk 'BEGIN { srand(2); print "k,name,ts";
  for (i = 0; i < 300000; i++) printf "%d,name%d,%.0f\n", int(rand() * 100), i, 1700000000000 + int(i * 5 / 2) - int(rand() * 300) }' > refs.csv
cat > job.flow <<'FLOW'
schema E { k: i64, v: i64, ts: timestamp }
schema R { k: i64, name: string, ts: timestamp }
source events: E = file("events.csv", format = csv) time ts watermark lag 1s
source refs: R = file("refs.csv", format = csv) time ts watermark lag 1s

events
| @parallel(2) join refs as r on k == r.k within 0s .. 20ms
| aggregate by k over tumbling(1s) late 0s drop { n = count(), names = count_distinct(r.name) }
| sink file("out.csv", format = csv)

events | @parallel(1) aggregate by k { total = sum(v), top = max(v), n = count() } | sink file("totals.csv", format = csv)
events | @parallel(1) aggregate by v { keys = count_distinct(k) } | sink file("distinct.csv", format = csv)

# A table with a bad row, whose dead letters an aggregate counts (emitted at once at N = 1, at
# the end at N > 1), and a window after a window, the second pre-aggregated locally; records
# dealt round robin and partitioned on their way to the first (routes in flight at barriers).
schema G { k: i64, grp: string }
table groups: G = file("groups.csv", format = csv) on error -> bad_groups
bad_groups | aggregate { bad = count() } | sink file("bad.csv", format = csv)
events
| rebalance
| join table groups as g on k == g.k
| partition by grp = g.grp
| aggregate by grp = g.grp over tumbling(1s) late 0s drop { n = count() }
| map { grp = grp, n = n, ts = window_end - 1ms }
| @parallel(2) aggregate local by grp over sliding(4s, every = 2s) late 0s drop { windows = count(), total = sum(n), most = max(n) }
| sink file("groups_out.csv", format = csv)
FLOW
{ echo "k,grp"; for k in $(seq 0 99); do echo "$k,g$((k % 7))"; done; echo "oops"; } > groups.csv
"$flowc" build job.flow -o job 2> build.txt || { cat build.txt; exit 1; }
outputs=(out.csv totals.csv distinct.csv bad.csv groups_out.csv)
./job 2> reference.txt
for f in "${outputs[@]}"; do sort "$f" > "$work/reference.$f"; done
[ "$(wc -l < reference.out.csv)" -gt 10000 ] || { echo "FAIL: the reference run wrote little"; exit 1; }
[ "$(cat reference.bad.csv | tr '\n' ' ')" = "1 bad " ] || { echo "FAIL: the bad group row"; cat bad.csv; exit 1; }
[ "$(wc -l < reference.groups_out.csv)" -gt 100 ] || { echo "FAIL: the chained windows wrote little"; exit 1; }

same_as_reference() {
  for f in "${outputs[@]}"; do
    if ! sort "$f" | cmp -s - "$work/reference.$f"; then
      echo "FAIL: $1: $f differs from the uninterrupted run's records"
      sort "$f" | diff - "$work/reference.$f" | head -5
      exit 1
    fi
  done
}

# --- Restores from one checkpoint at every parallelism, each in a copy of the directory as
# the checkpointing run left it (a restore rewrites the outputs).
mkdir first
cp job events.csv refs.csv groups.csv first/
# Checkpoints are written in the background one at a time (RocksDB's take longest, 300 ms on
# a slow disk), so how many a run completes depends on the disk: a run that completes fewer
# than two is tried again. Two suffice: the later one is taken mid-run, and the SST files the
# two share show incremental checkpoints.
checkpointing_run() {  # DIR ARGS...: runs ./job in DIR checkpointing every 1 ms into DIR/cp
  local dir=$1; shift
  for attempt in 1 2 3 4 5; do
    rm -rf "$dir/cp"
    (cd "$dir" && ./job "$@" --checkpoint-dir cp --checkpoint-interval 1ms --checkpoints-retained 100 2> log.txt)
    [ "$(cd "$dir" && ls -d cp/chk-* 2> /dev/null | wc -l)" -ge 2 ] && return 0
  done
  echo "FAIL: expected several checkpoints in $dir (./job $*), found fewer than two"; cat "$dir/log.txt"; exit 1
}
checkpointing_run first --state "$state" --parallelism 2
checkpoints=($(cd first && ls -d cp/chk-* | sort))
(cd first && same_as_reference "the checkpointing run at N = 2")
grep -q '^file instance-1\.time\.state ' "first/${checkpoints[0]}/_metadata" || { echo "FAIL: no instance files"; exit 1; }
grep -q '^file parts\.state ' "first/${checkpoints[0]}/_metadata" || { echo "FAIL: no parts.state"; exit 1; }
middle=${checkpoints[$(( ${#checkpoints[@]} / 2 ))]}
if [ "$state" = rocksdb ]; then
  grep -Eq '^(file|shared) instance-1\.rocksdb\.' "first/${checkpoints[0]}/_metadata" || { echo "FAIL: no database of instance 1"; exit 1; }
  references=$(cat first/cp/chk-*/_metadata | grep -c '^shared instance-[0-9]*\.rocksdb\.' || true)
  distinct=$(cat first/cp/chk-*/_metadata | grep '^shared instance-[0-9]*\.rocksdb\.' | sort -u | wc -l)
  [ "$references" -gt "$distinct" ] || { echo "FAIL: no SST file is shared ($references references, $distinct files)"; exit 1; }
  rm -rf at && cp -a first at
  # Refused before anything was touched: the outputs are as the checkpointing run left them.
  if (cd at && ./job --parallelism 2 --restore "$middle" 2> heap.txt); then echo "FAIL: a heap job restored RocksDB state"; exit 1; fi
  grep -q "its state is in RocksDB: restore it with --state rocksdb" at/heap.txt || { echo "FAIL: no message"; cat at/heap.txt; exit 1; }
  for f in "${outputs[@]}"; do cmp -s "at/$f" "first/$f" || { echo "FAIL: the refused restore on the heap changed $f"; exit 1; }; done
fi
restore_parallelisms="1 2 3 4"
for n in $restore_parallelisms; do
  rm -rf at && cp -a first at
  (cd at && ./job --state "$state" --parallelism "$n" --restore "$middle" 2> restore.txt) || { echo "FAIL: restore at N = $n failed"; cat at/restore.txt; exit 1; }
  grep -q "note: restored from checkpoint" at/restore.txt || { echo "FAIL: no restore at N = $n"; exit 1; }
  if grep -q "late records dropped" at/restore.txt; then echo "FAIL: records late after the restore at N = $n"; cat at/restore.txt; exit 1; fi
  (cd at && same_as_reference "restored at N = $n from $middle (N = 2)")
done
# The same job with other `@parallel` annotations restores a checkpoint at the same parallelism
# too: its keyed operators' state moves to where their keys now live.
sed 's/@parallel(2) join/@parallel(1) join/; s/@parallel(1) aggregate by v/aggregate by v/' job.flow > relaid.flow
"$flowc" build relaid.flow -o relaid 2> /dev/null
rm -rf at && cp -a first at && cp relaid at/
(cd at && ./relaid --state "$state" --parallelism 2 --restore "$middle" 2> restore.txt) ||
  { echo "FAIL: restore with other @parallel annotations"; cat at/restore.txt; exit 1; }
(cd at && same_as_reference "restored at N = 2 from $middle with other @parallel annotations")
# A checkpoint taken after a restore at another parallelism, restored at that same one: the
# salted count_distinct's sets (distinct.csv) no longer split the values between the instances
# (parts.state says so), so the end merges their values instead of adding up their counts.
rm -rf at && cp -a first at
(cd at && ./job --state "$state" --parallelism 3 --restore "$middle" --checkpoint-dir cp3 --checkpoint-interval 1ms \
  --checkpoints-retained 100 2> lineage.txt) || { echo "FAIL: checkpointing after a restore at N = 3"; cat at/lineage.txt; exit 1; }
after_rescale=$(cd at && ls -d cp3/chk-* 2> /dev/null | sort | head -1)
[ -n "$after_rescale" ] || { echo "FAIL: no checkpoint after the restore at N = 3"; exit 1; }
rm -rf again && cp -a at again  # (its outputs as that run left them: the checkpoint cuts them back)
(cd again && ./job --state "$state" --parallelism 3 --restore "$after_rescale" 2> restore.txt) ||
  { echo "FAIL: restore at N = 3 of $after_rescale"; cat again/restore.txt; exit 1; }
(cd again && same_as_reference "restored at N = 3 from $after_rescale (taken at N = 3 after a restore from N = 2)")
# A checkpoint of a single instance (with RocksDB: one database, the state directory's own)
rm -rf single && mkdir single && cp job events.csv refs.csv groups.csv single/
checkpointing_run single --state "$state"
single_checkpoints=($(cd single && ls -d cp/chk-* | sort))
single_middle=${single_checkpoints[$(( ${#single_checkpoints[@]} / 2 ))]}
(cd single && ./job --state "$state" --parallelism 3 --restore "$single_middle" 2> restore.txt) || { echo "FAIL: restore at N = 3 of N = 1"; cat single/restore.txt; exit 1; }
(cd single && same_as_reference "restored at N = 3 from $single_middle (N = 1)")
# Checkpoints asked for back to back at N = 4 (more instances than cores): none may be missed.
rm -rf four && mkdir four && cp job events.csv refs.csv groups.csv four/
(cd four && timeout 120 ./job --state "$state" --parallelism 4 --checkpoint-dir cp --checkpoint-interval 1ms --checkpoints-retained 2 2> log.txt) ||
  { echo "FAIL: checkpointing every 1 ms at N = 4 failed or hung"; cat four/log.txt; exit 1; }
(cd four && same_as_reference "checkpointing every 1 ms at N = 4")
echo "ok ($state): a checkpoint of N = 2 restores at N = $restore_parallelisms; one of N = 1 at N = 3"

# --- Kills, each run at another parallelism, restoring the latest checkpoint.
mkdir killed
cp job events.csv refs.csv groups.csv killed/
cd killed
run_ms=$(time_ms ./job --state "$state" --parallelism 2 --checkpoint-dir timing --checkpoint-interval 20ms)  # as the runs below
rm -rf timing
for f in "${outputs[@]}"; do rm -f "$f"; done
committed_only() {
  for f in "${outputs[@]}"; do
    [ -e "$f" ] || continue
    local extra
    extra=$(sort "$f" | comm -23 - "$work/reference.$f" | head -3)
    if [ -n "$extra" ] || { [ -s "$f" ] && [ "$(tail -c 1 "$f" | od -An -c | tr -d ' ')" != '\n' ]; }; then
      echo "FAIL: after a kill $f holds records the uninterrupted run has not, or a cut line: $extra"
      exit 1
    fi
  done
}
parallelism=(2 3 1 4 2 3 1 2)
for i in $(seq 0 $(( kills - 1 ))); do
  n=${parallelism[$(( i % ${#parallelism[@]} ))]}
  echo "run $i at --parallelism $n" >> log.txt
  ./job --state "$state" --parallelism "$n" --checkpoint-dir cp --checkpoint-interval 20ms --restore latest 2>> log.txt &
  pid=$!
  # A restore at another parallelism reads every part: runs are given time for it, and some
  # finish (the next restores the latest checkpoint all the same).
  sleep_ms $(( run_ms / 2 + RANDOM % (run_ms + 1) ))
  kill -9 "$pid" 2> /dev/null || true
  wait "$pid" 2> /dev/null || true
  committed_only
done
./job --state "$state" --parallelism 2 --checkpoint-dir cp --checkpoint-interval 20ms --restore latest 2>> log.txt
same_as_reference "after $kills kills at changing parallelism"
restores=$(grep -c "note: restored from checkpoint" log.txt || true)
if [ "$restores" -lt 3 ]; then echo "FAIL: only $restores of the runs restored from a checkpoint"; cat log.txt; exit 1; fi
cd ..
echo "ok ($state): $kills kills, $restores restores at changing parallelism, identical records"

# --- SIGTERM at N = 2 stops with a savepoint; N = 3 resumes from it.
mkdir stopped
cp job events.csv refs.csv groups.csv stopped/
cd stopped
# (run_ms was taken with checkpoints, which a run without is faster than: a run that ended
# before the signal is tried again with an earlier one)
for divisor in 3 6 12; do
  rm -rf sp
  ./job --state "$state" --parallelism 2 --savepoint-dir sp 2> log.txt &
  pid=$!
  sleep_ms $(( run_ms / divisor ))
  kill -TERM "$pid" 2> /dev/null || true  # (it may have ended already)
  wait "$pid" || { echo "FAIL: the job stopped by SIGTERM failed"; cat log.txt; exit 1; }
  grep -q "note: stopped with a savepoint (SIGTERM)" log.txt && break
done
grep -q "note: stopped with a savepoint (SIGTERM)" log.txt || { echo "FAIL: no savepoint on SIGTERM (or the job ended first)"; cat log.txt; exit 1; }
savepoint=$(ls -d sp/chk-* | head -1)
resume_at=3
./job --state "$state" --parallelism "$resume_at" --restore "$savepoint" 2> resume.txt || { echo "FAIL: resuming at N = $resume_at"; cat resume.txt; exit 1; }
same_as_reference "stopped with a savepoint at N = 2, resumed at N = $resume_at"
cd ..
echo "ok ($state): a savepoint of SIGTERM at N = 2 resumes at N = $resume_at"

# --- Session windows move to another parallelism too (a session's row moves with its key).
mkdir sessions
cp events.csv sessions/
cd sessions
cat > sessions.flow <<'FLOW'
schema E { k: i64, v: i64, ts: timestamp }
source events: E = file("events.csv", format = csv) time ts watermark lag 1s
events | aggregate by k over session(gap = 5ms) { n = count(), top = max(v) } | sink file("sessions.csv", format = csv)
FLOW
"$flowc" build sessions.flow -o sessions 2> /dev/null
./sessions --state "$state" 2> /dev/null
sort sessions.csv > reference.csv
ln -s sessions job  # (for checkpointing_run)
checkpointing_run . --state "$state" --parallelism 2
session_checkpoints=($(ls -d cp/chk-* | sort))
some=${session_checkpoints[$(( ${#session_checkpoints[@]} / 2 ))]}
for n in 1 3; do
  cp -a cp "cp$n"
  ./sessions --state "$state" --parallelism "$n" --restore "cp$n/$(basename "$some")" 2> restore.txt || { echo "FAIL: sessions restored at N = $n"; cat restore.txt; exit 1; }
  grep -q "note: restored from checkpoint" restore.txt || { echo "FAIL: no restore of the sessions at N = $n"; exit 1; }
  sort sessions.csv | cmp -s - reference.csv || { echo "FAIL: sessions restored at N = $n from $some (N = 2) differ"; sort sessions.csv | diff - reference.csv | head -5; exit 1; }
done
cd ..
echo "ok ($state): session windows of a checkpoint at N = 2 restore at N = 1 and 3"
