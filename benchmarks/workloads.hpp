// The benchmark workloads, the FLOP model and the stacks that run them, shared by the Google
// Benchmark programs and the comparison worker.
#pragma once

#include <array>
#include <cstdint>
#include <deeprnn/deeprnn.hpp>
#include <deeprnn/init.hpp>
#include <deeprnn/random.hpp>
#include <memory>
#include <stdexcept>
#include <string>
#include <string_view>

namespace deeprnn::benchmarks {

inline constexpr int stack_layers = 3;

// One benchmark shape: B samples, T steps, input width I of the bottom layer, hidden width H
// of every layer (layers above the bottom one read H features).
struct Workload {
  char id;
  Index batch;
  Index steps;
  Index input;
  Index hidden;
};

inline constexpr std::array<Workload, 5> workloads{{
    {'a', 32, 100, 256, 256},
    {'b', 64, 50, 512, 512},
    {'c', 1, 100, 128, 128},
    {'d', 20, 35, 650, 650},
    {'e', 16, 20, 32, 64},
}};

inline const Workload& find_workload(char id) {
  for (const Workload& workload : workloads) {
    if (workload.id == id) return workload;
  }
  throw std::invalid_argument(std::string("unknown workload '") + id + "', expected a to e");
}

// The stacks under test: three layers of one cell type, or the mixed stack LSTM, GRU,
// SimpleRNN (bottom to top).
enum class StackKind { rnn_tanh, lstm, gru, gru_before, mixed };

inline constexpr std::array<StackKind, 5> stack_kinds{
    StackKind::rnn_tanh, StackKind::lstm, StackKind::gru, StackKind::gru_before, StackKind::mixed};

inline std::string_view stack_kind_name(StackKind kind) {
  switch (kind) {
    case StackKind::rnn_tanh:
      return "rnn_tanh";
    case StackKind::lstm:
      return "lstm";
    case StackKind::gru:
      return "gru";
    case StackKind::gru_before:
      return "gru_before";
    case StackKind::mixed:
      return "mixed";
  }
  return "unknown";
}

inline StackKind parse_stack_kind(std::string_view name) {
  for (const StackKind kind : stack_kinds) {
    if (stack_kind_name(kind) == name) return kind;
  }
  throw std::invalid_argument("unknown stack kind '" + std::string(name) +
                              "', expected rnn_tanh, lstm, gru, gru_before or mixed");
}

// Gate blocks G of layer k: 4 for LSTM, 3 for GRU, 1 for the plain RNN.
inline int gate_count(StackKind kind, int layer) {
  switch (kind) {
    case StackKind::rnn_tanh:
      return 1;
    case StackKind::lstm:
      return 4;
    case StackKind::gru:
    case StackKind::gru_before:
      return 3;
    case StackKind::mixed:
      return std::array<int, stack_layers>{4, 3, 1}[layer];
  }
  return 0;
}

// FLOP model of one forward pass: the matrix products only, 2 * B * (I_k + H) * G_k * H per
// layer k and step (I_k = input width for k = 0, H above). A training step counts as three
// forward passes (forward, gradient with respect to the inputs and states, gradient with
// respect to the weights). The same model is used for PyTorch and oneDNN.
inline double forward_flops(StackKind kind, const Workload& w) {
  double flops = 0.0;
  for (int layer = 0; layer < stack_layers; ++layer) {
    const double input = layer == 0 ? double(w.input) : double(w.hidden);
    flops += 2.0 * double(w.batch) * (input + double(w.hidden)) * gate_count(kind, layer) *
             double(w.hidden) * double(w.steps);
  }
  return flops;
}

inline double training_flops(StackKind kind, const Workload& w) {
  return 3.0 * forward_flops(kind, w);
}

template <class S>
using RnnStack = StackedRNN<SimpleRNN<S>, SimpleRNN<S>, SimpleRNN<S>>;
template <class S>
using LstmStack = StackedRNN<LSTM<S>, LSTM<S>, LSTM<S>>;
template <class S>
using GruStack = StackedRNN<GRU<S>, GRU<S>, GRU<S>>;
template <class S>
using GruBeforeStack =
    StackedRNN<GRU<S, ResetGate::before>, GRU<S, ResetGate::before>, GRU<S, ResetGate::before>>;
template <class S>
using MixedStack = StackedRNN<LSTM<S>, GRU<S>, SimpleRNN<S>>;

// Builds the stack type of `kind` with PyTorch's default initialisation and passes it to
// `function`, which is instantiated for each of the five stack types.
template <class S, class Function>
decltype(auto) with_stack(StackKind kind, const Workload& w, std::uint64_t seed,
                          Function&& function) {
  const std::array<Index, stack_layers> hidden{w.hidden, w.hidden, w.hidden};
  StackOptions options;
  options.return_sequences = true;
  auto run = [&]<class Stack>() -> decltype(auto) {
    Stack stack(w.input, hidden, options);
    Random random(seed);
    init::pytorch_default(stack, random);
    return function(stack);
  };
  switch (kind) {
    case StackKind::rnn_tanh:
      return run.template operator()<RnnStack<S>>();
    case StackKind::lstm:
      return run.template operator()<LstmStack<S>>();
    case StackKind::gru:
      return run.template operator()<GruStack<S>>();
    case StackKind::gru_before:
      return run.template operator()<GruBeforeStack<S>>();
    case StackKind::mixed:
      return run.template operator()<MixedStack<S>>();
  }
  throw std::invalid_argument("unknown stack kind");
}

// Input sequence I x T*B, uniform in [-1, 1), the same values for every run with one seed.
template <class S>
Matrix<S> random_sequence(Index rows, Index columns, std::uint64_t seed) {
  Random random(seed);
  Matrix<S> m(rows, columns);
  for (Index j = 0; j < columns; ++j) {
    for (Index i = 0; i < rows; ++i) m(i, j) = static_cast<S>(random.uniform(-1.0, 1.0));
  }
  return m;
}

enum class Mode { inference, training };

inline std::string_view mode_name(Mode mode) {
  return mode == Mode::inference ? "inference" : "training";
}

inline Mode parse_mode(std::string_view name) {
  if (name == "inference") return Mode::inference;
  if (name == "training") return Mode::training;
  throw std::invalid_argument("unknown mode '" + std::string(name) +
                              "', expected inference or training");
}

// One runnable benchmark case: run() does one inference forward pass or one training step
// (forward, then backward of the sum of the top layer's outputs: d_output = ones, no
// optimiser, so the parameter gradients accumulate).
class Case {
 public:
  virtual ~Case() = default;
  virtual void run() = 0;
};

template <class Stack>
class StackCase final : public Case {
 public:
  using Scalar = typename Stack::Scalar;

  StackCase(Stack&& stack, const Workload& w, Mode mode)
      : stack_(std::move(stack)),
        mode_(mode),
        batch_(w.batch),
        x_(random_sequence<Scalar>(w.input, w.steps * w.batch, 1)),
        d_output_(Matrix<Scalar>::Ones(w.hidden, w.steps * w.batch)) {}

  void run() override {
    const auto output = stack_.forward(x_, batch_);
    sink_ += output(0, 0);
    if (mode_ == Mode::training) {
      const auto dx = stack_.backward(d_output_);
      sink_ += dx(0, 0);
    }
  }

  // Accumulated first entries, read so that no call can be optimised away.
  Scalar sink() const { return sink_; }

 private:
  Stack stack_;
  Mode mode_;
  Index batch_;
  Matrix<Scalar> x_;
  Matrix<Scalar> d_output_;
  Scalar sink_ = 0;
};

template <class S>
std::unique_ptr<Case> make_case(StackKind kind, const Workload& w, Mode mode) {
  return with_stack<S>(kind, w, 42, [&]<class Stack>(Stack& stack) -> std::unique_ptr<Case> {
    return std::make_unique<StackCase<Stack>>(std::move(stack), w, mode);
  });
}

}  // namespace deeprnn::benchmarks
