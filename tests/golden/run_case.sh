#!/usr/bin/env bash
# Runs one golden or error case (see tests/golden/README.md) in a fresh temporary directory.
#   run_case.sh FLOWC jit|aot|rocksdb|parallel2|parallel4|check CASE.flow
# rocksdb: through the JIT with --state rocksdb, checkpointing every millisecond (the output
# must be the same; the checkpoint summary on stderr is left out of the comparison).
# parallelN: through the JIT with --parallelism N, inputs cut into parts of 64 bytes so that
# every instance reads some; records of different keys may come out in another order, so the
# lines of stdout and of written files are compared sorted.
set -uo pipefail
flowc=$(cd "$(dirname "$1")" && pwd)/$(basename "$1") mode=$2 case_file=$3
case_dir=$(cd "$(dirname "$case_file")" && pwd)
name=$(basename "$case_file" .flow)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# The case's own files (NAME.*) are copied, and the contents of a folder NAME.data (inputs
# whose names a verbatim program fixes); NAME.expected* stay behind.
for f in "$case_dir/$name".*; do
  case "$f" in
    *.expected*) ;;
    *.data) cp -rL "$f/." "$work/" ;;
    *) cp "$f" "$work/" ;;
  esac
done
cd "$work"
args=()
if [ -f "$case_dir/$name.args" ]; then read -r -a args < "$case_dir/$name.args"; fi

status=0
case "$mode" in
  jit) "$flowc" run "$name.flow" "${args[@]}" > stdout.txt 2> stderr.txt; status=$? ;;
  rocksdb)
    "$flowc" run "$name.flow" "${args[@]}" --state rocksdb --checkpoint-dir checkpoints --checkpoint-interval 1ms \
      > stdout.txt 2> all-stderr.txt
    status=$?
    grep -v "^note: [0-9]* checkpoints\? taken" all-stderr.txt > stderr.txt ;;
  parallel*)
    "$flowc" run "$name.flow" "${args[@]}" --parallelism "${mode#parallel}" --test-part-bytes 64 > stdout.txt 2> stderr.txt
    status=$? ;;
  aot)
    if ! "$flowc" build "$name.flow" -o ./job 2> build-stderr.txt; then
      echo "FAIL: flowc build failed:"; cat build-stderr.txt; exit 1
    fi
    ./job "${args[@]}" > stdout.txt 2> stderr.txt; status=$? ;;
  check) "$flowc" check "$name.flow" > stdout.txt 2> stderr.txt; status=$? ;;
  *) echo "unknown mode $mode"; exit 2 ;;
esac

failed=0
expect_exit=0
if [ "$mode" = check ]; then expect_exit=1; fi
if [ -f "$case_dir/$name.exit" ]; then expect_exit=$(cat "$case_dir/$name.exit"); fi
if [ "$status" != "$expect_exit" ]; then
  echo "FAIL: exit code $status, expected $expect_exit"; echo "--- stderr:"; cat stderr.txt; failed=1
fi
compare() {  # expected actual what
  local expected=$1 actual=$2
  case "$mode" in
    parallel*) sort "$1" > sorted-expected.txt; sort "$2" > sorted-actual.txt
               expected=sorted-expected.txt actual=sorted-actual.txt ;;
  esac
  if ! diff -u "$expected" "$actual" > diff.txt; then echo "FAIL: $3 differs:"; cat diff.txt; failed=1; fi
}
if [ "$mode" = check ]; then
  compare "$case_dir/$name.expected" stderr.txt "the diagnostics (stderr)"
else
  compare "$case_dir/$name.expected" stdout.txt "stdout"
  if [ -f "$case_dir/$name.stderr" ]; then compare "$case_dir/$name.stderr" stderr.txt "stderr"; fi
  # Files written by the job: NAME.expected.FILE is what FILE must hold.
  for expected in "$case_dir/$name".expected.*; do
    [ -e "$expected" ] || continue
    file=${expected#"$case_dir/$name.expected."}
    if [ ! -f "$file" ]; then echo "FAIL: the job did not write $file"; failed=1; continue; fi
    compare "$expected" "$file" "$file"
  done
fi
if [ "$failed" = 0 ]; then echo "ok: $name ($mode)"; fi
exit $failed
