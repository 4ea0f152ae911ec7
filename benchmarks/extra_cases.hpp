// Benchmark cases beyond the plain stacks: the SummaryRNN overhead and streaming step().
#pragma once

#include "workloads.hpp"

namespace deeprnn::benchmarks {

// A three-layer GRU stack on workload w, alone or followed by a SummaryRNN<GRU> of width H
// over the layers' final hidden states. Training minimises sum(outputs) + sum(encoding), so
// the difference to the stack alone is the summary's own forward and backward work.
template <class S>
class SummaryCase final : public Case {
 public:
  SummaryCase(const Workload& w, Mode mode, bool with_summary)
      : stack_(make_stack(w)),
        summary_(stack_, w.hidden, SummaryMode::final_state),
        mode_(mode),
        with_summary_(with_summary),
        batch_(w.batch),
        x_(random_sequence<S>(w.input, w.steps * w.batch, 1)),
        d_output_(Matrix<S>::Ones(w.hidden, w.steps * w.batch)),
        d_encoding_(Matrix<S>::Ones(w.hidden, w.batch)) {
    Random random(7);
    init::pytorch_default(summary_, random);
  }

  void run() override {
    const auto output = stack_.forward(x_, batch_);
    sink_ += output(0, 0);
    if (with_summary_) {
      const auto encoding = summary_.forward(stack_);
      sink_ += encoding(0, 0);
    }
    if (mode_ == Mode::inference) return;

    if (!with_summary_) {
      sink_ += stack_.backward(d_output_)(0, 0);
      return;
    }
    OutputGradients<S> seeds(GruStack<S>::layer_count);
    seeds.layer_output.back() = d_output_;
    summary_.backward(d_encoding_, seeds);
    sink_ += stack_.backward(seeds)(0, 0);
  }

 private:
  static GruStack<S> make_stack(const Workload& w) {
    StackOptions options;
    options.return_sequences = true;
    GruStack<S> stack(w.input, {w.hidden, w.hidden, w.hidden}, options);
    Random random(42);
    init::pytorch_default(stack, random);
    return stack;
  }

  GruStack<S> stack_;
  SummaryRNN<GRU<S>> summary_;
  Mode mode_;
  bool with_summary_;
  Index batch_;
  Matrix<S> x_;
  Matrix<S> d_output_;
  Matrix<S> d_encoding_;
  S sink_ = 0;
};

// One streaming step() of a whole stack per run(), cycling through the T input columns of
// workload w; the state carries over from call to call.
template <class Stack>
class StreamCase final : public Case {
 public:
  using Scalar = typename Stack::Scalar;

  StreamCase(Stack&& stack, const Workload& w)
      : stack_(std::move(stack)),
        batch_(w.batch),
        steps_(w.steps),
        x_(random_sequence<Scalar>(w.input, w.steps * w.batch, 1)) {}

  void run() override {
    const auto h = stack_.step(x_.middleCols(next_step_ * batch_, batch_));
    sink_ += h(0, 0);
    next_step_ = (next_step_ + 1) % steps_;
  }

 private:
  Stack stack_;
  Index batch_;
  Index steps_;
  Matrix<Scalar> x_;
  Index next_step_ = 0;
  Scalar sink_ = 0;
};

template <class S>
std::unique_ptr<Case> make_stream_case(StackKind kind, const Workload& w) {
  return with_stack<S>(kind, w, 42, [&]<class Stack>(Stack& stack) -> std::unique_ptr<Case> {
    return std::make_unique<StreamCase<Stack>>(std::move(stack), w);
  });
}

}  // namespace deeprnn::benchmarks
