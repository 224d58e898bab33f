#!/usr/bin/env bash
# Exactly-once under repeated kills (issue 5, test b): each key's values count up by one in
# the input; a job filtering and mapping them into a file is killed with SIGKILL again and
# again and restored each time. In the final file every key's values must still count up by
# one from 1 to the end: no gap, no duplicate.
#   sequence_test.sh FLOWC [KILLS]
set -euo pipefail
flowc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
kills=${2:-10}
source "$(dirname "$0")/kill_support.sh"
work=$(mktemp -d /tmp/flow-sequence-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
keys=50
per_key=40000
awk -v keys=$keys -v n=$per_key 'BEGIN { print "k,n"; for (i = 0; i < keys * n; i++) printf "%d,%d\n", i % keys, int(i / keys) + 1 }' > seq.csv
cat > job.flow <<'FLOW'
schema S { k: i64, n: i64 }
source s: S = file("seq.csv", format = csv)
s | filter n > 0 | map { k, n, tag = "k" + string(k) } | sink file("out.csv", format = csv)
FLOW
"$flowc" build job.flow -o job
run_ms=$(time_ms ./job)
rm -rf out.csv cp
kill_repeatedly "$kills" "$run_ms" log.txt ./job --checkpoint-dir cp --checkpoint-interval 10ms --restore latest
# Every key: values 1, 2, 3, ... per_key, in order.
awk -F, -v keys=$keys -v n=$per_key 'NR == 1 { next }
  { if ($2 != last[$1] + 1) { printf "key %s: %s after %s\n", $1, $2, last[$1] + 0; bad = 1; exit 1 } last[$1] = $2 }
  END { if (bad) exit 1; for (k = 0; k < keys; k++) if (last[k] != n) { printf "key %d ends at %s\n", k, last[k]; exit 1 } }' out.csv ||
  { echo "FAIL: a gap or a duplicate after $kills kills"; exit 1; }
echo "ok: $kills kills, $(grep -c 'restored from' log.txt || true) restores, $((keys * per_key)) records, no gap, no duplicate"
