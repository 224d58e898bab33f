// run_parallel_job: N instances of the job, each on a thread of its own with its own operators
// and keyed state. Every instance reads whole each table (lookup joins probe their own copy)
// and its parts of each stream source (io/input_split.h); a record reaching a keyed operator
// goes to the instance that owns its key group (exchange/exchange.h), and each operator's
// watermark is the minimum over the instances that send to it (EventTimeGraph peers).
//
// Unwindowed aggregates (bounded, emitted at the end) whose rows can travel are not routed:
// each instance aggregates the records it reads, and at the end sends each row to the instance
// owning its key, which merges them (two-phase aggregation: one row per key and instance
// crosses, not every record).
//
// The end of a bounded job goes in stages, each closed by a mark every instance sends to every
// other one after the records it covers; an instance starts a stage's work only once every
// instance has ended the stage before. Stage 0 ends when an instance has read all its parts
// and its windows, joins and partitioning stages have seen the end of every input. For
// unwindowed aggregate i, in registration order (one may feed the next), a stage ends when the
// instance has sent the rows it does not own, and the next when it has emitted those it owns.
// A record that partitioning stages move on from instance to instance (H of them at most, H
// = JobSpec::partition_hops) may arrive one stage later per move, so after stage 0 and after
// each emission come H stages with no work of their own. An instance stops once every
// instance has ended the last stage: nothing can be sent to it any more.
//
// The sinks: each instance formats its records into buffers of its own and hands whole records
// to the job's sink under one lock, so lines never mix. Records of different keys may come out
// in another order than at parallelism 1; each record is the same.
//
// Checkpoints: when one is due, the driver's thread asks (CheckpointSync) and every instance,
// at its next step, stops reading input and sends a barrier to every other instance, in band:
// after everything it sent before. Records in flight still arrive and are applied, and what
// they produce is sent on, so barriers go in rounds: an instance sends its barrier of round
// r + 1 once it has the barriers of round r from all the others (all they sent before them
// has been applied), and each barrier says how many messages its sender sent in its round.
// The first round from r = 1 in which no instance sent anything shows that nothing is in
// flight and nothing more will be: every instance has then applied every record read before
// the barriers and no other. Each flushes its sinks and waits; the driver, with every instance
// still, writes the checkpoint (each instance's operators under "instance-K.", the ranges each
// has left to read, the sinks' pre-commit), and lets them go on. A checkpoint is not taken once
// an instance has started the end's stages past stage 0 (they merge and emit rows): the
// first instance to start them closes the checkpoints, unless one has been asked for, which
// comes first.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <cstdio>
#include <exception>
#include <limits>
#include <mutex>
#include <thread>

#include <sys/stat.h>

#include "agg/distinct_set.h"
#include "checkpoint/state_snapshot.h"
#include "exchange/exchange.h"
#include "metrics/metrics.h"
#include "exec/job_metrics.h"
#include "exec/job_runner.h"
#include "exec/job_steps.h"
#include "io/generated_source.h"

namespace flow {

namespace {

constexpr std::size_t kChannelBytes = 4 << 20;  // blocks in flight from one instance to another
constexpr int kIdleWaitMs = 100;                 // a wait with nothing to do, in case a wake-up is missed

// How far each instance has read each stream source, in parts. An instance starts its part j
// only once every instance has read its parts before j - 1: the instances stay within two
// rounds of parts of each other. Without this one could read far ahead (its records are taken in as
// fast as it sends them), and as an operator's watermark waits for the instance furthest
// behind, windows would stay open over the whole gap, in memory (Flink's watermark alignment
// solves the same problem).
class PartProgress {
 public:
  PartProgress(std::size_t sources, int instances)
      : instances_(instances), done_(sources * static_cast<std::size_t>(instances)), parts_(done_.size(), 0) {}

  void set_parts(std::size_t source, int instance, std::size_t parts) { parts_[at(source, instance)] = parts; }
  void part_done(std::size_t source, int instance) { done_[at(source, instance)].fetch_add(1, std::memory_order_release); }
  // Whether `instance` may start its part `j` of `source`.
  bool may_start(std::size_t source, int instance, std::size_t j) const {
    for (int k = 0; k < instances_; ++k) {
      if (k == instance) continue;
      auto done = static_cast<std::size_t>(done_[at(source, k)].load(std::memory_order_acquire));
      if (j > 0 && done < std::min(j - 1, parts_[at(source, k)])) return false;
    }
    return true;
  }

