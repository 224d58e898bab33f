// Session windows (language.md: a record at t opens [t, t + gap); sessions of one key that
// overlap or touch merge into one). Each session's accumulator row lives in the operator's
// state table under (key, session id) in the current generation's namespace; merging folds
// one row into the other. Event-time timers (time/timer_service.h) ordered by (time, key,
// session) fire sessions at their end
// (or end + lateness with `emit final`) and free them at end + lateness. Freed rows are
// reclaimed by moving the live ones into a new generation once they are the minority.
#include <algorithm>
#include <set>
#include <string>
#include <tuple>
#include <unordered_map>
#include <vector>

#include "checkpoint/byte_io.h"
#include "time/timer_service.h"
#include "window/window_operator.h"

namespace flow {

namespace {

class SessionWindows final : public flow_window {
 public:
  SessionWindows(const WindowOperatorSpec& spec, flow_ctx& ctx, StateTable& state) : flow_window(spec, ctx, state) {}

  uint8_t* upsert(const uint8_t* key, std::size_t len, int64_t t, flow_window_hit* hit) override {
    int64_t gap = spec_.size_ms;
    int64_t start = t;
    int64_t end = t > INT64_MAX - gap ? INT64_MAX : t + gap;
    std::string k(reinterpret_cast<const char*>(key), len);
    auto found = sessions_.find(k);
    std::vector<Session>* list = found == sessions_.end() ? nullptr : &found->second;
    // The sessions this record's window overlaps or touches (they are all within lateness:
    // sessions past it have been freed).
    std::vector<std::size_t> touching;
    if (list)
      for (std::size_t i = 0; i < list->size(); ++i)
        if ((*list)[i].start <= end && t <= (*list)[i].end) touching.push_back(i);
    if (touching.empty() && past_lateness(end)) {
      late_record();
      return nullptr;
    }
    if (!list) list = &sessions_[k];
    flow_agg_table& rows = state_.rows(generation_);
    Session* target;
    if (touching.empty()) {
      list->push_back(Session{start, end, next_id_++, false});
      target = &list->back();
      ++live_;
    } else {
      target = &(*list)[touching[0]];
      cancel_timer(k, *target);
      Session before = *target;
      uint8_t* into = row(rows, k, target->id);
      for (std::size_t j = touching.size(); j-- > 1;) {
        Session& other = (*list)[touching[j]];
        cancel_timer(k, other);
        merge(rows, into, row(rows, k, other.id));
        target->start = std::min(target->start, other.start);
        target->end = std::max(target->end, other.end);
        list->erase(list->begin() + static_cast<std::ptrdiff_t>(touching[j]));
        --live_;
        ++dead_;
      }
      target->start = std::min(target->start, start);
      target->end = std::max(target->end, end);
      // A session that grew is a new window: it has not fired (if its end has passed, the
      // refire below fires it at once).
      if (target->start != before.start || target->end != before.end) target->fired = false;
    }
    std::string address = row_key(k, target->id);
    uint8_t* result = rows.upsert(reinterpret_cast<const uint8_t*>(address.data()), address.size(), &hit->is_new);
    hit->state = &rows;
    hit->seq = ++open_.seq;
    hit->refire = !emit_final() && target->end <= watermark_;
    schedule(k, *target);
    last_key_ = k;
    last_id_ = target->id;
    return result;
  }

  int32_t refire() override {
    Session* s = find(last_key_, last_id_);
    if (!s) return 0;
    cancel_timer(last_key_, *s);
    s->fired = true;
    schedule(last_key_, *s);
    return emit(row(state_.rows(generation_), last_key_, s->id), s->start, s->end);
  }

  int32_t fire_early() override {
    std::vector<std::tuple<int64_t, std::string, int64_t>> open;
    for (const auto& [k, list] : sessions_)
      for (const Session& s : list)
        if (!s.fired) open.emplace_back(s.end, k, s.id);
    std::sort(open.begin(), open.end());
    for (const auto& [end, k, id] : open) {
      Session* s = find(k, id);
      if (int32_t status = emit(row(state_.rows(generation_), k, id), s->start, s->end)) return status;
    }
    return 0;
  }

