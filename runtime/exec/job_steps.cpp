// The steps of running a job, shared by one instance (job_runner.cpp) and parallel instances
// (parallel_runner.cpp): checking inputs, opening sinks and sources, reading a batch, emitting
// aggregates, and the closing reports.
#include "exec/job_steps.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <sys/stat.h>
#include <unistd.h>

#include "exec/bad_records.h"
#include "io/generated_source.h"

namespace flow {

// Evaluates a path expression; false (with the failure recorded) if generated code failed.
bool evaluate_path(flow_ctx& ctx, flow_string_fn fn, const std::string& what, std::string& path) {
  flow_str out{"", 0};
  int32_t status = fn(&ctx, &out);
  if (status == 0) path.assign(out.ptr, static_cast<std::size_t>(out.len));
  ctx.call_arena.reset();
  if (status != 0) ctx.failure.record("cannot evaluate the path of " + what);
  return status == 0;
}

void record_failed(flow_ctx& ctx, const std::string& what) { ctx.failure.record(what + " failed"); }

// Every input must be readable before any output is opened: a typo in an input path must not
// truncate the output file of the previous run.
bool inputs_are_readable(flow_ctx& ctx) {
  for (const SourceSpec& spec : ctx.spec->sources) {
    std::string path;
    std::string what = "source `" + spec.name + "`";
    if (!evaluate_path(ctx, spec.path, what, path)) return false;
    if (spec.format == FLOW_FORMAT_GENERATED) {
      std::string error;
      if (generated_event_count(path, error)) continue;
      ctx.failure.record(what + ": " + error);
      return false;
    }
    // A named pipe is only checked, not opened: opening and closing it would let a writer that
    // was waiting for the job write into a pipe nobody reads.
    struct stat input;
    if (::stat(path.c_str(), &input) == 0 && S_ISFIFO(input.st_mode)) {
      if (::access(path.c_str(), R_OK) == 0) continue;
      ctx.failure.record("cannot open `" + path + "` (" + what + "): " + std::strerror(errno));
      return false;
    }
    std::FILE* file = std::fopen(path.c_str(), "rb");
    if (!file) {
      ctx.failure.record("cannot open `" + path + "` (" + what + "): " + std::strerror(errno));
      return false;
    }
    std::fclose(file);
  }
  return true;
}

bool open_sinks(flow_ctx& ctx, const RestoredJob& restored) {
  ctx.stdout_buffer = std::make_unique<OutputBuffer>(ctx.options.output_buffer);
  ctx.stdout_buffer->use_fd(STDOUT_FILENO);
  for (std::size_t i = 0; i < ctx.spec->sinks.size(); ++i) {
    const SinkSpec& spec = ctx.spec->sinks[i];
    SinkTarget target{spec.kind, spec.format, "", spec.fields};
    if (spec.kind == FLOW_SINK_FILE &&
        !evaluate_path(ctx, spec.path, "sink " + std::to_string(i), target.path))
      return false;
    std::string error;
    std::unique_ptr<FileTransaction> transaction;
    if (spec.kind == FLOW_SINK_FILE && (restored.restored || ctx.options.checkpoint.exactly_once_sinks()))
      transaction = std::make_unique<FileTransaction>(target.path);
    int64_t resume_at = -1;
    if (restored.restored) {
      // The checkpoint's pre-commit is committed again, whichever way the sink writes now.
      if (transaction && !transaction->recover(restored.sinks[i], error)) {
        ctx.failure.record("cannot write `" + target.path + "`: " + error);
        return false;
      }
      resume_at = transaction ? static_cast<int64_t>(transaction->committed()) : static_cast<int64_t>(restored.sinks[i].committed);
      if (!ctx.options.checkpoint.exactly_once_sinks()) {
        if (transaction && !transaction->stop_staging(error)) {
          ctx.failure.record("cannot write `" + target.path + "`: " + error);
          return false;
        }
        transaction.reset();
      }
    }
    auto sink = open_sink(target, ctx.failure, error, ctx.options.output_buffer, resume_at, transaction.get(), ctx.stdout_buffer.get());
    if (!sink) {
      ctx.failure.record(error);
      return false;
    }
    ctx.sinks.push_back(std::move(sink));
    ctx.sink_paths.push_back(target.path);
    ctx.sink_transactions.push_back(std::move(transaction));
  }
  return true;
}

namespace {

std::string decoder_failure(const ActiveSource& source, const DecoderError& error) {
  std::string where = " (source `" + source.spec->name + "`)";
  if (error.read_failed) return "cannot read `" + source.path + "`" + where + ": " + error.message;
  int64_t line = source.decoder ? source.decoder->file_line(error.line) : error.line;
  std::string position = source.path + (line > 0 ? ":" + std::to_string(line) : "");
  return position + ": " + error.message + where;
}

}  // namespace

bool build_operators(flow_ctx& ctx, const std::string& state_dir) {
  const JobSpec& spec = *ctx.spec;
  for (const AggregateSpec& a : spec.aggregates) {
    if (a.source_index < -1 || a.source_index >= static_cast<int32_t>(spec.sources.size())) {
      std::fprintf(stderr, "error: invalid job description: aggregate of source %d, which does not exist\n",
                   a.source_index);
      return false;
    }
    ctx.aggregates.push_back(std::make_unique<flow_agg_table>(a.row_size));
  }
  if (!time_inputs_exist(spec)) return false;
  if (ctx.options.rocksdb_state) {
    std::string error;
    ctx.state = make_rocksdb_state_backend(state_dir, error);
    if (!ctx.state) {
      std::fprintf(stderr, "error: %s\n", error.c_str());
      return false;
    }
  } else {
    // Change tracking costs a little on every access: only a job that checkpoints pays it.
    ctx.state = ctx.options.checkpoint.in_play() ? make_checkpointed_heap_backend() : make_heap_state_backend();
  }
  ctx.time.build(spec, ctx, *ctx.state);
  for (std::size_t i = 0; i < spec.lookups.size(); ++i)
    ctx.lookups.push_back(
        std::make_unique<flow_lookup>(ctx.state->list_table("lookup-" + std::to_string(i), spec.lookups[i].record_size),
                                      ctx.state->persistent() == nullptr));
  return true;
}

bool open_source(flow_ctx& ctx, ActiveSource& source) {
  const SourceSpec& spec = *source.spec;
  std::string what = "source `" + spec.name + "`";
  if (!evaluate_path(ctx, spec.path, what, source.path)) return false;

  std::vector<SourceField> fields;
  for (const FieldSpec& f : spec.fields) fields.push_back(SourceField{f.name, f.used});
  source.decoder = make_decoder(spec.format, std::move(fields), ctx.call_arena, ctx.options.decoder);
  RecordDecoder* decoder = source.decoder.get();
  if (!decoder) {
    ctx.failure.record(what + " has unknown format code " + std::to_string(spec.format));
    return false;
  }
  std::string reason;
  if (!decoder->open(source.path, reason)) {
    ctx.failure.record(spec.format == FLOW_FORMAT_GENERATED ? what + ": " + reason
                                                            : "cannot open `" + source.path + "` (" + what + "): " + reason);
    return false;
  }
  struct stat input;
  if (auto size = decoder->size()) source.bytes_total = static_cast<int64_t>(*size);
  else if (::stat(source.path.c_str(), &input) == 0 && S_ISREG(input.st_mode)) source.bytes_total = input.st_size;
  ctx.source = &source;
  if (!decoder->start()) {
    ctx.failure.record(decoder_failure(source, decoder->error()));
    return false;
  }
  ctx.source = nullptr;
  return true;
}

bool step_source(flow_ctx& ctx, ActiveSource& source) {
  const SourceSpec& spec = *source.spec;
  RecordDecoder* decoder = source.decoder.get();
  ctx.source = &source;
  auto describe = [&] { return "source `" + spec.name + "`"; };
  switch (decoder->next()) {
    case DecodeStep::batch: {
      flow_batch batch = decoder->batch();
      batch.source_index = source.index;
      source.records += batch.num_rows;
      int32_t status = spec.consume(&ctx, &batch);
      if (status == 0) status = ctx.time.tick();
      ctx.call_arena.reset();
      return check_status(ctx, status, [&] { return "the pipeline of " + describe(); });
    }
    case DecodeStep::bad_record: {
      const BadRecord& bad = decoder->bad_record();
      int32_t status = handle_bad_record(&ctx, source, decoder->file_line(bad.line), bad.column, bad.raw, bad.message);
      ctx.call_arena.reset();
      return check_status(ctx, status, [&] { return "the bad-record handling of " + describe(); });
    }
    case DecodeStep::failed:
      ctx.failure.record(decoder_failure(source, decoder->error()));
      return false;
    case DecodeStep::end: {
      ctx.source = nullptr;
      if (source.next_part < source.parts.size()) {
        source.between_parts = true;  // the caller starts the next part (start_next_part)
        return true;
      }
      source.ended = true;
      source.decoder.reset();  // its buffer is not needed any more
      // End of a bounded input: the final watermark fires every open window.
      int32_t status = ctx.time.end_of_source(source.index);
      ctx.call_arena.reset();
      return check_status(ctx, status, [&] { return "the windows fed by " + describe(); });
    }
  }
  return true;
}

bool start_next_part(flow_ctx& ctx, ActiveSource& source) {
  const ByteRange& part = source.parts[source.next_part++];
  source.between_parts = false;
  if (source.decoder->read_range(part.begin, part.end)) return true;
  ctx.failure.record(decoder_failure(source, source.decoder->error()));
  return false;
}

bool finish_sinks(flow_ctx& ctx, bool ok) {
  // A job that succeeded commits what its exactly-once sinks staged since the last checkpoint;
  // after a failure that stays uncommitted (a restore discards it). Direct output is flushed
  // even after a failure, so it shows how far the job got.
  for (std::size_t i = 0; i < ctx.sink_transactions.size(); ++i) {
    FileTransaction* transaction = ctx.sink_transactions[i].get();
    std::string error;
    if (transaction && ok && !ctx.failure.failed && !transaction->finish(*ctx.sinks[i]->buffer(), error)) {
      ctx.failure.record("cannot commit the output to `" + transaction->path() + "`: " + error);
      ok = false;
    }
  }
  for (auto& sink : ctx.sinks) ok = sink->finish() && ok;
  return ok;
}

bool emit_aggregate(flow_ctx& ctx, std::size_t index) {
  const AggregateSpec& spec = ctx.spec->aggregates[index];
  for (uint8_t* row : ctx.aggregates[index]->rows_in_key_order()) {
    ++ctx.aggregates[index]->records_out;
    int32_t status = spec.emit(&ctx, row);
    ctx.call_arena.reset();
    if (!check_status(ctx, status, [&] { return "aggregate " + std::to_string(index); })) return false;
  }
  return true;
}

bool emit_aggregates(flow_ctx& ctx, int32_t source_index) {
  // In registration order: an aggregate fed by another one's emission is registered after it.
  for (std::size_t i = 0; i < ctx.spec->aggregates.size(); ++i)
    if (ctx.spec->aggregates[i].source_index == source_index && !emit_aggregate(ctx, i)) return false;
  return true;
}

bool is_table(const flow_ctx& ctx, int32_t source) {
  for (const LookupSpec& l : ctx.spec->lookups)
    if (l.source == source) return true;
  return false;
}

// Tables first, each to its end; then the streams, a batch at a time from the one whose
// watermark is furthest behind.
// A restored stream source continues where the checkpoint left it (tables are read again).
bool resume_source(flow_ctx& ctx, ActiveSource& source, const RestoredJob::Source& at) {
  source.skipped = at.skipped;
  source.dead_lettered = at.dead_lettered;
  if (at.ended) {
    source.ended = true;
    source.decoder.reset();
    return true;
  }
  if (at.in_ranges) {  // what parallel instances had left to read
    source.parts = at.ranges;
    if (source.parts.empty()) source.parts.push_back(ByteRange{0, 0});  // nothing: the part's end ends the source
    source.next_part = 0;
    return start_next_part(ctx, source);
  }
  if (source.decoder->resume(at.position)) return true;
  ctx.failure.record(decoder_failure(source, source.decoder->error()));
  return false;
}

void print_late_record_counts(const std::vector<flow_ctx*>& instances) {
  const flow_ctx& first = *instances.front();
  auto print = [&](const char* what, const std::string& where, int64_t dropped) {
    if (dropped == 0) return;
    std::fprintf(stderr, "warning: %s at %s:%s: %lld late record%s dropped\n", what, first.spec->program.c_str(), where.c_str(),
                 static_cast<long long>(dropped), dropped == 1 ? "" : "s");
  };
  for (std::size_t j = 0; j < first.time.window_count(); ++j) {
    int64_t dropped = 0;
    for (flow_ctx* ctx : instances) dropped += ctx->time.window(static_cast<int32_t>(j))->dropped();
    print("window", instances.front()->time.window(static_cast<int32_t>(j))->spec().where, dropped);
  }
  for (std::size_t j = 0; j < first.time.join_count(); ++j) {
    int64_t dropped = 0;
    for (flow_ctx* ctx : instances) dropped += ctx->time.join(static_cast<int32_t>(j))->dropped();
    print("join", instances.front()->time.join(static_cast<int32_t>(j))->spec().where, dropped);
  }
}

// Inputs of windows and joins that name no operator: a code generator bug.
bool time_inputs_exist(const JobSpec& spec) {
  auto exist = [&](const std::vector<WindowInput>& inputs, const char* what, std::size_t self) {
    for (const WindowInput& in : inputs)
      if ((in.window >= 0 && static_cast<std::size_t>(in.window) >= spec.windows.size()) ||
          (in.join >= 0 && static_cast<std::size_t>(in.join) >= spec.joins.size()) ||
          (in.partition >= 0 && static_cast<std::size_t>(in.partition) >= spec.partitions.size())) {
        std::fprintf(stderr, "error: invalid job description: %s %zu reads window %d / join %d / partition %d, which does not exist\n",
                     what, self, in.window, in.join, in.partition);
        return false;
      }
    if (inputs.empty()) {
      std::fprintf(stderr, "error: invalid job description: %s %zu has no input\n", what, self);
      return false;
    }
    return true;
  };
  for (std::size_t j = 0; j < spec.windows.size(); ++j)
    if (!exist(spec.windows[j].inputs, "window", j)) return false;
  for (std::size_t j = 0; j < spec.joins.size(); ++j)
    if (!exist(spec.joins[j].inputs, "join", j)) return false;
  for (std::size_t j = 0; j < spec.partitions.size(); ++j)
    if (!exist(spec.partitions[j].inputs, "partition", j)) return false;
  return true;
}

void print_bad_record_counts(const std::vector<const std::vector<ActiveSource>*>& instances) {
  const std::vector<ActiveSource>& first = *instances.front();
  for (std::size_t i = 0; i < first.size(); ++i) {
    int64_t skipped = 0;
    for (const std::vector<ActiveSource>* sources : instances) skipped += (*sources)[i].skipped;
    if (skipped == 0) continue;
    std::fprintf(stderr, "warning: source `%s`: %lld bad record%s skipped\n", first[i].spec->name.c_str(),
                 static_cast<long long>(skipped), skipped == 1 ? "" : "s");
  }
}

}  // namespace flow
