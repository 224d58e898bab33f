// Bad fields and records: building the message and applying the source's policy.
#include "exec/bad_records.h"

#include "core/type_names.h"

namespace flow {

// How a cell that failed to convert is shown in a message (long texts shortened).
std::string describe_cell(const flow_cell& cell) {
  if (cell.flags & FLOW_CELL_NULL) return "null";
  if (cell.len == 0) return (cell.flags & FLOW_CELL_QUOTED) ? "an empty string" : "an empty field";
  constexpr int32_t kShown = 60;
  std::string text(cell.ptr, static_cast<std::size_t>(cell.len < kShown ? cell.len : kShown));
  if (cell.len > kShown) text += "...";
  return "`" + text + "`";
}

int32_t handle_bad_record(flow_ctx* ctx, ActiveSource& source, int64_t line, int64_t column,
                          std::string_view raw, const std::string& message) {
  std::string position = source.path + ":" + std::to_string(line) + ":" + std::to_string(column);
  switch (source.spec->on_error) {
    case FLOW_ON_ERROR_SKIP:
      ++source.skipped;
      return 0;
    case FLOW_ON_ERROR_DEAD_LETTER: {
      if (source.replaying) return 0;
      if (!source.spec->dead_letter) {
        ++source.skipped;
        return 0;
      }
      ++source.dead_lettered;
      const std::string& name = source.spec->name;
      flow_str row[4] = {
          {name.data(), static_cast<int64_t>(name.size())},
          {position.data(), static_cast<int64_t>(position.size())},
          {raw.data(), static_cast<int64_t>(raw.size())},
          {message.data(), static_cast<int64_t>(message.size())},
      };
      int32_t status = source.spec->dead_letter(ctx, row);
      if (status != 0 && !ctx->failure.failed)
        ctx->failure.record("the dead-letter stream of source `" + name + "` failed");
      return status;
    }
    default:
      ctx->failure.record(position + ": " + message);
      return 1;
  }
}

}  // namespace flow

extern "C" int32_t flow_bad_field(flow_ctx* ctx, const flow_batch* batch, int64_t row, int32_t field,
                                  int32_t expected) {
  flow::ActiveSource* source = ctx->source;
  if (!source || !source->decoder || row < 0 || row >= batch->num_rows || field < 0 ||
      field >= batch->num_fields) {
    ctx->failure.record("flow_bad_field called outside of a source batch (row " + std::to_string(row) +
                        ", field " + std::to_string(field) + ")");
    return 1;
  }
  flow::RecordDecoder& decoder = *source->decoder;
  const flow_cell& cell = batch->cells[row * batch->num_fields + field];
  std::string message = "field `" + source->spec->fields[static_cast<std::size_t>(field)].name +
                        "`: expected " + flow::type_name(expected) + ", found " + flow::describe_cell(cell);
  flow::FieldPosition where = decoder.field_position(row, field);
  const flow::RowOrigin& origin = decoder.origin(row);
  return flow::handle_bad_record(ctx, *source, decoder.file_line(where.line), where.column,
                                 std::string_view(origin.raw, static_cast<std::size_t>(origin.raw_len)),
                                 message);
}
