// Entry point of deeprnn_benchmarks_1thread and deeprnn_benchmarks_2threads; the thread count
// of Eigen's OpenMP-parallel matrix products is fixed at compile time by
// DEEPRNN_BENCHMARK_THREADS.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <cstdio>
#include <string>
#include <string_view>

#include "stack_benchmarks.hpp"

#ifndef DEEPRNN_BENCHMARK_THREADS
#error "Define DEEPRNN_BENCHMARK_THREADS to the number of threads Eigen may use"
#endif

int main(int argc, char** argv) {
  Eigen::setNbThreads(DEEPRNN_BENCHMARK_THREADS);
  if (Eigen::nbThreads() != DEEPRNN_BENCHMARK_THREADS) {
    std::fprintf(stderr,
                 "Eigen runs %d threads, expected %d; build with OpenMP (-fopenmp) so that "
                 "Eigen::setNbThreads takes effect\n",
                 Eigen::nbThreads(), DEEPRNN_BENCHMARK_THREADS);
    return 1;
  }
  deeprnn::benchmarks::register_benchmarks();

  // Child mode of the peak-memory probe: --deeprnn_peak_memory=<training benchmark name>.
  constexpr std::string_view memory_flag = "--deeprnn_peak_memory=";
  if (argc == 2 && std::string_view(argv[1]).starts_with(memory_flag)) {
    return deeprnn::benchmarks::print_peak_memory(
        std::string(std::string_view(argv[1]).substr(memory_flag.size())));
  }

  benchmark::AddCustomContext("eigen_threads", std::to_string(Eigen::nbThreads()));
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
