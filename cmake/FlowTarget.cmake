# Per-target settings shared by our own targets: warnings and, with FLOW_SANITIZE, sanitizers.
set(FLOW_SANITIZER_FLAGS -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined)

function(flow_target_options target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
  target_include_directories(${target} PUBLIC ${PROJECT_SOURCE_DIR})
  if(FLOW_SANITIZE)
    target_compile_options(${target} PRIVATE ${FLOW_SANITIZER_FLAGS})
    target_link_options(${target} PUBLIC -fsanitize=address,undefined)
  endif()
endfunction()
