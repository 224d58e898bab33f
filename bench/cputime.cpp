// bench_cputime CMD ARGS...: runs the command and prints, on stderr after the command's own
// output, `cpu_seconds=<user+sys of the child> max_rss_mb=<peak resident set> wall_seconds=<elapsed>`
// from getrusage and the monotonic clock.
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: %s CMD ARGS...\n", argv[0]);
    return 2;
  }
  auto start = std::chrono::steady_clock::now();
  pid_t child = fork();
  if (child == 0) {
    execvp(argv[1], argv + 1);
    std::perror(argv[1]);
    _exit(127);
  }
  int status = 0;
  waitpid(child, &status, 0);
  double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  rusage usage{};
  getrusage(RUSAGE_CHILDREN, &usage);
  double cpu = usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 + usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
  std::fprintf(stderr, "cpu_seconds=%.4f max_rss_mb=%.1f wall_seconds=%.4f\n", cpu, usage.ru_maxrss / 1024.0, wall);
  return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
