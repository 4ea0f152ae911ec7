// The line protocol and timing loop of the native comparison workers (deeprnn, oneDNN);
// torch_worker.py implements the same protocol in Python. compare.py starts each worker once
// and sends it one request per measurement, so the three implementations can alternate.
//
//   run <cell> <scalar> <mode> <layers> <batch> <steps> <input> <hidden> <threads> <min_seconds>
//   -> ok <seconds per run> <timed runs> <warm-up runs> <process CPU seconds per run>
//   -> error <message>
//   info -> ok <description of the implementation>
//   quit
//
// Timing: the worker keeps the case of the last request. A new case is built, then warmed up
// by at least one run and 0.1 s. A repeated case is re-warmed for 20 ms unless one run takes
// longer. Timed runs repeat until min_seconds have passed (at least one run), and the reply
// gives their mean. The CPU time covers all threads of the process, so CPU / (wall * threads)
// well below 1 shows that other processes took the cores during the measurement.
#pragma once

#include <time.h>

#include <chrono>
#include <exception>
#include <functional>
#include <iostream>
#include <sstream>
#include <string>

namespace deeprnn_compare {

struct Request {
  std::string cell;
  std::string scalar;
  std::string mode;
  long layers = 0;
  long batch = 0;
  long steps = 0;
  long input = 0;
  long hidden = 0;
  int threads = 0;
  double min_seconds = 0.0;

  // Everything but min_seconds: requests with equal keys reuse the built case.
  std::string key() const {
    std::ostringstream out;
    out << cell << ' ' << scalar << ' ' << mode << ' ' << layers << ' ' << batch << ' ' << steps
        << ' ' << input << ' ' << hidden << ' ' << threads;
    return out.str();
  }
};

// Builds the case of a request (after setting the thread count) and returns one run of it.
// Throws std::exception with a message for a request the implementation cannot run.
using CaseFactory = std::function<std::function<void()>(const Request&)>;

inline double process_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return double(now.tv_sec) + 1e-9 * double(now.tv_nsec);
}

// Serves requests from stdin until "quit" or end of input.
inline int serve(const CaseFactory& make_case, const std::string& info) {
  using Clock = std::chrono::steady_clock;
  const auto seconds_since = [](Clock::time_point start) {
    return std::chrono::duration<double>(Clock::now() - start).count();
  };

  std::function<void()> run_case;
  std::string key;
  double last_run_seconds = 0.0;
  const auto timed_warmup_run = [&] {
    const auto start = Clock::now();
    run_case();
    last_run_seconds = seconds_since(start);
  };

  std::string line;
  while (std::getline(std::cin, line)) {
    std::istringstream in(line);
    std::string command;
    in >> command;
    if (command == "quit") break;
    if (command == "info") {
      std::cout << "ok " << info << std::endl;
      continue;
    }
    if (command != "run") {
      std::cout << "error unknown command '" << command << "', expected run, info or quit"
                << std::endl;
      continue;
    }
    Request request;
    in >> request.cell >> request.scalar >> request.mode >> request.layers >> request.batch >>
        request.steps >> request.input >> request.hidden >> request.threads >> request.min_seconds;
    if (!in) {
      std::cout << "error malformed run request: " << line << std::endl;
      continue;
    }

    try {
      int warmup_runs = 0;
      if (request.key() != key) {
        run_case = nullptr;
        key.clear();
        run_case = make_case(request);
        key = request.key();
        const auto start = Clock::now();
        do {
          timed_warmup_run();
          ++warmup_runs;
        } while (seconds_since(start) < 0.1);
      } else {
        const auto start = Clock::now();
        while (last_run_seconds < 0.02 && seconds_since(start) < 0.02) {
          timed_warmup_run();
          ++warmup_runs;
        }
      }

      int runs = 0;
      const double cpu_start = process_cpu_seconds();
      const auto start = Clock::now();
      double elapsed = 0.0;
      do {
        run_case();
        ++runs;
        elapsed = seconds_since(start);
      } while (elapsed < request.min_seconds);
      const double cpu = process_cpu_seconds() - cpu_start;
      last_run_seconds = elapsed / runs;

      std::ostringstream reply;
      reply.precision(9);
      reply << "ok " << elapsed / runs << ' ' << runs << ' ' << warmup_runs << ' ' << cpu / runs;
      std::cout << reply.str() << std::endl;
    } catch (const std::exception& error) {
      run_case = nullptr;
      key.clear();
      std::cout << "error " << error.what() << std::endl;
    }
  }
  return 0;
}

}  // namespace deeprnn_compare