 private:
  std::size_t at(std::size_t source, int instance) const { return source * static_cast<std::size_t>(instances_) + static_cast<std::size_t>(instance); }
  int instances_;
  std::vector<std::atomic<int>> done_;
  std::vector<std::size_t> parts_;
};

// How an instance spends its time, for the metrics: written by the instance, read by the
// monitor (run_parallel_job's thread), which publishes shares even while an instance is
// blocked writing to a slow sink and takes no reading of its own.
class InstanceTimes {
 public:
  static int64_t now_ns() {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch()).count();
  }
  void begin(bool held) { (held ? held_since_ : idle_since_).store(now_ns(), std::memory_order_relaxed); }
  void end(bool held) {
    std::atomic<int64_t>& since = held ? held_since_ : idle_since_;
    (held ? held_ns_ : idle_ns_).fetch_add(now_ns() - since.load(std::memory_order_relaxed), std::memory_order_relaxed);
    since.store(0, std::memory_order_relaxed);
  }
  // Idle and held nanoseconds so far, the stretch going on included.
  std::pair<int64_t, int64_t> totals(int64_t now) const {
    auto with_current = [now](const std::atomic<int64_t>& total, const std::atomic<int64_t>& since) {
      int64_t from = since.load(std::memory_order_relaxed);
      return total.load(std::memory_order_relaxed) + (from > 0 && from < now ? now - from : 0);
    };
    return {with_current(idle_ns_, idle_since_), with_current(held_ns_, held_since_)};
  }
  std::atomic<int64_t> queued_bytes{0};

 private:
  std::atomic<int64_t> idle_ns_{0}, held_ns_{0}, idle_since_{0}, held_since_{0};
};

// The driver's thread and the instances meet here for each checkpoint (see the top of the
// file). Once closed (the end of the job has begun) no checkpoint is asked for.
class CheckpointSync {
 public:
  // The driver: asks for checkpoint `requested() + 1`; false once closed.
  bool request() {
    std::lock_guard lock(mutex_);
    if (closed_) return false;
    requested_.fetch_add(1, std::memory_order_release);
    return true;
  }
  int64_t requested() const { return requested_.load(std::memory_order_acquire); }
  // An instance about to start the end's stages: closes, unless a checkpoint asked for has
  // not been taken yet (the instance takes part in it first).
  bool close_if_idle() {
    std::lock_guard lock(mutex_);
    if (requested_.load(std::memory_order_relaxed) > taken_) return false;
    closed_ = true;
    return true;
  }
  // An instance that is still, its sinks flushed: waits until the driver has written the
  // checkpoint. True when the job is to stop there (the savepoint of SIGTERM, or a failure).
  bool arrive_and_wait(const ExchangeHub& hub) {
    std::unique_lock lock(mutex_);
    int64_t generation = generation_;
    ++arrived_;
    cv_.notify_all();
    while (generation_ == generation && !hub.stopped()) cv_.wait_for(lock, std::chrono::milliseconds(50));
    return stop_ || hub.stopped();
  }
  // The driver: waits until all `instances` are still; false when the job stopped first.
  bool wait_for_all(int instances, const ExchangeHub& hub) {
    std::unique_lock lock(mutex_);
    while (arrived_ < instances) {
      if (hub.stopped()) return false;
      cv_.wait_for(lock, std::chrono::milliseconds(50));
    }
    return true;
  }
  // The driver: the checkpoint is written (or failed, `stop`); the instances go on.
  void release(bool stop) {
    std::lock_guard lock(mutex_);
    arrived_ = 0;
    stop_ = stop;
    taken_ = requested_.load(std::memory_order_relaxed);
    ++generation_;
    cv_.notify_all();
  }

 private:
  std::mutex mutex_;
  std::condition_variable cv_;
  std::atomic<int64_t> requested_{0};
  int64_t taken_ = 0;
  int64_t generation_ = 0;
  int arrived_ = 0;
  bool closed_ = false;
  bool stop_ = false;
};

class Instance final : public ExchangeReceiver {
  // First, so that it outlives the sinks in `ctx`, whose deliveries note the time they take.
  InstanceTimes times_;

 public:
  Instance(flow_ctx& job, ExchangeHub& hub, int self, PartProgress& progress, CheckpointSync& sync)
      : job_(job), hub_(hub), self_(self), progress_(progress), sync_(sync), exchange_(hub, self, job.spec->routes) {
    ctx.spec = job.spec;
    ctx.params = job.params;
    ctx.options = job.options;
    if (!ctx.options.state_dir.empty()) ctx.options.state_dir += "/instance-" + std::to_string(self);
    ctx.time.clock() = job.time.clock();
    ctx.exchange = &exchange_;
    ctx.instance = self;
  }

