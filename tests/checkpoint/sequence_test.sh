#!/usr/bin/env bash
# Exactly-once under repeated kills (issue 5, test b): each key's values count up by one in
# the input; a job filtering and mapping them into a file is killed with SIGKILL again and
# again and restored each time. After every kill the file must hold only committed output:
# whole lines, each key counting up by one from 1 with no gap and no duplicate; in the final
# file every key reaches its last value. With --at-least-once the final file may repeat
# values but must have no gap.
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

# check_sequences WHAT DUPLICATES_ALLOWED COMPLETE: out.csv has whole lines, each key's values
# go up by one from 1 (or repeat an earlier value, when duplicates are allowed), and with
# COMPLETE=1 every key reaches per_key.
check_sequences() {
  local what=$1 duplicates=$2 complete=$3
  [ -e out.csv ] || return 0
  if [ -s out.csv ] && [ "$(tail -c 1 out.csv | od -An -c | tr -d ' ')" != '\n' ]; then
    echo "FAIL: $what: out.csv ends inside a line"; exit 1
  fi
  awk -F, -v keys=$keys -v n=$per_key -v dup="$duplicates" -v complete="$complete" 'NR == 1 { next }
    { if ($2 == last[$1] + 1) { last[$1] = $2; next }
      if (dup && $2 <= last[$1] && $2 >= 1) next
      printf "key %s: %s after %s\n", $1, $2, last[$1] + 0; bad = 1; exit 1 }
    END { if (bad) exit 1; if (!complete) exit 0
          for (k = 0; k < keys; k++) if (last[k] != n) { printf "key %d ends at %s\n", k, last[k]; exit 1 } }' out.csv ||
    { echo "FAIL: $what"; exit 1; }
}

rm -rf out.csv cp
after_each_kill() { check_sequences "exactly-once, after a kill: a gap, a duplicate or uncommitted output" 0 0; }
kill_repeatedly "$kills" "$run_ms" log.txt ./job --checkpoint-dir cp --checkpoint-interval 10ms --restore latest
check_sequences "exactly-once, after $kills kills: a gap or a duplicate" 0 1
exactly_once_restores=$(grep -c 'restored from' log.txt || true)
# A job that ended well leaves nothing staged beside its file.
nothing_staged() {
  if ls -A | grep -q '^\.out\.csv\.flowc-'; then echo "FAIL: $1 left staged files: $(ls -A | grep flowc-)"; exit 1; fi
}
nothing_staged "exactly-once"

rm -rf out.csv cp log.txt
unset -f after_each_kill
kill_repeatedly "$kills" "$run_ms" log.txt ./job --checkpoint-dir cp --checkpoint-interval 10ms --restore latest --at-least-once
check_sequences "at-least-once, after $kills kills: a gap" 1 1
nothing_staged "at-least-once after restores"
echo "ok: $kills kills, $exactly_once_restores restores, $((keys * per_key)) records, no gap, no duplicate, only committed output after each kill; at-least-once: $(grep -c 'restored from' log.txt || true) restores, no gap"
