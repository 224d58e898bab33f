# Third-party packages, all from Debian 12 (see README.md for the apt-get line).
find_package(LLVM 19.1 REQUIRED CONFIG HINTS /usr/lib/llvm-19/lib/cmake/llvm)  # "19" alone is rejected
find_package(Boost 1.74 REQUIRED)
find_package(fmt REQUIRED CONFIG)
find_package(CLI11 REQUIRED CONFIG)
find_package(simdjson REQUIRED CONFIG)
find_package(doctest REQUIRED CONFIG)
include(doctest)
# RocksDB's CMake config asks for zstd::zstd, which LLVM's Findzstd (earlier on the module
# path) names zstd::libzstd_shared: a shim target (toolchain.md, pitfall 2).
if(NOT TARGET zstd::zstd)
  find_package(zstd QUIET)
  add_library(zstd::zstd INTERFACE IMPORTED)
  if(TARGET zstd::libzstd_shared)
    target_link_libraries(zstd::zstd INTERFACE zstd::libzstd_shared)
  else()
    target_link_libraries(zstd::zstd INTERFACE zstd)
  endif()
endif()
find_package(RocksDB REQUIRED CONFIG)  # RocksDB::rocksdb: librocksdb.a with snappy, z, bz2, lz4, zstd

find_library(XXHASH_LIBRARY NAMES libxxhash.a xxhash REQUIRED)
find_path(XXHASH_INCLUDE_DIR xxhash.h REQUIRED)
add_library(flow_xxhash INTERFACE)
target_include_directories(flow_xxhash SYSTEM INTERFACE ${XXHASH_INCLUDE_DIR})
target_link_libraries(flow_xxhash INTERFACE ${XXHASH_LIBRARY})

# LLVM: only its include dirs and definitions (llvm-config --cxxflags would force C++17 and
# -fno-exceptions), as SYSTEM includes so its headers do not drown our warnings.
add_library(flow_llvm INTERFACE)
separate_arguments(FLOW_LLVM_DEFINITIONS NATIVE_COMMAND ${LLVM_DEFINITIONS})
target_include_directories(flow_llvm SYSTEM INTERFACE ${LLVM_INCLUDE_DIRS})
target_compile_definitions(flow_llvm INTERFACE ${FLOW_LLVM_DEFINITIONS})
if(FLOW_LLVM_SHARED)
  target_link_libraries(flow_llvm INTERFACE LLVM)
else()
  # (perfjitevents: `flowc run --profile`, on an LLVM built with perf support)
  set(FLOW_LLVM_COMPONENTS orcjit native passes)
  if(LLVM_USE_PERF)
    list(APPEND FLOW_LLVM_COMPONENTS perfjitevents)
  endif()
  llvm_map_components_to_libnames(FLOW_LLVM_LIBS ${FLOW_LLVM_COMPONENTS})
  target_link_libraries(flow_llvm INTERFACE ${FLOW_LLVM_LIBS})
endif()