  // Builds the operators and sinks, restores them from `restore` when it holds a checkpoint,
  // and gives each stream source its parts (from `parts`, or what the checkpoint left).
  bool prepare(const std::vector<std::vector<std::vector<ByteRange>>>& parts, std::mutex& output_lock,
               const LoadedCheckpoint& restore, const JobCheckpoints& job_checkpoints) {
    if (!build_operators(ctx, ctx.options.state_dir)) return false;  // the error is printed
    ctx.time.connect_instances(hub_.instances(), self_,
                               [this](int32_t node, int64_t w) { exchange_.send_watermark(node, w); });
    for (std::size_t i = 0; i < job_.sinks.size(); ++i) {
      const SinkSpec& spec = ctx.spec->sinks[i];
      flow_sink* shared = job_.sinks[i].get();
      // Waiting for the lock or for the output counts as held back: the sink is slow.
      auto deliver = [this, shared, &output_lock](const char* p, std::size_t n, std::string& error) {
        times_.begin(true);
        std::lock_guard lock(output_lock);
        bool ok = shared->append_records(p, n, error);
        times_.end(true);
        return ok;
      };
      SinkTarget target{spec.kind, spec.format, job_.sink_paths[i], spec.fields};
      ctx.sinks.push_back(open_instance_sink(target, ctx.failure, ctx.options.output_buffer, deliver));
      ctx.sink_paths.push_back(job_.sink_paths[i]);
    }
    checkpoints_ = std::make_unique<JobCheckpoints>(ctx, "instance-" + std::to_string(self_) + ".");
    if (restore.info.id != 0 && !restore_from(restore)) return false;
    sources.resize(ctx.spec->sources.size());
    for (std::size_t i = 0; i < sources.size(); ++i) {
      sources[i].index = static_cast<int32_t>(i);
      sources[i].spec = &ctx.spec->sources[i];
      if (is_table(ctx, static_cast<int32_t>(i))) continue;
      bool pipe = !parts[i][0].empty() && parts[i][0][0].end == std::numeric_limits<uint64_t>::max();
      sources[i].parts = parts[i][static_cast<std::size_t>(self_)];
      if (restored_.restored) {
        const RestoredJob::Source& from = restored_.sources[i];
        sources[i].skipped = from.skipped;
        sources[i].dead_lettered = from.dead_lettered;
        if (!restored_.split) sources[i].parts = from.ranges;  // this instance's own, left to read
      }
      if (pipe && self_ != 0) {
        sources[i].ended = true;  // instance 0 reads it all; opening it here would take some of it
        sources[i].parts.clear();
      } else if (sources[i].parts.empty()) {
        sources[i].parts.push_back(ByteRange{0, 0});  // nothing to read
      }
      progress_.set_parts(i, self_, sources[i].parts.size());
    }
    plan_end_stages();
    // The checkpoints the metrics show are the job's, which the driver takes.
    if (ctx.options.metrics) metrics_ = std::make_unique<JobMetrics>(ctx, sources, job_checkpoints, true);
    for (const AggregateSpec& a : ctx.spec->aggregates) row_layouts_.push_back(RouteSpec{a.row_size, nullptr, a.row_layout.strings, {}});
    for (const WindowOperatorSpec& w : ctx.spec->windows) window_layouts_.push_back(RouteSpec{w.row_size, nullptr, w.row_layout.strings, {}});
    return true;
  }

  // For the driver, while every instance is still (CheckpointSync): adds this instance's
  // operators to the checkpoint.
  bool write_operators(JobCheckpoints::Snapshot& out, std::string& error) { return checkpoints_->write_operators(out, error); }

  // The thread's body: false (the failure recorded in ctx) when the job failed here.
  void run() {
    bool ok = false;
    try {
      ok = read_tables() && start_streams() && announce_restored_watermarks() && loop();
      for (auto& sink : ctx.sinks) ok = sink->finish() && ok;  // hands over what is buffered
      if (metrics_) metrics_->finish(ok && !ctx.failure.failed);
    } catch (const std::bad_alloc&) {
      ctx.failure.record("out of memory");
    } catch (const std::exception& e) {
      ctx.failure.record(std::string("internal error: ") + e.what());
    }
    if (!ok && !ctx.failure.failed && !hub_.stopped()) ctx.failure.record("the job failed");
    if (!ok) hub_.stop();
    done.store(true, std::memory_order_release);
  }

  const InstanceTimes& times() const { return times_; }
  bool salted_sets_disjoint() const { return salted_sets_disjoint_; }
  std::atomic<bool> done{false};

  // Whether this instance failed by itself (not stopped because another one did).
  bool failed() const { return ctx.failure.failed; }

  flow_ctx ctx;
  std::vector<ActiveSource> sources;

 private:
  // Tables are read whole by every instance; their bad records count, and go to dead-letter
  // streams, at instance 0 only.
  bool read_tables() {
    for (ActiveSource& source : sources) {
      if (!is_table(ctx, source.index)) continue;
      source.replaying = self_ != 0 || restored_.restored;
      if (!open_source(ctx, source)) return false;
      while (!source.ended)
        if (!step_source(ctx, source)) return false;
      if (self_ != 0) source.skipped = 0;
      if (restored_.restored) {  // its counts are those of the first reading
        source.skipped = restored_.sources[static_cast<std::size_t>(source.index)].skipped;
        source.dead_lettered = restored_.sources[static_cast<std::size_t>(source.index)].dead_lettered;
      }
    }
    return true;
  }

  bool restore_from(const LoadedCheckpoint& from) {
    std::string error;
    KeyOwnership owner{self_, hub_.instances()};
    // Rescaled, a salted count_distinct's values restored at a key's owner may come again to
    // another instance: the sets no longer split the values between them, nor after any later
    // restore at the same parallelism (the checkpoint says).
    salted_sets_disjoint_ =
        from.same_layout(hub_.instances(), JobCheckpoints::operator_parallelism(*ctx.spec)) && from.salted_sets_disjoint;
    if (!checkpoints_->restore_operators(from, owner, error) || !checkpoints_->restore_positions(from, owner, restored_, error)) {
      ctx.failure.record("cannot restore from " + from.info.path + ": " + error);
      return false;
    }
    return true;
  }

  // The peers hear of an operator's watermark only when it rises: after a restore they are
  // told the restored one.
  bool announce_restored_watermarks() {
    if (!restored_.restored) return true;
    return check_status(ctx, ctx.time.announce_to_peers(),
                        [&] { return "the watermarks of instance " + std::to_string(self_); });
  }

