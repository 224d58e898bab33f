// Unit tests of exec/background_task.h: the work runs on another thread while the caller goes
// on; collect() waits for it and hands back its result and its error.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "exec/background_task.h"

TEST_CASE("background task: runs while the caller goes on, and collect() returns its result") {
  flow::BackgroundTask task;
  std::string error;
  CHECK_FALSE(task.running());
  CHECK(task.collect(error));  // nothing running: nothing failed

  std::atomic<bool> release{false};
  std::thread::id worker;
  task.start([&](std::string&) {
    worker = std::this_thread::get_id();
    while (!release.load()) std::this_thread::yield();
    return true;
  });
  CHECK(task.running());
  CHECK_FALSE(task.finished());  // held until released: the caller is not blocked
  release = true;
  CHECK(task.collect(error));
  CHECK(worker != std::this_thread::get_id());
  CHECK_FALSE(task.running());

  task.start([](std::string& why) {
    why = "disk full";
    return false;
  });
  while (!task.finished()) std::this_thread::yield();
  CHECK_FALSE(task.collect(error));
  CHECK(error == "disk full");
}
