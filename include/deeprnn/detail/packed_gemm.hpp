// Products C = A B and C += A B through a kernel that reads A from a packed copy: the
// recurrent product W_hh h of every time step (A packed once per call, reused T times) and the
// large products of a call (input projections and gradients, weight gradients).
#pragma once

// clang-format off: the check must come before any other include.
#include "header_check.hpp"
// clang-format on

#include <Eigen/Core>
#include <algorithm>
#include <cstddef>
#include <deeprnn/detail/thread_pool.hpp>
#include <type_traits>
#include <utility>
#include <vector>

namespace deeprnn::detail {

// Register block of the kernel: panel_rows rows (row_packets SIMD packets) times
// block_columns columns of C stay in registers while the kernel runs down the shared
// dimension. With 32 vector registers (AVX-512) that is 3 x 8 = 24 accumulators, with 16
// (AVX2, SSE, NEON) 2 x 6 = 12, leaving room for the A packets and one broadcast of B.
template <class Scalar>
struct PackedKernelShape {
  using Packet = typename Eigen::internal::packet_traits<Scalar>::type;
  static constexpr int packet_size = Eigen::internal::unpacket_traits<Packet>::size;
  static constexpr bool many_registers = EIGEN_ARCH_DEFAULT_NUMBER_OF_REGISTERS >= 32;
  static constexpr int row_packets = many_registers ? 3 : 2;
  static constexpr int block_columns = many_registers ? 8 : 6;
  static constexpr int panel_rows = row_packets * packet_size;
  // Independent accumulator chains the FMA latency needs to keep the unit busy.
  static constexpr int min_accumulators = 12;
};

// The kernel: c[0:rows, 0:Columns] (+)= panel * b for one panel of A (depth x R packets of
// rows, k-major) and one column block of B, either packed (depth x Columns, k-major) or read
// in place from a column-major matrix with leading dimension ldb. When the block has too few
// accumulators to hide the FMA latency, `Chains` sets of them take alternate k and are
// summed at the end.
template <class Scalar, int R, int Columns, bool PackedB>
void packed_kernel(const Scalar* panel, const Scalar* b, Index ldb, Index depth, Scalar* c,
                   Index ldc, Index rows, bool accumulate) {
  using Shape = PackedKernelShape<Scalar>;
  using Packet = typename Shape::Packet;
  using namespace Eigen::internal;
  constexpr int P = Shape::packet_size;
  constexpr int L = R * P;
  constexpr int Chains = std::clamp(Shape::min_accumulators / (R * Columns), 1, 4);

  Packet acc[Chains][R][Columns];
  for (int s = 0; s < Chains; ++s)
    for (int i = 0; i < R; ++i)
      for (int j = 0; j < Columns; ++j) acc[s][i][j] = pset1<Packet>(Scalar(0));

  // acc[s] += panel[k] * b[k] for one k.
  const auto step = [&](int s, Index k) {
    Packet a[R];
    for (int i = 0; i < R; ++i) a[i] = pload<Packet>(panel + k * L + i * P);
    for (int j = 0; j < Columns; ++j) {
      const Packet b_kj = pset1<Packet>(PackedB ? b[k * Columns + j] : b[k + j * ldb]);
      for (int i = 0; i < R; ++i) acc[s][i][j] = pmadd(a[i], b_kj, acc[s][i][j]);
    }
  };
  Index k = 0;
  for (; k + Chains <= depth; k += Chains) {
    for (int s = 0; s < Chains; ++s) step(s, k + s);
  }
  for (; k < depth; ++k) step(0, k);
  for (int s = 1; s < Chains; ++s)
    for (int i = 0; i < R; ++i)
      for (int j = 0; j < Columns; ++j) acc[0][i][j] = padd(acc[0][i][j], acc[s][i][j]);

  for (int j = 0; j < Columns; ++j) {
    Scalar* c_j = c + j * ldc;
    if (rows == L) {
      for (int i = 0; i < R; ++i) {
        const Packet sum =
            accumulate ? padd(ploadu<Packet>(c_j + i * P), acc[0][i][j]) : acc[0][i][j];
        pstoreu(c_j + i * P, sum);
      }
    } else {
      EIGEN_ALIGN_MAX Scalar column[L];
      for (int i = 0; i < R; ++i) pstore(column + i * P, acc[0][i][j]);
      for (Index r = 0; r < rows; ++r) c_j[r] = accumulate ? c_j[r] + column[r] : column[r];
    }
  }
}

// A copy of a matrix A (M x K) laid out for the kernel: row panels of panel_rows rows, each
// stored k-major (the rows of column k next to each other). The last panel is only as many
// packets high as the remaining rows need, padded with zeros, so a small M wastes little.
// Packing costs one pass over A, repaid by every product that reuses it.
template <class Scalar>
class PackedMatrix {
 public:
  using Shape = PackedKernelShape<Scalar>;