  bool start_streams() {
    for (ActiveSource& source : sources) {
      if (is_table(ctx, source.index)) continue;
      if (source.ended) {  // a pipe another instance reads: its watermark here is the end
        if (!check_status(ctx, ctx.time.end_of_source(source.index),
                          [&] { return "the windows fed by source `" + source.spec->name + "`"; }))
          return false;
        continue;
      }
      if (!(open_source(ctx, source) && start_next_part(ctx, source))) return false;
    }
    return true;
  }

  bool loop() {
    for (;;) {
      if (hub_.stopped()) return false;
      bool progressed = false;
      if (!drain(progressed)) return false;
      if (round_ < 0 && checkpoint_asked() && !begin_checkpoint(progressed)) return false;
      if (round_ >= 0) {
        if (!advance_checkpoint(progressed)) return false;
        if (stopping_) return true;  // after the savepoint of SIGTERM: no end of input
      } else if (!exchange_.blocked() && !step_streams(progressed)) {
        return false;
      }
      if (!check_status(ctx, ctx.time.flush_local(false),
                        [&] { return "the local pre-aggregation of instance " + std::to_string(self_); }))
        return false;
      bool finished = false;
      if (round_ < 0 && !advance_stages(progressed, finished)) return false;
      exchange_.flush();
      if (finished) return true;
      if (metrics_) {
        int64_t queued = 0;
        for (int to = 0; to < hub_.instances(); ++to)
          if (to != self_) queued += static_cast<int64_t>(hub_.queued(self_, to));
        times_.queued_bytes.store(queued, std::memory_order_relaxed);
        metrics_->tick();
      }
      if (!progressed) wait();
    }
  }

  // Nothing to do now: waits to be woken, counting the time as held back when there is input
  // left to read (a channel to another instance is full, or this instance waits for the others
  // to catch up, and they are held back), as idle when there is none.
  void wait() {
    bool held = std::any_of(sources.begin(), sources.end(), [&](const ActiveSource& s) {
      return !s.ended && !is_table(ctx, s.index);
    });
    times_.begin(held);
    hub_.wait(self_, kIdleWaitMs);
    times_.end(held);
  }

  // Applies everything the other instances have sent.
  bool drain(bool& progressed) {
    for (int from = 0; from < hub_.instances(); ++from) {
      if (from == self_) continue;
      blocks_.clear();
      hub_.take(from, self_, blocks_);
      for (std::string& block : blocks_) {
        progressed = true;
        int32_t status = decode_block(block, from, ctx.spec->routes, row_layouts_, *this, window_layouts_);
        ctx.call_arena.reset();
        if (status == -1 && !ctx.failure.failed)
          ctx.failure.record("internal error: instance " + std::to_string(self_) + " cannot decode what instance " +
                             std::to_string(from) + " sent");
        if (!check_status(ctx, status, [&] { return "a keyed operator of instance " + std::to_string(self_); }))
          return false;
      }
    }
    return true;
  }

  // One batch of the stream source furthest behind, as a single instance reads them; a source
  // between parts starts its next one when the others have caught up.
  bool step_streams(bool& progressed) {
    ActiveSource* behind = nullptr;
    for (ActiveSource& source : sources) {
      if (source.ended || is_table(ctx, source.index)) continue;
      if (source.between_parts) {
        if (!progress_.may_start(static_cast<std::size_t>(source.index), self_, source.next_part)) continue;
        if (!start_next_part(ctx, source)) return false;
      }
      if (!behind || ctx.time.source_watermark(source.index) < ctx.time.source_watermark(behind->index)) behind = &source;
    }
    if (!behind) return true;
    progressed = true;
    bool ok = step_source(ctx, *behind);
    if (metrics_) metrics_->tick(behind->ended || (behind->decoder && behind->decoder->drained()));
    if (behind->between_parts || behind->ended) {
      progress_.part_done(static_cast<std::size_t>(behind->index), self_);
      for (int k = 0; k < hub_.instances(); ++k)
        if (k != self_) hub_.wake(k);  // one may be waiting for this part
    }
    return ok;
  }

  // Whether a checkpoint has been asked for that this instance has not taken part in, and it
  // can take part now: no source has a bad record pending (its position would be mid-record).
  bool checkpoint_asked() const {
    if (sync_.requested() <= checkpoint_) return false;
    for (const ActiveSource& s : sources)
      if (!s.ended && s.decoder && !s.between_parts && !s.decoder->resumable()) return false;
    return true;
  }

  // (Barriers of the others may have come before this instance saw the request: barriers_ is
  // cleared when a checkpoint ends, before anything of the next can arrive.)
  bool begin_checkpoint(bool& progressed) {
    asked_ = sync_.requested();  // (the next may be asked for before this instance wakes from the last)
    round_ = 0;
    sent_in_round_.clear();
    progressed = true;
    return send_barrier();
  }

