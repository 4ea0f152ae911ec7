// Measures this machine's FP32 peak with register-only FMA loops (AVX-512 and AVX2 + FMA),
// on 1 thread and on every OpenMP thread at once. Prints one JSON object with GFLOP/s per core
// over elapsed time and over the threads' CPU time.
//
// Each loop keeps 12 independent accumulators, more than the FMA latency (4 cycles on current
// x86 cores) times the FMA issue width (2 per cycle), so the loop is bound by FMA throughput
// and touches no memory.
#include <immintrin.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>

namespace {

constexpr int accumulators = 12;
constexpr long iterations = 20'000'000;

// Every step maps a to a * 0.9999999 + 1e-7, which stays near 1: no overflow, no denormals.
__attribute__((target("avx512f"))) float fma_loop_avx512(long count) {
  const __m512 scale = _mm512_set1_ps(0.9999999f);
  const __m512 offset = _mm512_set1_ps(1e-7f);
  __m512 a[accumulators];
  for (int k = 0; k < accumulators; ++k) a[k] = _mm512_set1_ps(1.0f + 0.01f * k);
  for (long i = 0; i < count; ++i) {
    for (int k = 0; k < accumulators; ++k) a[k] = _mm512_fmadd_ps(a[k], scale, offset);
  }
  __m512 sum = a[0];
  for (int k = 1; k < accumulators; ++k) sum = _mm512_add_ps(sum, a[k]);
  // A store instead of _mm512_reduce_add_ps, which GCC 12 flags with -Wuninitialized.
  alignas(64) float lanes[16];
  _mm512_store_ps(lanes, sum);
  float total = 0.0f;
  for (const float lane : lanes) total += lane;
  return total;
}

__attribute__((target("avx2,fma"))) float fma_loop_avx2(long count) {
  const __m256 scale = _mm256_set1_ps(0.9999999f);
  const __m256 offset = _mm256_set1_ps(1e-7f);
  __m256 a[accumulators];
  for (int k = 0; k < accumulators; ++k) a[k] = _mm256_set1_ps(1.0f + 0.01f * k);
  for (long i = 0; i < count; ++i) {
    for (int k = 0; k < accumulators; ++k) a[k] = _mm256_fmadd_ps(a[k], scale, offset);
  }
  __m256 sum = a[0];
  for (int k = 1; k < accumulators; ++k) sum = _mm256_add_ps(sum, a[k]);
  alignas(32) float lanes[8];
  _mm256_store_ps(lanes, sum);
  float total = 0.0f;
  for (const float lane : lanes) total += lane;
  return total;
}

double thread_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
  return double(now.tv_sec) + 1e-9 * double(now.tv_nsec);
}

struct Rate {
  double wall = 0.0;  // GFLOP/s per thread over elapsed time
  double cpu = 0.0;   // GFLOP/s per thread over the thread's CPU time
};

// Best of `repeats` timings of the loop on `threads` threads at once. The rate over CPU time
// is what a core delivers while the thread runs, so other processes on the machine lower the
// wall-clock rate but hardly this one.
template <class Loop>
Rate best_rate_per_thread(Loop loop, int lanes, int threads, int repeats) {
  const double flops = 2.0 * lanes * accumulators * double(iterations);
  Rate best;
  volatile float sink = 0.0f;
  for (int r = 0; r < repeats; ++r) {
    double slowest_wall = 0.0;
    double slowest_cpu = 0.0;
#pragma omp parallel num_threads(threads) reduction(max : slowest_wall, slowest_cpu)
    {
      const auto start = std::chrono::steady_clock::now();
      const double cpu_start = thread_cpu_seconds();
      const float result = loop(iterations);
      const double cpu = thread_cpu_seconds() - cpu_start;
      const double wall =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
#pragma omp critical
      sink = sink + result;
      slowest_wall = std::max(slowest_wall, wall);
      slowest_cpu = std::max(slowest_cpu, cpu);
    }
    best.wall = std::max(best.wall, flops / slowest_wall / 1e9);
    best.cpu = std::max(best.cpu, flops / slowest_cpu / 1e9);
  }
  return best;
}

template <class Loop>
void print_rates(const char* isa, Loop loop, int lanes, int threads, int repeats) {
  const Rate one = best_rate_per_thread(loop, lanes, 1, repeats);
  const Rate all = best_rate_per_thread(loop, lanes, threads, repeats);
  std::printf(
      ", \"%s\": {\"gflops_per_core_1thread\": %.2f, \"gflops_per_core_1thread_cpu_time\": "
      "%.2f, \"gflops_per_core_all_threads\": %.2f, "
      "\"gflops_per_core_all_threads_cpu_time\": %.2f}",
      isa, one.wall, one.cpu, all.wall, all.cpu);
}

}  // namespace

int main() {
  const int max_threads = omp_get_max_threads();
  const bool has_avx512 = __builtin_cpu_supports("avx512f");
  const bool has_avx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  constexpr int repeats = 5;

  std::printf("{\"threads\": %d", max_threads);
  if (has_avx512) print_rates("avx512", fma_loop_avx512, 16, max_threads, repeats);
  if (has_avx2) print_rates("avx2", fma_loop_avx2, 8, max_threads, repeats);
  std::printf("}\n");
  return 0;
}
