// The entry point of an executable written by `flowc build`: the linked object file defines
// flow_job_setup, and the runtime does the rest, so a built job takes exactly the flags that
// `flowc run` forwards to the runtime.
#include "flow/abi.h"

extern "C" void flow_job_setup(flow_job_builder* builder);

int main(int argc, char** argv) { return flow_runtime_main(argc, argv, &flow_job_setup); }