  // Partial rows (`aggregate local`) are not in the snapshot: before each barrier they go to
  // their keys (rows made during the rounds, by firings upstream, too), counted in the round.
  bool send_barrier() {
    if (!check_status(ctx, ctx.time.flush_local(true),
                      [&] { return "the local pre-aggregation of instance " + std::to_string(self_); }))
      return false;
    sent_in_round_.push_back(exchange_.send_barrier(round_));
    exchange_.flush();
    return true;
  }

  // Rounds of barriers until one in which nobody sent anything (see the top of the file); then
  // this instance is still: it flushes its sinks and waits for the driver to write the
  // checkpoint.
  bool advance_checkpoint(bool& progressed) {
    const int others = hub_.instances() - 1;
    while (static_cast<std::size_t>(round_) < barriers_.size() && barriers_[static_cast<std::size_t>(round_)].first == others) {
      int64_t sent = barriers_[static_cast<std::size_t>(round_)].second + sent_in_round_[static_cast<std::size_t>(round_)];
      if (round_ >= 1 && sent == 0) {
        for (auto& sink : ctx.sinks)
          if (OutputBuffer* buffer = sink->buffer(); buffer && !buffer->flush()) {
            if (!ctx.failure.failed) ctx.failure.record("cannot write the output: " + buffer->error());
            return false;
          }
        times_.begin(false);
        stopping_ = sync_.arrive_and_wait(hub_);
        times_.end(false);
        checkpoint_ = asked_;
        round_ = -1;
        barriers_.clear();
        if (hub_.stopped()) return false;
        return true;
      }
      ++round_;
      if (!send_barrier()) return false;
      progressed = true;
    }
    return true;
  }

  // What each stage of the end does (see the top of the file); a partitioning stage may move a
  // record once more after the work that made it, so every such work is followed by as many
  // stages that only let what is in flight arrive.
  void plan_end_stages() {
    const int hops = ctx.spec->partition_hops;
    end_work_.assign(1 + static_cast<std::size_t>(hops), EndWork{});
    for (std::size_t i = 0; i < ctx.spec->aggregates.size(); ++i) {
      end_work_.push_back(EndWork{EndWork::Kind::SendRows, i});
      end_work_.push_back(EndWork{EndWork::Kind::EmitRows, i});
      end_work_.insert(end_work_.end(), static_cast<std::size_t>(hops), EndWork{});
    }
    stage_done_.assign(end_work_.size(), 0);
  }

  // The stages of the end (see the top of the file).
  bool advance_stages(bool& progressed, bool& finished) {
    const int last = static_cast<int>(end_work_.size()) - 1;
    if (stage_ < 0) {
      for (const ActiveSource& source : sources)
        if (!source.ended) return true;
      if (!ctx.time.operators_ended()) return true;
      end_stage(0);
      progressed = true;
    }
    // Past stage 0 (or to the end), no checkpoint can be taken: one asked for comes first.
    if (!closed_checkpoints_ && stage_ >= 0 && stage_done_[0] == hub_.instances() - 1) {
      if (!sync_.close_if_idle()) return true;
      closed_checkpoints_ = true;
    }
    while (stage_ < last && stage_done_[static_cast<std::size_t>(stage_)] == hub_.instances() - 1) {
      const EndWork& work = end_work_[static_cast<std::size_t>(stage_) + 1];
      if (work.kind == EndWork::Kind::SendRows) send_rows(work.aggregate);
      else if (work.kind == EndWork::Kind::EmitRows && !emit_owned_rows(work.aggregate)) return false;
      end_stage(stage_ + 1);
      progressed = true;
    }
    finished = stage_ == last && stage_done_[static_cast<std::size_t>(last)] == hub_.instances() - 1;
    return true;
  }

  void end_stage(int stage) {
    stage_ = stage;
    exchange_.send_stage_done(stage);
  }

  // A locally aggregated table: each row whose key another instance owns goes there.
  void send_rows(std::size_t aggregate) {
    if (!ctx.spec->aggregates[aggregate].merge) return;  // its records were routed
    const AggregateSpec& spec = ctx.spec->aggregates[aggregate];
    std::string value;
    const int owners = owning_instances(spec.parallelism, hub_.instances());
    ctx.aggregates[aggregate]->for_each_entry([&](std::string_view key, const uint8_t* row) {
      int owner = owner_of_key(key, owners);
      if (owner == self_) return;
      if (spec.row_layout.sets.empty()) {
        exchange_.send_row(owner, static_cast<int32_t>(aggregate), key, row, row_layouts_[aggregate]);
      } else if (salted_sets_disjoint_) {
        // Each value of a salted count_distinct is in one instance's set alone: the size
        // travels in the set's slot, not the values.
        value.assign(reinterpret_cast<const char*>(row), static_cast<std::size_t>(spec.row_size));
        for (int64_t at : spec.row_layout.sets) {
          const flow_distinct_set* set = nullptr;
          std::memcpy(&set, row + at, sizeof set);
          int64_t n = set ? set->count() : 0;
          std::memcpy(value.data() + at, &n, sizeof n);
        }
        exchange_.send_row(owner, static_cast<int32_t>(aggregate), key, reinterpret_cast<const uint8_t*>(value.data()),
                           row_layouts_[aggregate]);
      } else {
        value.clear();  // the sets travel as their values, and are merged
        encode_row_value(row, spec.row_size, spec.row_layout, value);
        exchange_.send_encoded_row(owner, static_cast<int32_t>(aggregate), key, value);
      }
    });
  }