 protected:
  int32_t on_watermark() override {
    // Firing a session schedules its removal (at end + lateness, possibly already due), which
    // the next round picks up; removals emit nothing, so the firing order is the timers' order.
    while (timers_.size() > 0 && timers_.next_time() <= watermark_) {
      for (const Timer& timer : timers_.fire_until(watermark_)) {
        Session* s = find(timer.key, timer.name_space);
        if (!s) continue;
        if (!s->fired && (emit_final() || timer.time == s->end)) {
          s->fired = true;
          if (int32_t status = emit(row(state_.rows(generation_), timer.key, s->id), s->start, s->end)) return status;
        }
        if (past_lateness(s->end)) {
          remove(timer.key, timer.name_space);
        } else {
          schedule(timer.key, *s);
        }
      }
    }
    if (dead_ > 1024 && dead_ > live_) compact();
    return 0;
  }

  void snapshot_own(std::string& out) const override {
    ByteWriter w(out);
    w.i64(generation_);
    w.i64(next_id_);
    w.u64(live_);
    w.u64(dead_);
    w.u64(sessions_.size());
    for (const auto& [k, list] : sessions_) {
      w.bytes(k);
      w.u64(list.size());
      for (const Session& s : list) {
        w.i64(s.start);
        w.i64(s.end);
        w.i64(s.id);
        w.u8(s.fired ? 1 : 0);
      }
    }
  }

  // At another parallelism (rescaling) each part's sessions of the keys this instance owns are
  // taken, and their rows, which the state backend restored in each part's generation (their
  // key group is their key's), are moved into one new generation. Keys never clash: each had
  // one owner.
  bool restore_own(const std::vector<std::string_view>& parts, const KeyOwnership& owner, std::string& error) override {
    std::vector<int64_t> generations;
    uint64_t dead_total = 0;
    for (std::string_view part : parts) {
      ByteReader r(part);
      int64_t generation = 0, next_id = 0;
      uint64_t live = 0, dead = 0, keys = 0;
      if (!r.number(generation) || !r.number(next_id) || !r.number(live) || !r.number(dead) || !r.number(keys))
        return error = "truncated window snapshot", false;
      generations.push_back(generation);
      next_id_ = std::max(next_id_, next_id);
      dead_total += dead;
      for (uint64_t i = 0; i < keys; ++i) {
        std::string_view k;
        uint64_t n = 0;
        if (!r.bytes(k) || !r.number(n)) return error = "truncated window snapshot", false;
        const bool owned = owner.owns(k);
        for (uint64_t j = 0; j < n; ++j) {
          Session s{};
          uint8_t fired = 0;
          if (!r.number(s.start) || !r.number(s.end) || !r.number(s.id) || !r.number(fired))
            return error = "truncated window snapshot", false;
          s.fired = fired != 0;
          if (!owned) continue;
          sessions_[std::string(k)].push_back(s);
          ++live_;
        }
      }
      if (!r.done()) return error = "trailing bytes after a window snapshot", false;
    }
    if (generations.size() == 1 && owner.owns_all()) {  // one instance's own state, as it was
      generation_ = generations[0];
      dead_ = dead_total;
    } else if (!generations.empty() && !gather_generations(generations, error)) {
      return false;
    }
    for (auto& [k, list] : sessions_)
      for (Session& s : list) schedule(k, s);  // every live session has exactly its one timer
    return true;
  }

 private:
  struct Session {
    int64_t start;
    int64_t end;
    int64_t id;
    bool fired;
  };

