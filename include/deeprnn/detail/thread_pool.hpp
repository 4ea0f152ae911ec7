// The worker threads that split a large product with the calling thread.
#pragma once

// clang-format off: the check must come before any other include.
#include "header_check.hpp"
// clang-format on

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

namespace deeprnn::detail {

// A persistent pool for the fine-grained parallel loops of the time loop, which a product of
// every step would otherwise pay a thread start or an OpenMP region for.
//
// The calling thread always works on the loop itself, and tasks are claimed one at a time
// from a shared counter. A worker that starts late, for example because another process
// runs on its core, takes only the tasks that are left, and the caller waits only for tasks
// that a worker has claimed, never for a worker to wake up. So a loaded machine makes a
// parallel loop no slower than running it on the calling thread.
class ThreadPool {
 public:
  // The process-wide pool, created with its first use.
  static ThreadPool& instance() {
    static ThreadPool pool;
    return pool;
  }

  ThreadPool() = default;

  ThreadPool(const ThreadPool&) = delete;
  ThreadPool& operator=(const ThreadPool&) = delete;

  ~ThreadPool() {
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      stopping_.store(true);
    }
    wake_.notify_all();
    for (std::thread& worker : workers_) worker.join();
  }

  // Runs task(i) for every i in [0, count) on the calling thread and up to threads - 1 pool
  // threads, and returns when all have finished. Calls from several threads at once, and
  // calls from inside a task, run their loop on the calling thread alone.
  template <class Task>
  void run(std::int64_t count, int threads, const Task& task) {
    const bool parallel = threads > 1 && count > 1 && count < (std::int64_t(1) << 31);
    if (!parallel || busy_.exchange(true, std::memory_order_acquire)) {
      for (std::int64_t i = 0; i < count; ++i) task(i);
      return;
    }
    struct Release {
      std::atomic<bool>& busy;
      ~Release() { busy.store(false, std::memory_order_release); }
    } release{busy_};
    start_workers(threads - 1);

    // Publish the job, then the claim state of a new generation that makes it visible.
    invoke_.store(&invoke_task<Task>, std::memory_order_relaxed);
    context_.store(&task, std::memory_order_relaxed);
    count_.store(count, std::memory_order_relaxed);
    finished_.store(0, std::memory_order_relaxed);
    const std::uint32_t generation = generation_.load(std::memory_order_relaxed) + 1;
    claims_.store(pack_claim(generation, 0), std::memory_order_release);
    {
      std::lock_guard<std::mutex> lock(sleep_mutex_);
      generation_.store(generation, std::memory_order_release);
    }
    wake_.notify_all();

    work_on(generation);
    while (finished_.load(std::memory_order_acquire) < count) std::this_thread::yield();
  }

 private:
  template <class Task>
  static void invoke_task(const void* context, std::int64_t i) {
    (*static_cast<const Task*>(context))(i);
  }

  // Claim state: the generation in the high 32 bits, the next unclaimed index in the low.
  static std::uint64_t pack_claim(std::uint32_t generation, std::int64_t next) {
    return (static_cast<std::uint64_t>(generation) << 32) | static_cast<std::uint64_t>(next);
  }

  // Claims and runs tasks of `generation` until none is left. A claim succeeds only while
  // the claim state still belongs to that generation, which proves that the job read before
  // it is the job of that generation.
  void work_on(std::uint32_t generation) {
    std::uint64_t claims = claims_.load(std::memory_order_acquire);
    while (true) {
      if (static_cast<std::uint32_t>(claims >> 32) != generation) return;
      const auto next = static_cast<std::int64_t>(claims & 0xffffffffu);
      const auto invoke = invoke_.load(std::memory_order_relaxed);
      const void* const context = context_.load(std::memory_order_relaxed);
      const std::int64_t count = count_.load(std::memory_order_relaxed);
      if (next >= count) return;
      if (claims_.compare_exchange_weak(claims, pack_claim(generation, next + 1),
                                        std::memory_order_acq_rel, std::memory_order_acquire)) {
        invoke(context, next);
        finished_.fetch_add(1, std::memory_order_acq_rel);
        claims = claims_.load(std::memory_order_acquire);
      }
    }
  }

  void start_workers(int count) {
    while (static_cast<int>(workers_.size()) < count) {
      workers_.emplace_back([this] { worker_loop(); });
    }
  }

  // Waits for each new generation. The products of a time loop follow each other within
  // microseconds and waking from a condition variable takes several, so a worker spins first.
  // It spins long after a short wait and briefly after a long one, so that loops far apart
  // (one per layer and call, say) do not cost the CPU time of a long spin each.
  void worker_loop() {
    using Clock = std::chrono::steady_clock;
    std::uint32_t seen = generation_.load(std::memory_order_acquire);
    int spin_limit = min_spin;
    while (true) {
      const Clock::time_point wait_start = Clock::now();
      bool arrived = false;
      for (int spin = 0; spin < spin_limit && !arrived; ++spin) {
        arrived = generation_.load(std::memory_order_relaxed) != seen;
        if (!arrived) pause();
      }
      if (!arrived) {
        std::unique_lock<std::mutex> lock(sleep_mutex_);
        wake_.wait(lock, [&] {
          return stopping_.load() || generation_.load(std::memory_order_acquire) != seen;
        });
      }
      if (stopping_.load()) return;
      spin_limit = Clock::now() - wait_start < short_wait ? max_spin : min_spin;
      seen = generation_.load(std::memory_order_acquire);
      work_on(seen);
    }
  }

  static void pause() {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
  }

  // Spin lengths in pause instructions (an estimate: tens of cycles each on recent x86 cores).
  static constexpr int min_spin = 64;
  static constexpr int max_spin = 8192;
  // Waits shorter than this are the gaps between the products of one time loop.
  static constexpr std::chrono::microseconds short_wait{200};

  std::atomic<bool> busy_{false};
  // A sleeping worker waits on wake_. generation_ and stopping_ change under sleep_mutex_, so
  // that no wake-up falls between a worker's check and its wait.
  std::mutex sleep_mutex_;
  std::condition_variable wake_;
  std::vector<std::thread> workers_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint32_t> generation_{0};
  std::atomic<std::uint64_t> claims_{0};
  std::atomic<void (*)(const void*, std::int64_t)> invoke_{nullptr};
  std::atomic<const void*> context_{nullptr};
  std::atomic<std::int64_t> count_{0};
  std::atomic<std::int64_t> finished_{0};
};

}  // namespace deeprnn::detail