  bool emit_owned_rows(std::size_t aggregate) {
    const AggregateSpec& spec = ctx.spec->aggregates[aggregate];
    flow_agg_table& table = *ctx.aggregates[aggregate];
    const int owners = owning_instances(spec.parallelism, hub_.instances());
    for (const flow_agg_table::KeyedRow& entry : table.entries_in_key_order()) {
      if (owner_of_key(entry.key, owners) != self_) continue;
      ++table.records_out;
      int32_t status = spec.emit(&ctx, entry.row);
      ctx.call_arena.reset();
      if (!check_status(ctx, status, [&] { return "aggregate " + std::to_string(aggregate); })) return false;
    }
    return true;
  }

  int32_t record(int32_t route, const void* record, int64_t event_time, int64_t position) override {
    ctx.record_position = position;
    return ctx.spec->routes[static_cast<std::size_t>(route)].apply(&ctx, record, event_time);
  }
  int32_t watermark(int from, int32_t node, int64_t w) override { return ctx.time.peer_watermark(node, from, w); }
  int32_t row(int32_t aggregate, std::string_view key, uint8_t* row) override {
    const AggregateSpec& spec = ctx.spec->aggregates[static_cast<std::size_t>(aggregate)];
    flow_agg_table* table = ctx.aggregates[static_cast<std::size_t>(aggregate)].get();
    if (!spec.merge) return -1;
    // A salted aggregate's row holds the size of each of its partial sets (send_rows): a set
    // that counts it stands in for the merge.
    std::vector<flow_distinct_set> counted;
    counted.reserve(spec.row_layout.sets.size());
    for (int64_t at : spec.row_layout.sets) {
      int64_t n = 0;
      std::memcpy(&n, row + at, sizeof n);
      flow_distinct_set* set = &counted.emplace_back(counted_storage_);
      set->count_elsewhere(n);
      std::memcpy(row + at, &set, sizeof set);
    }
    int32_t is_new = 0;
    uint8_t* into = table->upsert(reinterpret_cast<const uint8_t*>(key.data()), key.size(), &is_new);
    spec.merge(&ctx, table, into, row);
    return 0;
  }
  int32_t encoded_row(int32_t aggregate, std::string_view key, std::string_view value) override {
    const AggregateSpec& spec = ctx.spec->aggregates[static_cast<std::size_t>(aggregate)];
    flow_agg_table& table = *ctx.aggregates[static_cast<std::size_t>(aggregate)];
    if (!spec.merge) return -1;
    std::string error;
    const auto* key_bytes = reinterpret_cast<const uint8_t*>(key.data());
    uint8_t* into = table.find(key_bytes, key.size());
    if (!into) return decode_row_value(value, spec.row_layout, table, key, error) ? 0 : -1;
    // Decoded aside, merged, and freed with its set at once (a hot key's sets are large).
    flow_agg_table aside(spec.row_size);
    if (!decode_row_value(value, spec.row_layout, aside, key, error)) return -1;
    spec.merge(&ctx, &table, into, aside.find(key_bytes, key.size()));
    return 0;
  }
  int32_t stage_done(int /*from*/, int32_t stage) override {
    if (stage < 0 || static_cast<std::size_t>(stage) >= stage_done_.size()) return -1;
    ++stage_done_[static_cast<std::size_t>(stage)];
    return 0;
  }
  int32_t window_row(int32_t window, int64_t slice, std::string_view key, uint8_t* row) override {
    if (window < 0 || static_cast<std::size_t>(window) >= ctx.time.window_count()) return -1;
    return ctx.time.window(window)->merge_partial(slice, key, row);
  }
  int32_t barrier(int /*from*/, int32_t round, int64_t messages) override {
    if (round < 0 || round > (1 << 20) || messages < 0) return -1;
    if (barriers_.size() <= static_cast<std::size_t>(round)) barriers_.resize(static_cast<std::size_t>(round) + 1);
    ++barriers_[static_cast<std::size_t>(round)].first;
    barriers_[static_cast<std::size_t>(round)].second += messages;
    return 0;
  }

