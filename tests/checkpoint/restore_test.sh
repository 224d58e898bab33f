#!/usr/bin/env bash
# Restore without kills, deterministically: a job checkpointing as often as it can runs to the
# end; run again with --restore latest it continues from its last checkpoint (mid-run, before
# the end of input) and must rewrite exactly the same files. The job reads a table with a bad
# row (its dead letters feed an aggregate), joins the stream with it, and windows the result.
# STATE: the state backend (heap or rocksdb); a checkpoint of the one cannot be restored
# into a job on the other that has no way to read it, and says so.
#   restore_test.sh FLOWC [STATE]
set -euo pipefail
flowc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
state=${2:-heap}
work=$(mktemp -d /tmp/flow-restore-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
printf 'ad,campaign\n1,10\n2,10\nx,11\n3,12\n' > campaigns.csv
write_events() {  # write_events COUNT
  awk -v n="$1" 'BEGIN { print "ad,kind,ts"; for (i = 0; i < n; i++) printf "%d,%s,%d\n", i % 5, (i % 3 == 0 ? "view" : "click"), 1700000000000 + i * 7 }' > events.csv
}
cat > job.flow <<'FLOW'
schema E { ad: i64, kind: string, ts: timestamp }
schema C { ad: i64, campaign: i64 }
source events: E = file("events.csv", format = csv) time ts watermark lag 0s
table campaigns: C = file("campaigns.csv", format = csv) on error -> bad_rows
events
| filter kind == "view"
| left join table campaigns as c on ad == c.ad
| aggregate by campaign = c.campaign over tumbling(10s) late 0s drop { views = count(), ads = count_distinct(ad) }
| sink file("views.csv", format = csv)
bad_rows | aggregate { bad = count() } | sink file("bad.csv", format = csv)
events | aggregate by kind { n = count() } | sink file("kinds.csv", format = csv)
FLOW
"$flowc" build job.flow -o job
# Checkpoints are written in the background one at a time, so how many a run completes
# depends on how fast the disk syncs against how fast the job reads: when a run completes too
# few, it is tried again over twice as much input.
events=1500000
for attempt in 1 2 3 4 5; do
  write_events "$events"
  events=$(( events * 2 ))
  rm -rf cp
  ./job --state "$state" --checkpoint-dir cp --checkpoint-interval 1ms --checkpoints-retained 100 2> first.txt || { echo "FAIL: the first run failed"; cat first.txt; exit 1; }
  checkpoints=($(ls -d cp/chk-* | sort))
  [ "${#checkpoints[@]}" -ge 3 ] && break
done
for f in views.csv bad.csv kinds.csv; do cp "$f" "first.$f"; done
[ "${#checkpoints[@]}" -ge 3 ] || { echo "FAIL: expected several checkpoints, found ${#checkpoints[@]}"; cat first.txt; exit 1; }
middle=${checkpoints[$(( ${#checkpoints[@]} / 2 ))]}  # taken mid-run
./job --state "$state" --restore "$middle" 2> second.txt || { echo "FAIL: the restored run failed"; cat second.txt; exit 1; }
grep -q "note: restored from checkpoint" second.txt || { echo "FAIL: no restore"; cat second.txt; exit 1; }
for f in views.csv bad.csv kinds.csv; do
  cmp "$f" "first.$f" || { echo "FAIL: $f differs after the restore"; diff "$f" "first.$f" | head; exit 1; }
done
[ "$(tail -1 bad.csv)" = 1 ] || { echo "FAIL: bad rows"; cat bad.csv; exit 1; }
if [ "$state" = heap ]; then
  # Its window and join state is in the heap backend's snapshot chain: a RocksDB job cannot take it.
  if ./job --state rocksdb --restore "$middle" 2> rocks.txt; then echo "FAIL: a RocksDB job restored a heap checkpoint"; exit 1; fi
  grep -q "its window and join state is in heap snapshots: restore it with --state heap" rocks.txt || { echo "FAIL: no message"; cat rocks.txt; exit 1; }
  # Incremental: the chain's full snapshot is shared by later checkpoints, which add deltas.
  grep -qh '^shared state\.[0-9]*\.delta' cp/chk-*/_metadata || { echo "FAIL: no delta of the heap state"; exit 1; }
fi
if [ "$state" = rocksdb ]; then
  # Its window and join state is in RocksDB: a heap job cannot take it.
  if ./job --restore "$middle" 2> heap.txt; then echo "FAIL: a heap job restored a RocksDB checkpoint"; exit 1; fi
  grep -q "its state is in RocksDB: restore it with --state rocksdb" heap.txt || { echo "FAIL: no message"; cat heap.txt; exit 1; }
  # Incremental: later checkpoints name SST files that earlier ones wrote.
  references=$(cat cp/chk-*/_metadata | grep -c '^shared rocksdb\.' || true)
  distinct=$(cat cp/chk-*/_metadata | grep '^shared rocksdb\.' | sort -u | wc -l)
  [ "$references" -gt "$distinct" ] || { echo "FAIL: no SST file is shared ($references references, $distinct files)"; exit 1; }
fi
echo "ok ($state): restored mid-run, identical output"
