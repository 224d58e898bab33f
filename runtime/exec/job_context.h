// flow_ctx: one running job instance as generated code sees it: param values, the per-call
// arena, the key scratch buffer, sinks, aggregate tables, window and join operators with their
// state and watermarks, lookup tables, and the first failure.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "agg/agg_table.h"
#include "agg/key_buffer.h"
#include "core/arena.h"
#include "core/job_failure.h"
#include "exec/event_time.h"
#include "exec/job_spec.h"
#include "exec/params.h"
#include "io/file_transaction.h"
#include "io/input_split.h"
#include "io/record_decoder.h"
#include "io/sink.h"
#include "state/state_backend.h"

namespace flow {

class MetricsServer;

// The source being read, for flow_bad_field and bad-record reports.
struct ActiveSource {
  int32_t index = 0;
  const SourceSpec* spec = nullptr;
  std::string path;
  std::unique_ptr<RecordDecoder> decoder;  // from open until the end of the input
  bool ended = false;
  int64_t skipped = 0;        // bad records dropped (on error skip, or no dead-letter function)
  int64_t dead_lettered = 0;  // bad records sent to the dead-letter stream
  int64_t records = 0;        // records read (metrics)
  int64_t bytes_total = -1;   // the input's size, when it has one (metrics)
  // A table read again after a restore: its dead letters went downstream before the
  // checkpoint, so they are not sent again. (Also a table that another parallel instance reads.)
  bool replaying = false;
  // Read in parts by parallel instances: this instance's parts after the first (io/input_split.h).
  std::vector<ByteRange> parts;
  std::size_t next_part = 0;
  bool between_parts = false;  // a part has been read, the next not started
};

// Tuning knobs, changed only by tests.
// --checkpoint-dir, --checkpoint-interval, --checkpoints-retained, --restore.
struct CheckpointOptions {
  std::string dir;            // "" when not checkpointing
  int64_t interval_ms = -1;   // < 0: never
  int retained = 3;
  std::string restore;        // "", "latest", or a checkpoint directory
  std::string savepoint_dir;  // --savepoint-dir: SIGUSR1 writes a savepoint, SIGTERM stops with one
  // --at-least-once: file sinks write their files directly instead of by two-phase commit.
  bool at_least_once = false;

  // Whether a checkpoint, savepoint or restore is in play: the job's state is then kept in
  // tables that note their changes, for incremental checkpoints.
  bool in_play() const { return (!dir.empty() && interval_ms > 0) || !savepoint_dir.empty() || !restore.empty(); }
  // Whether file sinks write through a FileTransaction: whenever checkpoints are in play,
  // unless at-least-once output was asked for.
  bool exactly_once_sinks() const { return !at_least_once && in_play(); }
};

struct RunOptions {
  DecoderOptions decoder;
  int parallelism = 1;      // --parallelism: instances of the job
  uint64_t part_bytes = 0;  // --test-part-bytes: how input files are cut between instances (0: by size)
  bool rocksdb_state = false;  // --state rocksdb
  std::string state_dir;       // its database; "" for a temporary directory
  std::size_t output_buffer = OutputBuffer::kDefaultCapacity;
  CheckpointOptions checkpoint;
  MetricsServer* metrics = nullptr;  // --metrics-port: where readings are published
};

}  // namespace flow

struct flow_ctx {
  const flow::JobSpec* spec = nullptr;
  flow::RunOptions options;
  std::vector<flow::ParamValue> params;
  flow::Arena call_arena{256 * 1024};
  flow_key_buf key_buf;
  // Written by every stdout sink, in the order records are emitted; outlives the sinks.
  std::unique_ptr<flow::OutputBuffer> stdout_buffer;
  std::vector<std::unique_ptr<flow_sink>> sinks;
  std::vector<std::string> sink_paths;  // per sink: its file, "" for stdout and null
  // Per sink: the two-phase commit of its file (exactly-once output), or nullptr.
  std::vector<std::unique_ptr<flow::FileTransaction>> sink_transactions;
  std::vector<std::unique_ptr<flow_agg_table>> aggregates;
  // Keyed state of the window operators; declared before `time`, whose operators use it.
  std::unique_ptr<flow::StateBackend> state;
  flow::EventTimeGraph time;
  std::vector<std::unique_ptr<flow_lookup>> lookups;  // tables of lookup joins, in `state`
  flow::ActiveSource* source = nullptr;
  flow::JobFailure failure;
  // At --parallelism N > 1: this instance's end of the exchange (exchange/exchange.h).
  flow_exchange* exchange = nullptr;
  int instance = 0;
  int64_t record_position = 0;  // of the record a route or partitioning stage hands on (flow_ctx_position)
};