  flow_ctx& job_;
  ExchangeHub& hub_;
  const int self_;
  PartProgress& progress_;
  CheckpointSync& sync_;
  flow_exchange exchange_;
  // Writes this instance's operators into the driver's checkpoints, restores them, and keeps
  // the incremental chains.
  std::unique_ptr<JobCheckpoints> checkpoints_;
  RestoredJob restored_;
  int64_t checkpoint_ = 0;  // the last checkpoint this instance took part in
  int64_t asked_ = 0;       // the one it is taking part in
  int round_ = -1;          // the round of barriers going on, or -1
  std::vector<std::pair<int, int64_t>> barriers_;  // per round: the barriers received, the messages they counted
  std::vector<int64_t> sent_in_round_;             // per round: the messages this instance sent
  bool stopping_ = false;          // the savepoint of SIGTERM is written: stop
  bool closed_checkpoints_ = false;  // this instance has started the end's stages
  std::unique_ptr<JobMetrics> metrics_;
  std::vector<std::string> blocks_;
  struct EndWork {
    enum class Kind { None, SendRows, EmitRows };
    Kind kind = Kind::None;
    std::size_t aggregate = 0;
  };
  std::vector<EndWork> end_work_;  // per stage of the end
  int stage_ = -1;               // the last stage this instance ended
  std::vector<int> stage_done_;  // per stage: how many other instances ended it
  std::vector<RouteSpec> row_layouts_;     // per unwindowed aggregate: its rows' size and strings
  bool salted_sets_disjoint_ = true;  // (send_rows)
  flow::Arena counted_storage_{64};   // of the sets that stand in for received sizes (unused: they hold no values)
  std::vector<RouteSpec> window_layouts_;  // per window: the same
};

// The driver's thread, until the instances are done: with --metrics-port, every 200 ms, each
// instance's time shares since the time before; with checkpoints, each one when it is due.
class Driver {
 public:
  Driver(flow_ctx& job, const std::vector<std::unique_ptr<Instance>>& instances, ExchangeHub& hub, CheckpointSync& sync,
         JobCheckpoints& checkpoints)
      : job_(job), instances_(instances), hub_(hub), sync_(sync), checkpoints_(checkpoints) {}

  void run() {
    const bool checkpointing = !job_.options.checkpoint.dir.empty() || !job_.options.checkpoint.savepoint_dir.empty();
    if (!checkpointing && !job_.options.metrics) return;
    last_ = InstanceTimes::now_ns();
    before_.resize(instances_.size());
    for (std::size_t i = 0; i < instances_.size(); ++i) before_[i] = instances_[i]->times().totals(last_);
    while (!all_done()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(checkpointing ? 5 : 200));
      if (job_.options.metrics && InstanceTimes::now_ns() - last_ >= 200'000'000) publish_shares();
      if (checkpointing && !hub_.stopped()) checkpoint();
    }
  }

 private:
  bool all_done() const {
    for (const auto& instance : instances_)
      if (!instance->done.load(std::memory_order_acquire)) return false;
    return true;
  }

  void publish_shares() {
    const auto n = static_cast<int>(instances_.size());
    int64_t now = InstanceTimes::now_ns();
    auto interval = static_cast<double>(now - last_);
    for (std::size_t i = 0; i < instances_.size(); ++i) {
      auto totals = instances_[i]->times().totals(now);
      TimeShares shares;
      shares.idle = std::clamp(static_cast<double>(totals.first - before_[i].first) / interval, 0.0, 1.0);
      shares.backpressured = std::clamp(static_cast<double>(totals.second - before_[i].second) / interval, 0.0, 1.0 - shares.idle);
      shares.busy = 1.0 - shares.idle - shares.backpressured;
      shares.queued_bytes = instances_[i]->times().queued_bytes.load(std::memory_order_relaxed);
      job_.options.metrics->publish_shares(static_cast<int>(i), n, shares);
      before_[i] = totals;
    }
    last_ = now;
  }

  // Asks for what is due, waits until every instance is still, writes it, lets them go on.
  void checkpoint() {
    JobCheckpoints::Due due = checkpoints_.due();
    if (due.failed) return hub_.stop();
    if (!due.any() || !sync_.request()) return;
    for (int k = 0; k < hub_.instances(); ++k) hub_.wake(k);
    if (!sync_.wait_for_all(hub_.instances(), hub_)) return sync_.release(true);
    bool stop = false;
    bool ok = checkpoints_.take_due(due, [this](JobCheckpoints::Snapshot& out, std::string& error) {
      std::vector<const std::vector<ActiveSource>*> sources;
      for (const auto& instance : instances_) sources.push_back(&instance->sources);
      JobCheckpoints::write_parts(*job_.spec, sources, instances_.front()->salted_sets_disjoint(), out);
      for (const auto& instance : instances_)
        if (!instance->write_operators(out, error)) return false;
      return true;
    }, stop);
    if (!ok) hub_.stop();
    if (stop) std::fprintf(stderr, "note: stopped with a savepoint (SIGTERM)\n");
    sync_.release(stop || !ok);
  }

  flow_ctx& job_;
  const std::vector<std::unique_ptr<Instance>>& instances_;
  ExchangeHub& hub_;
  CheckpointSync& sync_;
  JobCheckpoints& checkpoints_;
  int64_t last_ = 0;
  std::vector<std::pair<int64_t, int64_t>> before_;
};

// A route whose record holds a list cannot cross instances (the list's elements are not sent).
bool routes_can_cross(const JobSpec& spec) {
  for (const RouteSpec& route : spec.routes)
    if (!route.lists.empty()) return false;
  return true;
}

}  // namespace

