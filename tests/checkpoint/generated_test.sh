#!/usr/bin/env bash
# Generated sources (std.nexmark) under checkpoints: a built job joining and windowing three
# generated streams is killed KILLS times at random instants, each restart at another
# parallelism (1, 2, 3 in turn, so restores rescale), and must end with the output of an
# uninterrupted run. A generator's position is an event number, so this checks that parts of
# numbers are resumed and re-split like byte ranges of a file.
# Usage: generated_test.sh FLOWC KILLS
set -euo pipefail
flowc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
kills=${2:-6}
source "$(dirname "$0")/kill_support.sh"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"

cat > job.flow <<'FLOW'
import std.nexmark
param events: i64 = 2000000
source bid: Bid = nexmark(events = events, seed = 3) time dateTime watermark lag 4s
source auction: Auction = nexmark(events = events, seed = 3) time dateTime watermark lag 4s
source person: Person = nexmark(events = events, seed = 3) time dateTime watermark lag 4s

bid
| aggregate by bidder over session(gap = 10s) late 0s drop { n = count(), top = max(price) }
| sink file("sessions.csv", format = csv)

person
| join auction as a on id == a.seller over tumbling(10s)
| aggregate by id over tumbling(10s) late 0s drop { name = first(name), auctions = count() }
| sink file("sellers.csv", format = csv)
FLOW
"$flowc" build job.flow -o job
./job > /dev/null
sort sessions.csv > expected_sessions.txt
sort sellers.csv > expected_sellers.txt
rm -f sessions.csv sellers.csv

run_ms=$(time_ms ./job)
rm -f sessions.csv sellers.csv
# (a script that execs the job, so that the kill reaches the job itself)
echo 1 > parallelism
printf '%s\n' 'exec ./job --checkpoint-dir cp --checkpoint-interval 30ms --restore latest --parallelism "$(cat parallelism)"' > run.sh
after_each_kill() { echo $(( $(cat parallelism) % 3 + 1 )) > parallelism; }
kill_repeatedly "$kills" "$run_ms" log.txt bash run.sh

if ! cmp -s <(sort sessions.csv) expected_sessions.txt || ! cmp -s <(sort sellers.csv) expected_sellers.txt; then
  echo "FAIL: output after $kills kills differs from an uninterrupted run's" >&2
  diff <(sort sessions.csv) expected_sessions.txt | head -5 >&2
  diff <(sort sellers.csv) expected_sellers.txt | head -5 >&2
  exit 1
fi
restored=$(grep -c "^note: restored from checkpoint" log.txt || true)
if [ "$restored" -lt 1 ]; then
  echo "FAIL: no run restored from a checkpoint (log: $(head -3 log.txt))" >&2
  exit 1
fi
echo "ok: $kills kills, $restored restores at changing parallelism, same output ($(wc -l < expected_sessions.txt) sessions)"
