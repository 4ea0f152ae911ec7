// The packed product behind every recurrent step, against a plain triple loop in long double.
#include <catch2/catch.hpp>
#include <deeprnn/core.hpp>
#include <deeprnn/detail/packed_gemm.hpp>
#include <random>

using deeprnn::Index;
using deeprnn::Matrix;

namespace {

template <class Scalar>
Matrix<Scalar> random_matrix(Index rows, Index cols, std::mt19937& random) {
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  Matrix<Scalar> m(rows, cols);
  for (Index j = 0; j < cols; ++j)
    for (Index i = 0; i < rows; ++i) m(i, j) = static_cast<Scalar>(uniform(random));
  return m;
}

// sum_k a(i, k) b(k, j), summed in long double.
template <class A, class B>
long double reference_entry(const A& a, const B& b, Index i, Index j) {
  long double sum = 0;
  for (Index k = 0; k < a.cols(); ++k) {
    sum += static_cast<long double>(a(i, k)) * static_cast<long double>(b(k, j));
  }
  return sum;
}

// Runs c (+)= a * b with c and b as blocks inside larger matrices filled with a sentinel, and
// checks every entry of the block against the reference and every entry outside it for the
// sentinel. `transposed` packs weight^T instead of weight. B is read in place, or packed by
// the product when it is passed as the transpose of an N x K block.
template <class Scalar>
void check_product(Index M, Index K, Index N, bool transposed, bool accumulate,
                   std::mt19937& random) {
  const Matrix<Scalar> weight =
      transposed ? random_matrix<Scalar>(K, M, random) : random_matrix<Scalar>(M, K, random);
  const Matrix<Scalar> b_storage = random_matrix<Scalar>(K + 3, N + 2, random);
  const auto b = b_storage.block(2, 1, K, N);
  const Matrix<Scalar> b_rows_storage = random_matrix<Scalar>(N + 1, K + 2, random);
  const auto b_rows = b_rows_storage.block(1, 2, N, K);
  constexpr Scalar sentinel = Scalar(1234.5);
  Matrix<Scalar> c_storage = Matrix<Scalar>::Constant(M + 5, N + 3, sentinel);
  const Matrix<Scalar> c_start = random_matrix<Scalar>(M, N, random);
  auto c = c_storage.block(1, 2, M, N);
  c = c_start;
  Matrix<Scalar> c_storage_packed_b = c_storage;

  deeprnn::detail::PackedMatrix<Scalar> packed;
  if (transposed) {
    packed.pack(weight.transpose());
  } else {
    packed.pack(weight);
  }
  REQUIRE(packed.rows() == M);
  REQUIRE(packed.cols() == K);
  packed.multiply(b, c, accumulate);
  auto c_packed_b = c_storage_packed_b.block(1, 2, M, N);
  c_packed_b = c_start;
  packed.multiply(b_rows.transpose(), c_packed_b, accumulate);

  const double tolerance = std::is_same_v<Scalar, float> ? 1e-5 : 1e-13;
  for (Index j = 0; j < N; ++j) {
    for (Index i = 0; i < M; ++i) {
      const long double product = transposed ? reference_entry(weight.transpose(), b, i, j)
                                             : reference_entry(weight, b, i, j);
      const long double expected = accumulate ? product + c_start(i, j) : product;
      const double error = std::abs(static_cast<double>(c(i, j) - expected));
      const long double product_packed_b =
          transposed ? reference_entry(weight.transpose(), b_rows.transpose(), i, j)
                     : reference_entry(weight, b_rows.transpose(), i, j);
      const long double expected_packed_b =
          accumulate ? product_packed_b + c_start(i, j) : product_packed_b;
      const double error_packed_b =
          std::abs(static_cast<double>(c_packed_b(i, j) - expected_packed_b));
      INFO("M=" << M << " K=" << K << " N=" << N << " transposed=" << transposed
                << " accumulate=" << accumulate << " entry (" << i << ", " << j << ")");
      REQUIRE(error <= tolerance * (1.0 + std::sqrt(static_cast<double>(K))));
      REQUIRE(error_packed_b <= tolerance * (1.0 + std::sqrt(static_cast<double>(K))));
    }
  }
  for (Index j = 0; j < c_storage.cols(); ++j) {
    for (Index i = 0; i < c_storage.rows(); ++i) {
      const bool inside = i >= 1 && i < 1 + M && j >= 2 && j < 2 + N;
      if (!inside) REQUIRE(c_storage(i, j) == sentinel);
      if (!inside) REQUIRE(c_storage_packed_b(i, j) == sentinel);
    }
  }
}

}  // namespace