int run_parallel_job(flow_ctx& job) {
  const JobSpec& spec = *job.spec;
  const int n = job.options.parallelism;
  if (!routes_can_cross(spec)) {
    std::fprintf(stderr,
                 "error: --parallelism %d: a record that holds a list reaches a keyed operator, and lists cannot go to "
                 "another instance yet; run with --parallelism 1\n",
                 n);
    return 2;
  }
  if (!time_inputs_exist(spec)) return 3;
  for (const JobSpec::StageParallelism& stage : spec.stage_parallelism)
    if (stage.parallelism > n)
      std::fprintf(stderr, "note: the stage at %s:%s asks for @parallel(%d) and runs at %d, the job's --parallelism\n",
                   spec.program.c_str(), stage.where.c_str(), stage.parallelism, n);
  // A table must be a file, since every instance reads it. (A path that does not evaluate is
  // reported by inputs_are_readable.)
  std::vector<std::string> paths(spec.sources.size());
  for (std::size_t i = 0; i < spec.sources.size(); ++i) {
    std::string& path = paths[i];
    if (!evaluate_path(job, spec.sources[i].path, "source `" + spec.sources[i].name + "`", path)) break;
    struct stat input;
    if (is_table(job, static_cast<int32_t>(i)) && ::stat(path.c_str(), &input) == 0 && !S_ISREG(input.st_mode)) {
      std::fprintf(stderr,
                   "error: --parallelism %d: table `%s` is read by every instance, so `%s` must be a file, not a pipe; run "
                   "with --parallelism 1\n",
                   n, spec.sources[i].name.c_str(), path.c_str());
      return 2;
    }
  }
  // A checkpoint to restore is read once; each instance takes its share of it.
  JobCheckpoints checkpoints(job);
  checkpoints.listen_for_signals();
  LoadedCheckpoint loaded;
  RestoredJob restored;  // for the sinks: every instance's are the same
  std::string error;
  if (!job.failure.failed && inputs_are_readable(job) && checkpoints.load(loaded) && loaded.info.id != 0 &&
      !(checkpoints.refuse_incompatible(loaded, error) && checkpoints.restore_positions(loaded, KeyOwnership{0, n}, restored, error)))
    job.failure.record("cannot restore from " + loaded.info.path + ": " + error);
  if (job.failure.failed || !open_sinks(job, restored)) {
    for (auto& sink : job.sinks) sink->finish();
    std::fprintf(stderr, "error: %s\n", job.failure.message.c_str());
    return 3;
  }
  // Each stream source's parts, per instance: of the whole file, or (a restore at another
  // parallelism) of what was left to read. (At the same parallelism each instance resumes its
  // own ranges; these tell a pipe.)
  std::vector<std::vector<std::vector<ByteRange>>> parts(spec.sources.size());
  for (std::size_t i = 0; i < spec.sources.size(); ++i) {
    if (is_table(job, static_cast<int32_t>(i))) continue;
    if (spec.sources[i].format == FLOW_FORMAT_GENERATED) {
      std::string unused;  // (inputs_are_readable reported a bad one)
      const uint64_t count = generated_event_count(paths[i], unused).value_or(0);
      parts[i] = split_numbers(count, restored.split ? restored.sources[i].ranges : std::vector<ByteRange>{ByteRange{0, count}}, n,
                               job.options.part_bytes);
      continue;
    }
    parts[i] = restored.split ? split_ranges(paths[i], restored.sources[i].ranges, n, job.options.part_bytes)
                              : split_input(paths[i], n, job.options.part_bytes);
  }

  ExchangeHub hub(n, kChannelBytes);
  PartProgress progress(spec.sources.size(), n);
  CheckpointSync sync;
  std::mutex output_lock;
  std::vector<std::unique_ptr<Instance>> instances;
  bool ok = !job.failure.failed;
  for (int i = 0; i < n && ok; ++i) {
    instances.push_back(std::make_unique<Instance>(job, hub, i, progress, sync));
    ok = instances.back()->prepare(parts, output_lock, loaded, checkpoints);
  }
  if (!ok && (instances.empty() || !instances.back()->failed())) {
    for (auto& sink : job.sinks) sink->finish();
    return 3;
  }
  if (ok) {
    if (loaded.info.id != 0) std::fprintf(stderr, "note: restored from checkpoint %lld\n", static_cast<long long>(loaded.info.id));
    std::vector<std::thread> threads;
    for (auto& instance : instances) threads.emplace_back([&instance] { instance->run(); });
    Driver(job, instances, hub, sync, checkpoints).run();
    for (std::thread& t : threads) t.join();
  }
  ok = checkpoints.finish() && ok;  // the checkpoint in flight completes and commits first
  // The failure of the first instance that failed by itself; the others only stopped.
  const JobFailure* failure = job.failure.failed ? &job.failure : nullptr;
  for (auto& instance : instances)
    if (!failure && instance->failed()) failure = &instance->ctx.failure;

  bool succeeded = ok && !job.failure.failed && !failure;
  bool written = finish_sinks(job, succeeded) || !succeeded;
  std::fflush(stdout);
  if (written && job.failure.failed && !failure) failure = &job.failure;
  std::vector<const std::vector<ActiveSource>*> sources;
  std::vector<flow_ctx*> contexts;
  for (auto& instance : instances) {
    sources.push_back(&instance->sources);
    contexts.push_back(&instance->ctx);
  }
  if (!instances.empty() && instances.size() == static_cast<std::size_t>(n)) {
    print_bad_record_counts(sources);
    print_late_record_counts(contexts);
  }
  checkpoints.print_summary();
  if (failure || !written) {
    std::fprintf(stderr, "error: %s\n", failure ? failure->message.c_str() : job.failure.message.c_str());
    return 3;
  }
  return 0;
}

}  // namespace flow
