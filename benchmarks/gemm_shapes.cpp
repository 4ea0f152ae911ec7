// The matrix products alone, at the shapes the benchmark stacks use, through Eigen's product
// and through deeprnn's packed kernel. A is packed once outside the timed loop, as a call of
// the time loop does. The rates are the ceiling that the cells' per-step and whole-sequence
// products can reach on this machine (1 thread). Times and rates use the CPU time of the benchmark
// thread (Google Benchmark's default), which other processes on the machine disturb less than the
// wall time.
#include <benchmark/benchmark.h>

#include <Eigen/Core>
#include <deeprnn/core.hpp>
#include <deeprnn/detail/packed_gemm.hpp>
#include <string>

namespace {

// C (M x N) += op(A) * B with A stored M x K, or K x M when `transposed_lhs` is set, as in the
// backward recurrent product W_hh^T da.
template <class Scalar>
void multiply(benchmark::State& state, Eigen::Index M, Eigen::Index K, Eigen::Index N,
              bool transposed_lhs, bool packed_kernel) {
  using Matrix = Eigen::Matrix<Scalar, Eigen::Dynamic, Eigen::Dynamic>;
  const Matrix a = transposed_lhs ? Matrix::Random(K, M) : Matrix::Random(M, K);
  const Matrix b = Matrix::Random(K, N);
  Matrix c = Matrix::Zero(M, N);
  deeprnn::detail::PackedMatrix<Scalar> packed;
  if (transposed_lhs) {
    packed.pack(a.transpose());
  } else {
    packed.pack(a);
  }
  for (auto _ : state) {
    if (packed_kernel) {
      packed.multiply(b, c, true);
    } else if (transposed_lhs) {
      c.noalias() += a.transpose() * b;
    } else {
      c.noalias() += a * b;
    }
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  state.counters["FLOP/s"] = benchmark::Counter(2.0 * double(M) * double(N) * double(K),
                                                benchmark::Counter::kIsIterationInvariantRate);
}

struct Shape {
  const char* name;
  Eigen::Index M, K, N;
  bool transposed_lhs;
};

constexpr Shape shapes[] = {
    {"a_lstm_recurrent", 1024, 256, 32, false},
    {"a_lstm_recurrent_backward", 256, 1024, 32, true},
    {"a_lstm_input_projection", 1024, 256, 3200, false},
    {"b_lstm_recurrent", 2048, 512, 64, false},
    {"c_lstm_recurrent", 512, 128, 1, false},
    {"b_lstm_input_projection", 2048, 512, 3200, false},
    {"d_lstm_recurrent", 2600, 650, 20, false},
    {"e_lstm_recurrent", 256, 64, 16, false},
    {"square_1024", 1024, 1024, 1024, false},
};

}  // namespace

int main(int argc, char** argv) {
  Eigen::setNbThreads(1);
  for (const Shape& shape : shapes) {
    for (const bool is_double : {false, true}) {
      for (const bool packed : {false, true}) {
        const std::string name = std::string("gemm/") + shape.name +
                                 (is_double ? "/double" : "/float") +
                                 (packed ? "/packed" : "/eigen");
        const auto run = [shape, is_double, packed](benchmark::State& state) {
          if (is_double) {
            multiply<double>(state, shape.M, shape.K, shape.N, shape.transposed_lhs, packed);
          } else {
            multiply<float>(state, shape.M, shape.K, shape.N, shape.transposed_lhs, packed);
          }
        };
        benchmark::RegisterBenchmark(name.c_str(), run)->Unit(benchmark::kMicrosecond);
      }
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
