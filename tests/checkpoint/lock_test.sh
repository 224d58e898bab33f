#!/usr/bin/env bash
# One job per checkpoint directory: while a job runs with --checkpoint-dir DIR (here waiting
# for its input on a named pipe), a second job on DIR is refused with a message and exit code 3
# and touches nothing; the first then completes, and a job started after it may use DIR.
# Usage: lock_test.sh FLOWC
set -euo pipefail
flowc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cat > job.flow <<'FLOW'
schema E { k: i64 }
param input: string = "in.csv"
source events: E = file(input, format = csv)
events | aggregate by k { n = count() } | sink file("out.csv", format = csv)
FLOW
printf 'k\n1\n2\n1\n' > in.csv
mkfifo pipe
"$flowc" run job.flow --param input=pipe --checkpoint-dir cp --checkpoint-interval 10ms 2> first.err &
first=$!
for _ in $(seq 1 100); do [ -e cp/.flowc-lock ] && break; sleep 0.05; done
sleep 0.2
status=0
"$flowc" run job.flow --checkpoint-dir cp --checkpoint-interval 10ms > second.out 2> second.err || status=$?
if [ "$status" != 3 ] || ! grep -q "error: checkpoint directory \`cp\` is in use by another running job; give each job its own --checkpoint-dir" second.err; then
  echo "FAIL: a second job on the directory gave exit $status: $(cat second.err)" >&2
  exit 1
fi
cat in.csv > pipe
wait "$first" || { echo "FAIL: the first job failed: $(cat first.err)" >&2; exit 1; }
printf 'k,n\n1,2\n2,1\n' | cmp - out.csv || { echo "FAIL: the first job's output changed" >&2; exit 1; }
"$flowc" run job.flow --checkpoint-dir cp --checkpoint-interval 10ms 2> third.err || { echo "FAIL: the directory stayed locked: $(cat third.err)" >&2; exit 1; }
echo "ok: a second job on a checkpoint directory in use is refused"
