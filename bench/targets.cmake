# Benchmark helpers, built with -O2 into ${PROJECT_BINARY_DIR}/bench.
foreach(target bench_gen_bids bench_gen_events bench_gen_ysb bench_gen_join bench_baseline_filter_map_count
               bench_baseline_tumbling_count bench_cputime)
  string(REPLACE "bench_" "" source ${target})
  add_executable(${target} ${CMAKE_CURRENT_SOURCE_DIR}/${source}.cpp)
  target_compile_options(${target} PRIVATE -O2)
  set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bench)
endforeach()

# Baselines that draw their input from the runtime's generators (the same input as flowc's).
foreach(target bench_baseline_nexmark_q5 bench_baseline_ysb)
  string(REPLACE "bench_" "" source ${target})
  add_executable(${target} ${CMAKE_CURRENT_SOURCE_DIR}/${source}.cpp)
  target_compile_options(${target} PRIVATE -O2)
  target_link_libraries(${target} PRIVATE flowrt)
  target_include_directories(${target} PRIVATE ${PROJECT_SOURCE_DIR}/runtime)
  set_target_properties(${target} PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bench)
endforeach()

# Needs the runtime's state code: full against incremental checkpoint snapshots.
add_executable(bench_incremental_checkpoint ${CMAKE_CURRENT_SOURCE_DIR}/incremental_checkpoint.cpp)
target_link_libraries(bench_incremental_checkpoint PRIVATE flowrt)
target_include_directories(bench_incremental_checkpoint PRIVATE ${PROJECT_SOURCE_DIR}/runtime)
set_target_properties(bench_incremental_checkpoint PROPERTIES RUNTIME_OUTPUT_DIRECTORY ${PROJECT_BINARY_DIR}/bench)
