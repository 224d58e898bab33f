// JobFailure: the first error of a running job. Whoever fails records the message here (without
// the `error: ` prefix) and returns a non-zero status; the runner prints it and exits with 3.
#pragma once

#include <string>

namespace flow {

struct JobFailure {
  bool failed = false;
  std::string message;

  // Keeps the first message: later ones are usually consequences of it.
  void record(std::string text) {
    if (failed) return;
    failed = true;
    message = std::move(text);
  }
};

}  // namespace flow
