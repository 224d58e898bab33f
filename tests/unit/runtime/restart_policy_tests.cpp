// Unit tests of the restart strategies: how many restarts each allows and after what delay.
#include <doctest/doctest.h>

#include <string>
#include <vector>

#include "exec/restart_policy.h"

TEST_CASE("restart policy: none, fixed-delay, failure-rate and exponential-delay decide as Flink's do") {
  flow::RestartPolicy p;
  std::string error;
  int64_t delay = -1;
  REQUIRE(flow::RestartPolicy::parse("none", p, error));
  CHECK_FALSE(p.restart_after_failure(0, delay));

  REQUIRE(flow::RestartPolicy::parse("fixed-delay:2:250ms", p, error));
  CHECK(p.restart_after_failure(0, delay));
  CHECK(delay == 250);
  CHECK(p.restart_after_failure(1, delay));
  CHECK_FALSE(p.restart_after_failure(2, delay));
  CHECK(p.restarts() == 2);

  // At most 2 failures within 10 s: a third one inside the window ends it, later ones do not.
  REQUIRE(flow::RestartPolicy::parse("failure-rate:2:10s:1s", p, error));
  CHECK(p.restart_after_failure(0, delay));
  CHECK(delay == 1000);
  CHECK(p.restart_after_failure(5000, delay));
  CHECK(p.restart_after_failure(20000, delay));   // the first two are older than 10 s
  CHECK(p.restart_after_failure(21000, delay));
  CHECK_FALSE(p.restart_after_failure(22000, delay));

  REQUIRE(flow::RestartPolicy::parse("exponential-delay:100ms:350ms", p, error));
  std::vector<int64_t> delays;
  for (int i = 0; i < 4; ++i) {
    CHECK(p.restart_after_failure(i, delay));
    delays.push_back(delay);
  }
  CHECK(delays == std::vector<int64_t>{100, 200, 350, 350});
  REQUIRE(flow::RestartPolicy::parse("exponential-delay", p, error));
  CHECK(p.restart_after_failure(0, delay));
  CHECK(delay == 1000);

  for (const char* bad : {"", "fixed-delay", "fixed-delay:0:1s", "fixed-delay:x:1s", "failure-rate:1:1s", "exponential-delay:5s:1s",
                          "sometimes"}) {
    CAPTURE(bad);
    CHECK_FALSE(flow::RestartPolicy::parse(bad, p, error));
    CHECK(error.find("--restart: expected none") == 0);
  }
}
