// The job driver: sources read a batch at a time, always the one whose watermark is furthest
// behind (so the inputs of merges and joins advance together and their state stays small),
// ties in registration order; at the end of each, the final watermark through its windows,
// then the unwindowed aggregates it feeds; at the end of all, those fed by several.
#include "exec/job_runner.h"

#include <cerrno>
#include <cstdio>
#include <cstring>

#include <sys/stat.h>
#include <unistd.h>

#include "exec/bad_records.h"
#include "exec/job_checkpoints.h"
#include "exec/job_metrics.h"

namespace flow {

namespace {

// Evaluates a path expression; false (with the failure recorded) if generated code failed.
bool evaluate_path(flow_ctx& ctx, flow_string_fn fn, const std::string& what, std::string& path) {
  flow_str out{"", 0};
  int32_t status = fn(&ctx, &out);
  if (status == 0) path.assign(out.ptr, static_cast<std::size_t>(out.len));
  ctx.call_arena.reset();
  if (status != 0) ctx.failure.record("cannot evaluate the path of " + what);
  return status == 0;
}

// Makes sure a failed generated function leaves a message even if it recorded none.
bool check_status(flow_ctx& ctx, int32_t status, const std::string& what) {
  if (status == 0) return true;
  ctx.failure.record(what + " failed");
  return false;
}

// Every input must be readable before any output is opened: a typo in an input path must not
// truncate the output file of the previous run.
bool inputs_are_readable(flow_ctx& ctx) {
  for (const SourceSpec& spec : ctx.spec->sources) {
    std::string path;
    std::string what = "source `" + spec.name + "`";
    if (!evaluate_path(ctx, spec.path, what, path)) return false;
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

std::string decoder_failure(const ActiveSource& source, const DecoderError& error) {
  std::string where = " (source `" + source.spec->name + "`)";
  if (error.read_failed) return "cannot read `" + source.path + "`" + where + ": " + error.message;
  std::string position = source.path + (error.line > 0 ? ":" + std::to_string(error.line) : "");
  return position + ": " + error.message + where;
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
  struct stat input;
  if (::stat(source.path.c_str(), &input) == 0 && S_ISREG(input.st_mode)) source.bytes_total = input.st_size;
  std::string reason;
  if (!decoder->input().open(source.path, reason)) {
    ctx.failure.record("cannot open `" + source.path + "` (" + what + "): " + reason);
    return false;
  }
  ctx.source = &source;
  if (!decoder->start()) {
    ctx.failure.record(decoder_failure(source, decoder->error()));
    return false;
  }
  ctx.source = nullptr;
  return true;
}

// Reads and processes one batch (or bad record) of the source; at its end, sends the final
// watermark. False on failure.
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
      return check_status(ctx, status, "the pipeline of " + describe());
    }
    case DecodeStep::bad_record: {
      const BadRecord& bad = decoder->bad_record();
      int32_t status = handle_bad_record(&ctx, source, bad.line, bad.column, bad.raw, bad.message);
      ctx.call_arena.reset();
      return check_status(ctx, status, "the bad-record handling of " + describe());
    }
    case DecodeStep::failed:
      ctx.failure.record(decoder_failure(source, decoder->error()));
      return false;
    case DecodeStep::end: {
      ctx.source = nullptr;
      source.ended = true;
      source.decoder.reset();  // its buffer is not needed any more
      // End of a bounded input: the final watermark fires every open window.
      int32_t status = ctx.time.end_of_source(source.index);
      ctx.call_arena.reset();
      return check_status(ctx, status, "the windows fed by " + describe());
    }
  }
  return true;
}

bool emit_aggregates(flow_ctx& ctx, int32_t source_index) {
  // In registration order: an aggregate fed by another one's emission is registered after it.
  for (std::size_t i = 0; i < ctx.spec->aggregates.size(); ++i) {
    const AggregateSpec& spec = ctx.spec->aggregates[i];
    if (spec.source_index != source_index) continue;
    for (uint8_t* row : ctx.aggregates[i]->rows_in_key_order()) {
      ++ctx.aggregates[i]->records_out;
      int32_t status = spec.emit(&ctx, row);
      ctx.call_arena.reset();
      if (!check_status(ctx, status, "aggregate " + std::to_string(i))) return false;
    }
  }
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
  if (source.decoder->resume(at.position)) return true;
  ctx.failure.record(decoder_failure(source, source.decoder->error()));
  return false;
}

bool run_sources(flow_ctx& ctx, std::vector<ActiveSource>& sources, JobCheckpoints& checkpoints, JobMetrics& metrics,
                 const RestoredJob& restored) {
  for (ActiveSource& source : sources)
    if (!open_source(ctx, source)) return false;
  for (ActiveSource& source : sources) {
    if (!is_table(ctx, source.index)) continue;
    source.replaying = restored.restored;
    while (!source.ended) {
      if (!step_source(ctx, source)) return false;
      metrics.tick();
    }
    if (restored.restored) {  // its counts are those of the first reading
      source.skipped = restored.sources[static_cast<std::size_t>(source.index)].skipped;
      source.dead_lettered = restored.sources[static_cast<std::size_t>(source.index)].dead_lettered;
    } else if (!emit_aggregates(ctx, source.index)) {  // of its dead letters, say
      return false;
    }
  }
  if (restored.restored)
    for (ActiveSource& source : sources)
      if (!is_table(ctx, source.index) && !resume_source(ctx, source, restored.sources[static_cast<std::size_t>(source.index)]))
        return false;
  for (;;) {
    ActiveSource* behind = nullptr;
    for (ActiveSource& source : sources)
      if (!source.ended && (!behind || ctx.time.source_watermark(source.index) < ctx.time.source_watermark(behind->index)))
        behind = &source;
    if (!behind) break;
    if (!step_source(ctx, *behind)) return false;
    if (behind->ended && !emit_aggregates(ctx, behind->index)) return false;
    metrics.tick(behind->ended || behind->decoder->drained());
    bool stop = false;
    if (!checkpoints.maybe_take(sources, stop)) return false;
    if (stop) {
      std::fprintf(stderr, "note: stopped with a savepoint (SIGTERM)\n");
      return true;  // no end-of-input: the job continues from the savepoint
    }
  }
  return emit_aggregates(ctx, -1);
}

void print_late_record_counts(flow_ctx& ctx) {
  for (std::size_t j = 0; j < ctx.time.window_count(); ++j) {
    const flow_window& w = *ctx.time.window(static_cast<int32_t>(j));
    if (w.dropped() == 0) continue;
    std::fprintf(stderr, "warning: window at %s:%s: %lld late record%s dropped\n", ctx.spec->program.c_str(),
                 w.spec().where.c_str(), static_cast<long long>(w.dropped()), w.dropped() == 1 ? "" : "s");
  }
  for (std::size_t j = 0; j < ctx.time.join_count(); ++j) {
    const flow_join& join = *ctx.time.join(static_cast<int32_t>(j));
    if (join.dropped() == 0) continue;
    std::fprintf(stderr, "warning: join at %s:%s: %lld late record%s dropped\n", ctx.spec->program.c_str(),
                 join.spec().where.c_str(), static_cast<long long>(join.dropped()), join.dropped() == 1 ? "" : "s");
  }
}

// Inputs of windows and joins that name no operator: a code generator bug.
bool time_inputs_exist(const JobSpec& spec) {
  auto exist = [&](const std::vector<WindowInput>& inputs, const char* what, std::size_t self) {
    for (const WindowInput& in : inputs)
      if ((in.window >= 0 && static_cast<std::size_t>(in.window) >= spec.windows.size()) ||
          (in.join >= 0 && static_cast<std::size_t>(in.join) >= spec.joins.size())) {
        std::fprintf(stderr, "error: invalid job description: %s %zu reads window %d / join %d, which does not exist\n", what,
                     self, in.window, in.join);
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
  return true;
}

void print_bad_record_counts(const std::vector<ActiveSource>& sources) {
  for (const ActiveSource& source : sources) {
    if (source.skipped == 0) continue;
    std::fprintf(stderr, "warning: source `%s`: %lld bad record%s skipped\n", source.spec->name.c_str(),
                 static_cast<long long>(source.skipped), source.skipped == 1 ? "" : "s");
  }
}

}  // namespace

int run_job(flow_ctx& ctx) {
  const JobSpec& spec = *ctx.spec;
  for (const AggregateSpec& a : spec.aggregates) {
    if (a.source_index < -1 || a.source_index >= static_cast<int32_t>(spec.sources.size())) {
      std::fprintf(stderr, "error: invalid job description: aggregate of source %d, which does not exist\n",
                   a.source_index);
      return 3;
    }
    ctx.aggregates.push_back(std::make_unique<flow_agg_table>(a.row_size));
  }
  if (!time_inputs_exist(spec)) return 3;
  if (ctx.options.rocksdb_state) {
    std::string error;
    ctx.state = make_rocksdb_state_backend(ctx.options.state_dir, error);
    if (!ctx.state) {
      std::fprintf(stderr, "error: %s\n", error.c_str());
      return 3;
    }
  } else {
    // Change tracking costs a little on every access: only a job that checkpoints pays it.
    ctx.state = ctx.options.checkpoint.in_play() ? make_checkpointed_heap_backend() : make_heap_state_backend();
  }
  ctx.time.build(spec, ctx, *ctx.state);
  for (std::size_t i = 0; i < spec.lookups.size(); ++i)
    ctx.lookups.push_back(
        std::make_unique<flow_lookup>(ctx.state->list_table("lookup-" + std::to_string(i), spec.lookups[i].record_size)));
  std::vector<ActiveSource> sources(spec.sources.size());
  for (std::size_t i = 0; i < sources.size(); ++i) {
    sources[i].index = static_cast<int32_t>(i);
    sources[i].spec = &spec.sources[i];
  }

  JobCheckpoints checkpoints(ctx);
  checkpoints.listen_for_signals();
  JobMetrics metrics(ctx, sources, checkpoints);
  RestoredJob restored;
  bool ok = inputs_are_readable(ctx) && checkpoints.restore(restored) && open_sinks(ctx, restored) &&
            run_sources(ctx, sources, checkpoints, metrics, restored);
  ok = checkpoints.finish() && ok;  // the checkpoint in flight completes and commits first
  ctx.source = nullptr;
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
  std::fflush(stdout);
  metrics.finish(ok && !ctx.failure.failed);
  print_bad_record_counts(sources);
  print_late_record_counts(ctx);
  checkpoints.print_summary();
  if (!ok || ctx.failure.failed) {
    if (!ctx.failure.failed) ctx.failure.record("the job failed");
    std::fprintf(stderr, "error: %s\n", ctx.failure.message.c_str());
    return 3;
  }
  return 0;
}

}  // namespace flow
