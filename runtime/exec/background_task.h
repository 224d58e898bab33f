// BackgroundTask: one piece of work at a time on a thread of its own, whose result the
// starting thread collects later. The asynchronous part of a checkpoint runs on it (writing
// and fsyncing files, the metadata, the sinks' commits) while the job goes on processing.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace flow {

class BackgroundTask {
 public:
  // The work returns false, with `error` set, when it failed.
  using Work = std::function<bool(std::string& error)>;

  BackgroundTask() = default;
  BackgroundTask(const BackgroundTask&) = delete;
  BackgroundTask& operator=(const BackgroundTask&) = delete;
  ~BackgroundTask() {
    if (thread_.joinable()) thread_.join();
  }

  // Starts `work`; the work started before must have been collected.
  void start(Work work) {
    finished_.store(false, std::memory_order_relaxed);
    ok_ = false;
    error_.clear();
    thread_ = std::thread([this, work = std::move(work)] {
      ok_ = work(error_);
      finished_.store(true, std::memory_order_release);
    });
  }
  // Started and not yet collected.
  bool running() const { return thread_.joinable(); }
  // Its work has returned (collecting it will not wait).
  bool finished() const { return finished_.load(std::memory_order_acquire); }
  // Waits for the work and returns its result (true when nothing was running); `error` says
  // why it failed.
  bool collect(std::string& error) {
    if (!thread_.joinable()) return true;
    thread_.join();
    if (!ok_) error = error_;
    return ok_;
  }

 private:
  std::thread thread_;
  std::atomic<bool> finished_{false};
  bool ok_ = false;  // written by the work's thread, read after join()
  std::string error_;
};

}  // namespace flow
