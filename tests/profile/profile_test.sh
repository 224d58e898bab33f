#!/usr/bin/env bash
# `flowc run --profile` describes the generated code to perf: a jitdump file under JITDUMPDIR
# names the pipelines, and the job's output is unchanged. Without --profile no file is written.
# Usage: profile_test.sh FLOWC
set -euo pipefail
flowc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
cat > job.flow <<'FLOW'
import std.nexmark
source bid: Bid = nexmark(events = 5000) time dateTime watermark lag 4s
bid | aggregate by auction over tumbling(1s) late 0s drop { n = count() } | sink stdout()
FLOW
mkdir plain profiled
JITDUMPDIR="$work/plain" "$flowc" run job.flow > plain.txt
JITDUMPDIR="$work/profiled" "$flowc" run --profile job.flow > profiled.txt 2> profiled.err
cmp plain.txt profiled.txt || { echo "FAIL: --profile changed the output" >&2; exit 1; }
if grep -q "this LLVM cannot describe code to perf" profiled.err; then
  echo "skipped: this LLVM was built without perf support"
  exit 0
fi
if [ -n "$(find plain -type f)" ]; then echo "FAIL: a run without --profile wrote a jitdump" >&2; exit 1; fi
dump=$(find profiled -name 'jit-*.dump' | head -1)
[ -n "$dump" ] || { echo "FAIL: no jitdump file under JITDUMPDIR" >&2; exit 1; }
for name in pipeline_0 pipeline_1 flow_job_setup; do
  grep -q -a "$name" "$dump" || { echo "FAIL: the jitdump does not name $name" >&2; exit 1; }
done
echo "ok: $(basename "$dump") names the pipelines"
