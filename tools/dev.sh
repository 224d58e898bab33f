#!/usr/bin/env bash
# The project's one entry point for people and CI (see README.md):
#   tools/dev.sh sample          install dependencies, build, run samples/wordcount.flow
#   tools/dev.sh test            install dependencies, build, run the whole test suite
#   tools/dev.sh test-sanitize   the same in build-asan/ with ASan and UBSan
#   tools/dev.sh build           install dependencies and build only
#   tools/dev.sh fuzz [SECONDS]  libFuzzer on the parser and the input formats (clang 14), 60 s each
set -euo pipefail
cd "$(dirname "$0")/.."

# Debian 12 packages: LLVM 19, Boost (Spirit X3), fmt, doctest, CLI11, simdjson, fast_float,
# xxHash, RocksDB (state backends, later issues) and the build tools. `fuzz` adds clang 14.
PACKAGES=(build-essential cmake ninja-build ccache pkg-config llvm-19-dev libboost-dev libfmt-dev
          doctest-dev libcli11-dev libsimdjson-dev libfast-float-dev libxxhash-dev librocksdb-dev
          zlib1g-dev libzstd-dev libsnappy-dev liblz4-dev libbz2-dev python3)

# The tests also draw the metrics web page in headless Chromium.
TEST_PACKAGES=(chromium)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

install_dependencies() {
  local sudo=$SUDO
  echo "== installing Debian packages"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${PACKAGES[@]}" "$@" >/dev/null
}

configure_and_build() {
  local dir=$1; shift
  echo "== building in $dir"
  cmake -S . -B "$dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
  ninja -C "$dir" -j"$(nproc)"
}

run_tests() {
  local dir=$1
  echo "== running the test suite"
  ctest --test-dir "$dir" --output-on-failure -j"$(nproc)" --timeout 600
}

command=${1:-}
case "$command" in
  sample)
    install_dependencies
    configure_and_build build
    echo "== build/flowc run samples/wordcount.flow"
    build/flowc run samples/wordcount.flow
    ;;
  test)
    install_dependencies "${TEST_PACKAGES[@]}"
    configure_and_build build
    run_tests build
    ;;
  test-sanitize)
    install_dependencies "${TEST_PACKAGES[@]}"
    configure_and_build build-asan -DFLOW_SANITIZE=ON
    ASAN_OPTIONS=detect_leaks=0 run_tests build-asan
    ;;
  fuzz)
    install_dependencies
    ${SUDO:-} apt-get install -y -qq clang-14 libclang-rt-14-dev >/dev/null
    CC=clang-14 CXX=clang++-14 cmake -S . -B build-fuzz -G Ninja -DFLOW_FUZZ=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
    ninja -C build-fuzz parser_fuzz formats_fuzz
    for target in parser:corpus formats:formats_corpus; do
      corpus=$(mktemp -d)
      cp "tests/fuzz/${target#*:}"/* "$corpus/"
      build-fuzz/tests/fuzz/"${target%%:*}"_fuzz -max_total_time="${2:-60}" -max_len=4096 "$corpus"
    done
    ;;
  build)
    install_dependencies
    configure_and_build build
    ;;
  *)
    echo "usage: tools/dev.sh sample|test|test-sanitize|build|fuzz [SECONDS]" >&2
    exit 2
    ;;
esac
