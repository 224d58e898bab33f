// The `on error` policies of a source: fail with PATH:LINE:COL, skip and count, or hand the
// record to the dead-letter stream as {source, position, raw, error}.
#pragma once

#include <string>
#include <string_view>

#include "exec/job_context.h"

namespace flow {

// Applies the source's policy to one bad record; returns the status for the caller to return
// (non-zero when the job fails).
int32_t handle_bad_record(flow_ctx* ctx, ActiveSource& source, int64_t line, int64_t column,
                          std::string_view raw, const std::string& message);

// How a cell that failed to convert is shown in a message: `abc`, null, an empty field.
std::string describe_cell(const flow_cell& cell);

}  // namespace flow
