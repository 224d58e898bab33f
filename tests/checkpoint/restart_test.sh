#!/usr/bin/env bash
# In-process restarts (--restart): a failure that goes away (the sink's directory appears
# during the delay) is survived; one that does not (an i64 division by zero) is retried as
# often as the strategy allows, then the job exits 3; a bad strategy is a bad command line.
#   restart_test.sh FLOWC
set -euo pipefail
flowc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(mktemp -d /tmp/flow-restart-XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"
printf 'n\n1\n2\n0\n4\n' > in.csv
cat > job.flow <<'FLOW'
schema R { n: i64 }
param divisor_floor: i64 = 1
source rows: R = file("in.csv", format = csv)
rows | map { n, q = 12 / (n + divisor_floor) } | sink file("out/result.csv", format = csv)
FLOW
"$flowc" build job.flow -o job

./job --restart fixed-delay:3:400ms 2> transient.txt &
pid=$!
sleep 0.1
mkdir out
wait "$pid" || { echo "FAIL: the job did not survive a transient failure"; cat transient.txt; exit 1; }
grep -q "note: restarting the job in 400 ms (restart 1, from the beginning)" transient.txt || { echo "FAIL: no restart note"; cat transient.txt; exit 1; }
[ "$(cat out/result.csv)" = "$(printf 'n,q\n1,6\n2,4\n0,12\n4,2')" ] || { echo "FAIL: output"; cat out/result.csv; exit 1; }

status=0
./job --param divisor_floor=0 --restart fixed-delay:2:10ms 2> lasting.txt || status=$?
[ "$status" = 3 ] || { echo "FAIL: exit $status for a lasting failure"; exit 1; }
[ "$(grep -c "note: restarting the job" lasting.txt)" = 2 ] || { echo "FAIL: expected two restarts"; cat lasting.txt; exit 1; }
grep -q "note: not restarting again (--restart fixed-delay:2:10ms, 2 restarts so far)" lasting.txt || { echo "FAIL: no final note"; cat lasting.txt; exit 1; }
[ "$(grep -c "division by zero" lasting.txt)" = 3 ] || { echo "FAIL: expected three failures"; cat lasting.txt; exit 1; }

status=0
./job --restart sometimes 2> bad.txt || status=$?
[ "$status" = 2 ] || { echo "FAIL: exit $status for a bad --restart"; exit 1; }
grep -q "error: --restart: expected none, fixed-delay:ATTEMPTS:DELAY" bad.txt || { echo "FAIL: message"; cat bad.txt; exit 1; }
echo "ok: a transient failure survived, a lasting one retried twice then exit 3, a bad strategy exit 2"