  template <class Derived>
  void pack(const Eigen::MatrixBase<Derived>& a) {
    rows_ = a.rows();
    cols_ = a.cols();
    data_.resize(static_cast<std::size_t>(panel_count() * Shape::panel_rows * cols_));
    const auto pack_panel = [&](Index p) {
      const Index first = p * Shape::panel_rows;
      const Index count = std::min<Index>(Shape::panel_rows, rows_ - first);
      const Index height = panel_packets(p) * Shape::packet_size;
      Scalar* panel = data_.data() + first * cols_;
      // Read along a's storage order: a row-major a (such as the transpose of a weight
      // matrix) row by row, a column-major one column by column.
      if constexpr (Derived::IsRowMajor) {
        for (Index r = 0; r < count; ++r) {
          for (Index k = 0; k < cols_; ++k) panel[k * height + r] = a.coeff(first + r, k);
        }
        for (Index r = count; r < height; ++r) {
          for (Index k = 0; k < cols_; ++k) panel[k * height + r] = Scalar(0);
        }
      } else {
        for (Index k = 0; k < cols_; ++k) {
          for (Index r = 0; r < count; ++r) panel[k * height + r] = a.coeff(first + r, k);
          for (Index r = count; r < height; ++r) panel[k * height + r] = Scalar(0);
        }
      }
    };

    // Large operands (d_gates of a long sequence) are packed by several threads, so that the
    // copy does not become the serial part of a parallel training step.
    const int threads = Eigen::nbThreads();
    if (threads > 1 && rows_ * cols_ >= parallel_pack_size * threads) {
      ThreadPool::instance().run(panel_count(), threads, pack_panel);
    } else {
      for (Index p = 0; p < panel_count(); ++p) pack_panel(p);
    }
  }

  // Forgets the packed copy, so that empty() is true until the next pack().
  void clear() {
    rows_ = 0;
    cols_ = 0;
  }

  bool empty() const { return rows_ == 0; }
  Index rows() const { return rows_; }
  Index cols() const { return cols_; }

  // c = A b, or c += A b when `accumulate`. b is any cols() x N expression (a block, a
  // transpose); c is rows() x N and may be a block with any outer stride. B is taken in
  // chunks of columns small enough to stay in the L2 cache while every panel of A runs over
  // them. Threads split the panels of each chunk.
  template <class Rhs>
  void multiply(const Eigen::MatrixBase<Rhs>& b, Eigen::Ref<Matrix<Scalar>> c, bool accumulate) {
    constexpr Index NR = Shape::block_columns;
    const Index K = cols_;
    const Index N = b.cols();
    const Index chunk_columns = std::max<Index>(
        NR, chunk_bytes / (static_cast<Index>(sizeof(Scalar)) * std::max<Index>(K, 1)) / NR * NR);
    // A column-major B with unit inner stride is read in place, anything else is packed.
    constexpr bool pack_b = !(bool(Eigen::internal::traits<Rhs>::Flags & Eigen::DirectAccessBit) &&
                              !Rhs::IsRowMajor && Rhs::InnerStrideAtCompileTime == 1);
    if constexpr (pack_b)
      packed_b_.resize(static_cast<std::size_t>(K * std::min(N, chunk_columns)));

    for (Index chunk = 0; chunk < N; chunk += chunk_columns) {
      const Index chunk_width = std::min(chunk_columns, N - chunk);

      // The chunk of B in column blocks of NR (the last one narrower), each k-major.
      for (Index j0 = 0; pack_b && j0 < chunk_width; j0 += NR) {
        const Index width = std::min<Index>(NR, chunk_width - j0);
        Scalar* block = packed_b_.data() + j0 * K;
        for (Index k = 0; k < K; ++k) {
          for (Index j = 0; j < width; ++j) block[k * width + j] = b(k, chunk + j0 + j);
        }
      }

      const auto multiply_panel = [&](Index p) {
        const Index first = p * Shape::panel_rows;
        const Index rows = std::min<Index>(Shape::panel_rows, rows_ - first);
        for (Index j0 = 0; j0 < chunk_width; j0 += NR) {
          const Index width = std::min<Index>(NR, chunk_width - j0);
          Scalar* c_block = c.data() + (chunk + j0) * c.outerStride() + first;
          const Scalar* a_panel = data_.data() + first * K;
          if constexpr (pack_b) {
            run_kernel<true>(panel_packets(p), width, a_panel, packed_b_.data() + j0 * K, 0, K,
                             c_block, c.outerStride(), rows, accumulate);
          } else {
            run_kernel<false>(panel_packets(p), width, a_panel,
                              b.derived().data() + (chunk + j0) * b.derived().outerStride(),
                              b.derived().outerStride(), K, c_block, c.outerStride(), rows,
                              accumulate);
          }
        }
      };
      const int threads = Eigen::nbThreads();
      if (threads > 1 && 2 * rows_ * K * chunk_width >= parallel_flops * threads) {
        ThreadPool::instance().run(panel_count(), threads, multiply_panel);
      } else {
        for (Index p = 0; p < panel_count(); ++p) multiply_panel(p);
      }
    }
  }