TEMPLATE_TEST_CASE("packed product at edge shapes", "[packed_gemm]", float, double) {
  using Shape = deeprnn::detail::PackedKernelShape<TestType>;
  const Index panel = Shape::panel_rows;
  const Index packet = Shape::packet_size;
  const Index width = Shape::block_columns;
  std::mt19937 random(7);

  // Rows around packet and panel boundaries, columns around the column block, and depths of
  // 1, odd, longer than the accumulator chains, and long enough to split B into chunks.
  const Index row_counts[] = {1,         packet - 1, packet,    packet + 1,
                              panel - 1, panel,      panel + 1, 2 * panel + packet + 3};
  const Index column_counts[] = {1, 2, 3, width - 1, width, width + 1, 2 * width + 3};
  const Index depths[] = {1, 5, 37, 3000};
  for (const Index M : row_counts) {
    if (M < 1) continue;
    for (const Index N : column_counts) {
      if (N < 1) continue;
      for (const Index K : depths) {
        for (const bool transposed : {false, true}) {
          for (const bool accumulate : {false, true}) {
            check_product<TestType>(M, K, N, transposed, accumulate, random);
          }
        }
      }
    }
  }
}

TEMPLATE_TEST_CASE("packed product of a row block", "[packed_gemm]", float, double) {
  std::mt19937 random(11);
  const Matrix<TestType> weight = random_matrix<TestType>(60, 23, random);
  const Matrix<TestType> b = random_matrix<TestType>(23, 9, random);
  const auto rows = weight.middleRows(20, 31);

  deeprnn::detail::PackedMatrix<TestType> packed;
  packed.pack(rows);
  Matrix<TestType> c(31, 9);
  packed.multiply(b, c, false);

  for (Index j = 0; j < 9; ++j) {
    for (Index i = 0; i < 31; ++i) {
      const double expected = static_cast<double>(reference_entry(rows, b, i, j));
      REQUIRE(std::abs(c(i, j) - expected) <= 1e-5);
    }
  }
}

TEST_CASE("packed product is equal on one and two threads", "[packed_gemm]") {
  // Packing (1000 x 300) and the product (2 * 1000 * 300 * 41 flops) are large enough to be
  // split across threads when OpenMP is enabled. Without OpenMP every run takes the same
  // path, so the test checks the result only.
  std::mt19937 random(3);
  const Index M = 1000;
  const Index K = 300;
  const Index N = 41;
  const Matrix<double> weight = random_matrix<double>(M, K, random);
  const Matrix<double> b = random_matrix<double>(K, N, random);

  const int threads_before = Eigen::nbThreads();
  deeprnn::detail::PackedMatrix<double> packed_on_one;
  deeprnn::detail::PackedMatrix<double> packed_on_two;
  Eigen::setNbThreads(1);
  packed_on_one.pack(weight);
  Eigen::setNbThreads(2);
  packed_on_two.pack(weight);

  Matrix<double> one_thread(M, N);
  Matrix<double> two_threads(M, N);
  Matrix<double> two_threads_packed_on_two(M, N);
  Eigen::setNbThreads(1);
  packed_on_one.multiply(b, one_thread, false);
  Eigen::setNbThreads(2);
  packed_on_one.multiply(b, two_threads, false);
  packed_on_two.multiply(b, two_threads_packed_on_two, false);
  Eigen::setNbThreads(threads_before);

  // Each entry is computed by one thread in the same order either way: equal bit for bit.
  REQUIRE(one_thread == two_threads);
  REQUIRE(one_thread == two_threads_packed_on_two);
  for (Index j = 0; j < N; j += 5) {
    for (Index i = 0; i < M; i += 37) {
      const double expected = static_cast<double>(reference_entry(weight, b, i, j));
      REQUIRE(std::abs(one_thread(i, j) - expected) <= 1e-12);
    }
  }
}

TEST_CASE("empty packed matrix falls back to Eigen", "[packed_gemm]") {
  std::mt19937 random(5);
  const Matrix<double> weight = random_matrix<double>(13, 6, random);
  const Matrix<double> b = random_matrix<double>(6, 2, random);
  deeprnn::detail::PackedMatrix<double> packed;
  deeprnn::detail::pack_for_steps(packed, weight, 1);
  REQUIRE(packed.empty());

  Matrix<double> c = Matrix<double>::Ones(13, 2);
  deeprnn::detail::multiply_weight(packed, weight, b, c, true);
  for (Index j = 0; j < 2; ++j) {
    for (Index i = 0; i < 13; ++i) {
      const double expected = 1.0 + static_cast<double>(reference_entry(weight, b, i, j));
      REQUIRE(std::abs(c(i, j) - expected) <= 1e-13);
    }
  }

  deeprnn::detail::pack_for_steps(packed, weight, 2);
  REQUIRE_FALSE(packed.empty());
}
