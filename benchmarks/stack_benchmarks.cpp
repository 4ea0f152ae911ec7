// Google Benchmark registrations of every deeprnn case, and the peak-memory probe that runs a
// training step in a fresh process.
#include "stack_benchmarks.hpp"

#include <benchmark/benchmark.h>
#include <unistd.h>

#include <array>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <utility>

#include "extra_cases.hpp"
#include "workloads.hpp"

namespace deeprnn::benchmarks {
namespace {

using CaseFactory = std::function<std::unique_ptr<Case>()>;

// Training cases by benchmark name, so that a child process can rebuild one for the
// peak-memory probe.
std::map<std::string, CaseFactory>& training_factories() {
  static std::map<std::string, CaseFactory> factories;
  return factories;
}

// Reads a "Name:   1234 kB" line of /proc/self/status, in bytes.
double read_status_bytes(const std::string& field) {
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind(field + ":", 0) == 0) return std::stod(line.substr(field.size() + 1)) * 1024.0;
  }
  throw std::runtime_error("/proc/self/status has no " + field + " line");
}

std::string executable_path() {
  std::array<char, 4096> buffer{};
  const ssize_t length = readlink("/proc/self/exe", buffer.data(), buffer.size() - 1);
  if (length <= 0) throw std::runtime_error("readlink(/proc/self/exe) failed");
  return std::string(buffer.data(), static_cast<std::size_t>(length));
}

// Peak resident memory that one training step of `name` adds to a fresh process, in bytes,
// measured by a child process (see print_peak_memory). Cached per name. Returns -1 when the
// child fails.
double peak_memory_of_training_step(const std::string& name) {
  static std::map<std::string, double> cache;
  if (const auto found = cache.find(name); found != cache.end()) return found->second;

  const std::string command = executable_path() + " --deeprnn_peak_memory='" + name + "'";
  double bytes = -1.0;
  if (FILE* pipe = popen(command.c_str(), "r")) {
    if (std::fscanf(pipe, "%lf", &bytes) != 1) bytes = -1.0;
    if (pclose(pipe) != 0) bytes = -1.0;
  }
  cache.emplace(name, bytes);
  return bytes;
}

// Runs one case; GFLOP/s and, for training, the peak memory of one step become counters.
// The case is built once per benchmark (Google Benchmark calls this function several times
// while it picks the iteration count) and warmed up by one untimed run.
void run_case(benchmark::State& state, const std::string& name, const CaseFactory& factory,
              double flops_per_run, bool measure_memory) {
  static std::string cached_name;
  static std::unique_ptr<Case> cached;
  if (cached_name != name) {
    cached.reset();
    cached = factory();
    cached_name = name;
    cached->run();
  }

  for (auto _ : state) cached->run();

  if (flops_per_run > 0) {
    state.counters["FLOP/s"] =
        benchmark::Counter(flops_per_run, benchmark::Counter::kIsIterationInvariantRate);
  }
  if (measure_memory) {
    state.counters["peak_RSS"] =
        benchmark::Counter(peak_memory_of_training_step(name), benchmark::Counter::kDefaults,
                           benchmark::Counter::OneK::kIs1024);
  }
}

void register_case(const std::string& name, CaseFactory factory, double flops_per_run,
                   bool is_training, benchmark::TimeUnit unit) {
  if (is_training) training_factories().emplace(name, factory);
  benchmark::RegisterBenchmark(
      name.c_str(),
      [name, factory, flops_per_run, is_training](benchmark::State& state) {
        run_case(state, name, factory, flops_per_run, is_training);
      })
      ->UseRealTime()
      ->Unit(unit);
}

template <class S>
const char* scalar_name() {
  return std::is_same_v<S, float> ? "float" : "double";
}

template <class S>
void register_stacks() {
  for (const StackKind kind : stack_kinds) {
    for (const Workload& w : workloads) {
      for (const Mode mode : {Mode::inference, Mode::training}) {
        const std::string name = "stack/" + std::string(stack_kind_name(kind)) + "/" + w.id + "/" +
                                 scalar_name<S>() + "/" + std::string(mode_name(mode));
        const double flops =
            mode == Mode::inference ? forward_flops(kind, w) : training_flops(kind, w);
        register_case(
            name, [kind, w, mode] { return make_case<S>(kind, w, mode); }, flops,
            mode == Mode::training, benchmark::kMillisecond);
      }
    }
  }
}

// Workload (a) with and without a SummaryRNN<GRU> over the final states; the FLOP counter
// covers the stack only, so the two rates differ by the summary's share of the time.
template <class S>
void register_summary_overhead() {
  const Workload& w = find_workload('a');
  for (const bool with_summary : {false, true}) {
    for (const Mode mode : {Mode::inference, Mode::training}) {
      const std::string name = std::string("summary/a/") + scalar_name<S>() + "/" +
                               (with_summary ? "gru_stack_and_summary" : "gru_stack_only") + "/" +
                               std::string(mode_name(mode));
      const double flops = mode == Mode::inference ? forward_flops(StackKind::gru, w)
                                                   : training_flops(StackKind::gru, w);
      register_case(
          name,
          [w, mode, with_summary] {
            return std::make_unique<SummaryCase<S>>(w, mode, with_summary);
          },
          flops, mode == Mode::training, benchmark::kMillisecond);
    }
  }
}

// Latency of StackedRNN::step() on workload (c): one step through all three layers.
template <class S>
void register_streaming() {
  const Workload& w = find_workload('c');
  for (const StackKind kind : stack_kinds) {
    const std::string name =
        "stream_step/" + std::string(stack_kind_name(kind)) + "/c/" + scalar_name<S>();
    Workload one_step = w;
    one_step.steps = 1;
    register_case(
        name, [kind, w] { return make_stream_case<S>(kind, w); }, forward_flops(kind, one_step),
        false, benchmark::kMicrosecond);
  }
}

}  // namespace

void register_benchmarks() {
  register_stacks<float>();
  register_stacks<double>();
  register_summary_overhead<float>();
  register_summary_overhead<double>();
  register_streaming<float>();
  register_streaming<double>();
}

int print_peak_memory(const std::string& name) {
  const auto found = training_factories().find(name);
  if (found == training_factories().end()) {
    std::fprintf(stderr, "no training benchmark is named '%s'\n", name.c_str());
    return 1;
  }

  // Writing 5 to clear_refs resets VmHWM to the current resident size (Linux 4.0 and later),
  // so the peak below belongs to the training step alone.
  if (std::FILE* clear = std::fopen("/proc/self/clear_refs", "w")) {
    std::fputs("5", clear);
    std::fclose(clear);
  }
  const double before = read_status_bytes("VmRSS");
  std::unique_ptr<Case> training_case = found->second();
  training_case->run();
  const double peak = read_status_bytes("VmHWM");
  std::printf("%.0f\n", peak - before);
  return 0;
}

}  // namespace deeprnn::benchmarks