  int64_t lateness_end(int64_t end) const { return end > INT64_MAX - spec_.lateness_ms ? INT64_MAX : end + spec_.lateness_ms; }
  bool past_lateness(int64_t end) const { return lateness_end(end) <= watermark_; }
  // The next thing that happens to a session: it fires (at its end, or at end + lateness with
  // `emit final`), or, once fired, it is freed at end + lateness.
  int64_t timer_time(const Session& s) const { return s.fired || emit_final() ? lateness_end(s.end) : s.end; }
  // Timers: (time, key, session id as the namespace), fired in that order.
  void schedule(const std::string& k, Session& s) { timers_.add(Timer{timer_time(s), k, s.id}); }
  void cancel_timer(const std::string& k, const Session& s) { timers_.remove(Timer{timer_time(s), k, s.id}); }

  static std::string row_key(const std::string& k, int64_t id) {
    std::string address = k;
    for (int shift = 56; shift >= 0; shift -= 8) address += static_cast<char>((static_cast<uint64_t>(id) >> shift) & 0xFF);
    return address;
  }
  static uint8_t* row(flow_agg_table& rows, const std::string& k, int64_t id) {
    std::string address = row_key(k, id);
    return rows.find(reinterpret_cast<const uint8_t*>(address.data()), address.size());
  }

  Session* find(const std::string& k, int64_t id) {
    auto it = sessions_.find(k);
    if (it == sessions_.end()) return nullptr;
    for (Session& s : it->second)
      if (s.id == id) return &s;
    return nullptr;
  }

  void remove(const std::string& k, int64_t id) {
    auto it = sessions_.find(k);
    auto& list = it->second;
    list.erase(std::remove_if(list.begin(), list.end(), [&](const Session& s) { return s.id == id; }), list.end());
    if (list.empty()) sessions_.erase(it);
    --live_;
    ++dead_;
  }

  // Moves the restored sessions' rows out of the parts' generations into a new one, and frees
  // those (with the rows of keys other instances now own, if the backend kept any).
  bool gather_generations(const std::vector<int64_t>& generations, std::string& error) {
    generation_ = *std::max_element(generations.begin(), generations.end()) + 1;
    flow_agg_table& into = state_.rows(generation_);
    for (const auto& [k, list] : sessions_)
      for (const Session& s : list) {
        const uint8_t* from = nullptr;
        for (int64_t g : generations)
          if (flow_agg_table* rows = state_.find_rows(g); rows && (from = row(*rows, k, s.id))) break;
        if (!from) return error = "a session's row is missing from the state", false;
        std::string address = row_key(k, s.id);
        int32_t is_new = 0;
        merge(into, into.upsert(reinterpret_cast<const uint8_t*>(address.data()), address.size(), &is_new), from);
      }
    for (int64_t g : generations) state_.drop(g);
    dead_ = 0;
    return true;
  }

  // Moves the live rows into a fresh namespace and frees the old one with its dead rows.
  void compact() {
    flow_agg_table& old_rows = state_.rows(generation_);
    flow_agg_table& new_rows = state_.rows(generation_ + 1);
    for (const auto& [k, list] : sessions_)
      for (const Session& s : list) {
        std::string address = row_key(k, s.id);
        int32_t is_new = 0;
        uint8_t* into = new_rows.upsert(reinterpret_cast<const uint8_t*>(address.data()), address.size(), &is_new);
        merge(new_rows, into, row(old_rows, k, s.id));
      }
    state_.drop(generation_);
    ++generation_;
    dead_ = 0;
  }

  std::unordered_map<std::string, std::vector<Session>> sessions_;  // per key, disjoint
  TimerService timers_;
  int64_t generation_ = 0;  // the state namespace holding the rows
  int64_t next_id_ = 0;
  std::size_t live_ = 0;
  std::size_t dead_ = 0;
  std::string last_key_;
  int64_t last_id_ = -1;
};

}  // namespace

std::unique_ptr<flow_window> make_session_windows(const WindowOperatorSpec& spec, flow_ctx& ctx, StateTable& state) {
  return std::make_unique<SessionWindows>(spec, ctx, state);
}

}  // namespace flow