 private:
  // Work per thread below which a product stays on one thread, about 80 us at this kernel's
  // rate. Waking a worker costs several microseconds, and on small workloads the other core's
  // share of C then has to travel back through the shared cache. Measured on 2 cores, 2^22
  // split the 10 MFLOP input projections of LSTM (e), so 2 threads ran (e) 10-28% slower than
  // 1 thread, idle or with the other core busy. At 2^23 they ran as fast.
  static constexpr Index parallel_flops = Index(1) << 23;
  // Elements per thread below which packing stays on one thread.
  static constexpr Index parallel_pack_size = Index(1) << 17;
  // Size of one packed chunk of B: a quarter of a typical 1 MiB L2 cache.
  static constexpr Index chunk_bytes = Index(256) << 10;

  Index panel_count() const { return (rows_ + Shape::panel_rows - 1) / Shape::panel_rows; }

  // Packets in the height of panel p: row_packets, or fewer for the last one.
  Index panel_packets(Index p) const {
    const Index remaining = rows_ - p * Shape::panel_rows;
    const Index packets = (remaining + Shape::packet_size - 1) / Shape::packet_size;
    return std::min<Index>(Shape::row_packets, packets);
  }

  // Calls the kernel instantiated for `packets` (1..row_packets) and `width`
  // (1..block_columns).
  template <bool PackedB>
  static void run_kernel(Index packets, Index width, const Scalar* panel, const Scalar* b,
                         Index ldb, Index depth, Scalar* c, Index ldc, Index rows,
                         bool accumulate) {
    const auto for_width = [&]<int R>(std::integral_constant<int, R>) {
      [&]<int... W>(std::integer_sequence<int, W...>) {
        ((width == W + 1 ? packed_kernel<Scalar, R, W + 1, PackedB>(panel, b, ldb, depth, c, ldc,
                                                                    rows, accumulate)
                         : void()),
         ...);
      }
      (std::make_integer_sequence<int, Shape::block_columns>{});
    };
    [&]<int... R>(std::integer_sequence<int, R...>) {
      ((packets == R + 1 ? for_width(std::integral_constant<int, R + 1>{}) : void()), ...);
    }
    (std::make_integer_sequence<int, Shape::row_packets>{});
  }

  std::vector<Scalar, Eigen::aligned_allocator<Scalar>> data_;
  std::vector<Scalar, Eigen::aligned_allocator<Scalar>> packed_b_;
  Index rows_ = 0;
  Index cols_ = 0;
};

// Packs `weight` for a call of `steps` time steps, or leaves `packed` empty for a single step.
template <class Scalar, class Weight>
void pack_for_steps(PackedMatrix<Scalar>& packed, const Weight& weight, Index steps) {
  if (steps > 1) {
    packed.pack(weight);
  } else {
    packed.clear();
  }
}

// out = weight * rhs, or out += weight * rhs when `accumulate`, through `packed` when it
// holds a packed copy of weight (or of the weight expression, such as a transpose or a block),
// else through Eigen's product: calls of a single step do not repay the packing.
template <class Scalar, class Weight, class Rhs, class Out>
void multiply_weight(PackedMatrix<Scalar>& packed, const Weight& weight, const Rhs& rhs, Out&& out,
                     bool accumulate) {
  if (!packed.empty()) {
    packed.multiply(rhs, out, accumulate);
  } else if (accumulate) {
    out.noalias() += weight * rhs;
  } else {
    out.noalias() = weight * rhs;
  }
}

// c = a b, or c += a b when `accumulate`, for the large products of a call (input
// projections, input gradients, weight gradients): a is packed into `packed` first, which
// costs one pass over a. Products with very few columns, where that pass would cost as much
// as the product, go to Eigen.
template <class Scalar, class Lhs, class Rhs>
void multiply_packing(PackedMatrix<Scalar>& packed, const Lhs& a, const Rhs& b,
                      std::type_identity_t<Eigen::Ref<Matrix<Scalar>>> c, bool accumulate) {
  constexpr Index min_columns = 4;
  if (b.cols() >= min_columns) {
    packed.pack(a);
    packed.multiply(b, c, accumulate);
  } else if (accumulate) {
    c.noalias() += a * b;
  } else {
    c.noalias() = a * b;
  }
}

}  // namespace deeprnn::detail
