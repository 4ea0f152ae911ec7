// The pool that splits large products: every task runs exactly once, on any of its threads.
#include <atomic>
#include <catch2/catch.hpp>
#include <chrono>
#include <cstdint>
#include <deeprnn/core.hpp>
#include <deeprnn/detail/thread_pool.hpp>
#include <thread>
#include <vector>

using deeprnn::detail::ThreadPool;

TEST_CASE("thread pool runs every task once", "[thread_pool]") {
  for (const int threads : {1, 2, 4}) {
    for (const std::int64_t count : {0, 1, 2, 3, 17, 1000}) {
      std::vector<std::atomic<int>> runs(static_cast<std::size_t>(count));
      for (auto& run : runs) run.store(0);
      const auto task = [&](std::int64_t i) { runs[static_cast<std::size_t>(i)].fetch_add(1); };
      ThreadPool::instance().run(count, threads, task);

      INFO("threads " << threads << ", tasks " << count);
      for (const auto& run : runs) REQUIRE(run.load() == 1);
    }
  }
}

TEST_CASE("thread pool runs many loops in a row", "[thread_pool]") {
  // Back-to-back loops, as the steps of a sequence issue them: a worker that wakes late for
  // one loop must never run a task of the next with the old loop's task.
  std::atomic<std::int64_t> total{0};
  for (int loop = 0; loop < 2000; ++loop) {
    const auto task = [&total, loop](std::int64_t i) { total.fetch_add(loop * 10 + i); };
    ThreadPool::instance().run(10, 2, task);
  }
  std::int64_t expected = 0;
  for (int loop = 0; loop < 2000; ++loop) {
    for (int i = 0; i < 10; ++i) expected += loop * 10 + i;
  }
  REQUIRE(total.load() == expected);
}

TEST_CASE("thread pool shuts down at any point", "[thread_pool]") {
  // Pools destroyed right after a loop (workers still spinning) and after a pause (workers
  // asleep): the destructor must wake and join them every time.
  std::atomic<int> runs{0};
  const auto task = [&runs](std::int64_t) { runs.fetch_add(1); };
  for (int pool_index = 0; pool_index < 100; ++pool_index) {
    ThreadPool pool;
    pool.run(8, 3, task);
    if (pool_index % 10 == 0) std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  REQUIRE(runs.load() == 800);
}

TEST_CASE("thread pool nested and concurrent calls", "[thread_pool]") {
  // A task that starts a loop itself, and two threads that start loops at the same time:
  // the loops that find the pool busy run on their calling thread.
  std::atomic<int> inner_runs{0};
  const auto inner = [&inner_runs](std::int64_t) { inner_runs.fetch_add(1); };
  const auto outer = [&inner](std::int64_t) { ThreadPool::instance().run(5, 2, inner); };
  ThreadPool::instance().run(4, 2, outer);
  REQUIRE(inner_runs.load() == 20);

  std::atomic<int> concurrent_runs{0};
  const auto count_task = [&concurrent_runs](std::int64_t) { concurrent_runs.fetch_add(1); };
  std::vector<std::thread> callers;
  for (int caller = 0; caller < 3; ++caller) {
    callers.emplace_back([&count_task] {
      for (int loop = 0; loop < 200; ++loop) ThreadPool::instance().run(7, 2, count_task);
    });
  }
  for (std::thread& caller : callers) caller.join();
  REQUIRE(concurrent_runs.load() == 3 * 200 * 7);
}
