// oneDNN side of the comparison: the same stacks and steps as deeprnn_worker, with oneDNN's
// RNN primitives (f32, CPU engine); protocol and timing in worker_protocol.hpp.
//
// Cells: rnn_tanh = vanilla_rnn with tanh, lstm = lstm, gru = lbr_gru (linear before reset,
// PyTorch's GRU), gru_before = gru (reset before the recurrent product). Layers whose input
// width equals the hidden width run as one multi-layer primitive; a bottom layer of another
// width runs as its own primitive. Initial states are zero (zero memory descriptors), as in
// the deeprnn and PyTorch cases.
//
// Inference: weights are reordered into the primitive's chosen layout once, untimed.
// Training step: forward_training, then backward with diff_dst_layer = ones. A training loop
// changes the weights at every step, so the step also reorders the user's weights (ldigo)
// into the forward and backward layouts. It zeroes the weight gradients, because oneDNN
// accumulates into them, and reorders them back to ldigo. Reorders between equal layouts are
// skipped.
#include <omp.h>

#include <cmath>
#include <cstring>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>
#include <stdexcept>
#include <string>
#include <unordered_map>
#include <vector>

#include "oneapi/dnnl/dnnl.hpp"
#include "worker_protocol.hpp"

namespace {

using dnnl::memory;
using tag = memory::format_tag;
using dt = memory::data_type;

enum class Cell { rnn_tanh, lstm, lbr_gru, gru };

Cell parse_cell(const std::string& name) {
  if (name == "rnn_tanh") return Cell::rnn_tanh;
  if (name == "lstm") return Cell::lstm;
  if (name == "gru") return Cell::lbr_gru;
  if (name == "gru_before") return Cell::gru;
  throw std::invalid_argument("unknown cell '" + name +
                              "', expected rnn_tanh, lstm, gru or gru_before");
}

int gate_count(Cell cell) {
  switch (cell) {
    case Cell::rnn_tanh:
      return 1;
    case Cell::lstm:
      return 4;
    case Cell::lbr_gru:
    case Cell::gru:
      return 3;
  }
  return 0;
}

// lbr_gru keeps b_hn apart from the other biases, as an extra gate row.
int bias_gate_count(Cell cell) { return cell == Cell::lbr_gru ? 4 : gate_count(cell); }

struct Shape {
  memory::dim layers, steps, batch, input, hidden;
};

// Memory descriptors of one primitive; empty (zero) descriptors mean "not used".
struct Descriptors {
  memory::desc src_layer, weights_layer, weights_iter, bias, dst_layer;
};

Descriptors make_descriptors(Cell cell, const Shape& s, bool any_weights) {
  const memory::dim G = gate_count(cell);
  const tag weights_tag = any_weights ? tag::any : tag::ldigo;
  return {
      memory::desc({s.steps, s.batch, s.input}, dt::f32, tag::tnc),
      memory::desc({s.layers, 1, s.input, G, s.hidden}, dt::f32, weights_tag),
      memory::desc({s.layers, 1, s.hidden, G, s.hidden}, dt::f32, weights_tag),
      memory::desc({s.layers, 1, bias_gate_count(cell), s.hidden}, dt::f32, tag::ldgo),
      memory::desc({s.steps, s.batch, s.hidden}, dt::f32, tag::tnc),
  };
}

constexpr auto direction = dnnl::rnn_direction::unidirectional_left2right;

// Forward and (for training) backward primitive descriptors of one cell type. `d` describes
// the forward tensors and also the gradients, which have the same shapes.
struct PrimitiveDescriptors {
  dnnl::rnn_primitive_desc_base forward;
  dnnl::rnn_primitive_desc_base backward;
};

PrimitiveDescriptors make_primitive_descriptors(Cell cell, bool training, const Descriptors& d,
                                                const dnnl::engine& engine) {
  const memory::desc none;
  const auto prop =
      training ? dnnl::prop_kind::forward_training : dnnl::prop_kind::forward_inference;
  const auto back = dnnl::prop_kind::backward;
  switch (cell) {
    case Cell::rnn_tanh: {
      const auto activation = dnnl::algorithm::eltwise_tanh;
      dnnl::vanilla_rnn_forward::primitive_desc forward(
          {prop, activation, direction, d.src_layer, none, d.weights_layer, d.weights_iter, d.bias,
           d.dst_layer, none},
          engine);
      if (!training) return {forward, {}};
      dnnl::vanilla_rnn_backward::primitive_desc backward(
          {back, activation, direction, d.src_layer, none, d.weights_layer, d.weights_iter, d.bias,
           d.dst_layer, none, d.src_layer, none, d.weights_layer, d.weights_iter, d.bias,
           d.dst_layer, none},
          engine, forward);
      return {forward, backward};
    }
    case Cell::lstm: {
      dnnl::lstm_forward::primitive_desc forward(
          {prop, direction, d.src_layer, none, none, d.weights_layer, d.weights_iter, d.bias,
           d.dst_layer, none, none},
          engine);
      if (!training) return {forward, {}};
      dnnl::lstm_backward::primitive_desc backward(
          {back,           direction, d.src_layer,     none,           none,   d.weights_layer,
           d.weights_iter, d.bias,    d.dst_layer,     none,           none,   d.src_layer,
           none,           none,      d.weights_layer, d.weights_iter, d.bias, d.dst_layer,
           none,           none},
          engine, forward);
      return {forward, backward};
    }
    case Cell::lbr_gru: {
      dnnl::lbr_gru_forward::primitive_desc forward(
          {prop, direction, d.src_layer, none, d.weights_layer, d.weights_iter, d.bias, d.dst_layer,
           none},
          engine);
      if (!training) return {forward, {}};
      dnnl::lbr_gru_backward::primitive_desc backward(
          {back, direction, d.src_layer, none, d.weights_layer, d.weights_iter, d.bias, d.dst_layer,
           none, d.src_layer, none, d.weights_layer, d.weights_iter, d.bias, d.dst_layer, none},
          engine, forward);
      return {forward, backward};
    }
    case Cell::gru: {
      dnnl::gru_forward::primitive_desc forward(
          {prop, direction, d.src_layer, none, d.weights_layer, d.weights_iter, d.bias, d.dst_layer,
           none},
          engine);
      if (!training) return {forward, {}};
      dnnl::gru_backward::primitive_desc backward(
          {back, direction, d.src_layer, none, d.weights_layer, d.weights_iter, d.bias, d.dst_layer,
           none, d.src_layer, none, d.weights_layer, d.weights_iter, d.bias, d.dst_layer, none},
          engine, forward);
      return {forward, backward};
    }
  }
  throw std::invalid_argument("unknown cell");
}

void fill_uniform(const memory& m, float limit, std::mt19937& random) {
  std::uniform_real_distribution<float> uniform(-limit, limit);
  auto* data = static_cast<float*>(m.get_data_handle());
  const std::size_t count = m.get_desc().get_size() / sizeof(float);
  for (std::size_t i = 0; i < count; ++i) data[i] = uniform(random);
}

void fill_value(const memory& m, float value) {
  auto* data = static_cast<float*>(m.get_data_handle());
  const std::size_t count = m.get_desc().get_size() / sizeof(float);
  for (std::size_t i = 0; i < count; ++i) data[i] = value;
}

// A memory in the primitive's layout and, when that differs from the user's, the reorder
// that fills it.
struct Converted {
  memory target;
  dnnl::reorder reorder;
  bool needed = false;

  Converted() = default;
  Converted(const memory& user, const memory::desc& wanted, const dnnl::engine& engine) {
    needed = user.get_desc() != wanted;
    target = needed ? memory(wanted, engine) : user;
    if (needed) reorder = dnnl::reorder(user, target);
  }

  void run(dnnl::stream& stream, const memory& user) {
    if (needed) reorder.execute(stream, {{DNNL_ARG_FROM, user}, {DNNL_ARG_TO, target}});
  }
};

// One primitive over `shape.layers` layers, with its user-layout weights and gradients.
class Group {
 public:
  Group(Cell cell, const Shape& shape, bool training, const dnnl::engine& engine,
        std::mt19937& random)
      : training_(training) {
    const Descriptors user = make_descriptors(cell, shape, false);
    const Descriptors any = make_descriptors(cell, shape, true);
    const float limit = 1.0f / std::sqrt(float(shape.hidden));

    weights_layer_ = memory(user.weights_layer, engine);
    weights_iter_ = memory(user.weights_iter, engine);
    bias_ = memory(user.bias, engine);
    fill_uniform(weights_layer_, limit, random);
    fill_uniform(weights_iter_, limit, random);
    fill_uniform(bias_, limit, random);

    const PrimitiveDescriptors pds = make_primitive_descriptors(cell, training, any, engine);
    const dnnl::rnn_primitive_desc_base& forward_pd = pds.forward;
    forward_ = dnnl::primitive(forward_pd);
    forward_weights_layer_ = Converted(weights_layer_, forward_pd.weights_layer_desc(), engine);
    forward_weights_iter_ = Converted(weights_iter_, forward_pd.weights_iter_desc(), engine);
    if (!training) return;

    workspace_ = memory(forward_pd.workspace_desc(), engine);
    diff_weights_layer_ = memory(user.weights_layer, engine);
    diff_weights_iter_ = memory(user.weights_iter, engine);
    diff_bias_ = memory(user.bias, engine);
    const dnnl::rnn_primitive_desc_base& backward_pd = pds.backward;
    backward_ = dnnl::primitive(backward_pd);
    backward_weights_layer_ = Converted(weights_layer_, backward_pd.weights_layer_desc(), engine);
    backward_weights_iter_ = Converted(weights_iter_, backward_pd.weights_iter_desc(), engine);
    primitive_diff_weights_layer_ =
        Converted(diff_weights_layer_, backward_pd.diff_weights_layer_desc(), engine);
    primitive_diff_weights_iter_ =
        Converted(diff_weights_iter_, backward_pd.diff_weights_iter_desc(), engine);
    back_to_user_layer_ =
        Converted(primitive_diff_weights_layer_.target, user.weights_layer, engine);
    back_to_user_iter_ = Converted(primitive_diff_weights_iter_.target, user.weights_iter, engine);
  }

  // Reorders the weights for inference once.
  void prepare_inference(dnnl::stream& stream) {
    forward_weights_layer_.run(stream, weights_layer_);
    forward_weights_iter_.run(stream, weights_iter_);
  }

  void forward(dnnl::stream& stream, const memory& src, const memory& dst) {
    if (training_) {
      forward_weights_layer_.run(stream, weights_layer_);
      forward_weights_iter_.run(stream, weights_iter_);
    }
    std::unordered_map<int, memory> args{{DNNL_ARG_SRC_LAYER, src},
                                         {DNNL_ARG_WEIGHTS_LAYER, forward_weights_layer_.target},
                                         {DNNL_ARG_WEIGHTS_ITER, forward_weights_iter_.target},
                                         {DNNL_ARG_BIAS, bias_},
                                         {DNNL_ARG_DST_LAYER, dst}};
    if (training_) args.emplace(DNNL_ARG_WORKSPACE, workspace_);
    forward_.execute(stream, args);
  }

  void backward(dnnl::stream& stream, const memory& src, const memory& dst, const memory& diff_dst,
                const memory& diff_src) {
    backward_weights_layer_.run(stream, weights_layer_);
    backward_weights_iter_.run(stream, weights_iter_);
    zero(primitive_diff_weights_layer_.target);
    zero(primitive_diff_weights_iter_.target);
    zero(diff_bias_);
    backward_.execute(stream, {{DNNL_ARG_SRC_LAYER, src},
                               {DNNL_ARG_WEIGHTS_LAYER, backward_weights_layer_.target},
                               {DNNL_ARG_WEIGHTS_ITER, backward_weights_iter_.target},
                               {DNNL_ARG_BIAS, bias_},
                               {DNNL_ARG_DST_LAYER, dst},
                               {DNNL_ARG_WORKSPACE, workspace_},
                               {DNNL_ARG_DIFF_SRC_LAYER, diff_src},
                               {DNNL_ARG_DIFF_WEIGHTS_LAYER, primitive_diff_weights_layer_.target},
                               {DNNL_ARG_DIFF_WEIGHTS_ITER, primitive_diff_weights_iter_.target},
                               {DNNL_ARG_DIFF_BIAS, diff_bias_},
                               {DNNL_ARG_DIFF_DST_LAYER, diff_dst}});
    back_to_user_layer_.run(stream, primitive_diff_weights_layer_.target);
    back_to_user_iter_.run(stream, primitive_diff_weights_iter_.target);
  }

 private:
  static void zero(const memory& m) {
    std::memset(m.get_data_handle(), 0, m.get_desc().get_size());
  }

  bool training_;
  memory weights_layer_, weights_iter_, bias_, workspace_;
  memory diff_weights_layer_, diff_weights_iter_, diff_bias_;
  dnnl::primitive forward_, backward_;
  Converted forward_weights_layer_, forward_weights_iter_;
  Converted backward_weights_layer_, backward_weights_iter_;
  Converted primitive_diff_weights_layer_, primitive_diff_weights_iter_;
  Converted back_to_user_layer_, back_to_user_iter_;
};

// A stack of `layers` layers: one group when input == hidden, else the bottom layer alone
// and one group above it.
class Stack {
 public:
  Stack(Cell cell, memory::dim layers, memory::dim steps, memory::dim batch, memory::dim input,
        memory::dim hidden, bool training)
      : engine_(dnnl::engine::kind::cpu, 0), stream_(engine_), training_(training) {
    std::mt19937 random(42);
    std::vector<Shape> shapes;
    if (input == hidden) {
      shapes.push_back({layers, steps, batch, input, hidden});
    } else {
      shapes.push_back({1, steps, batch, input, hidden});
      if (layers > 1) shapes.push_back({layers - 1, steps, batch, hidden, hidden});
    }
    for (const Shape& shape : shapes) {
      groups_.emplace_back(cell, shape, training, engine_, random);
      const memory::desc src({steps, batch, shape.input}, dt::f32, tag::tnc);
      const memory::desc dst({steps, batch, hidden}, dt::f32, tag::tnc);
      if (sequences_.empty()) sequences_.emplace_back(src, engine_);
      sequences_.emplace_back(dst, engine_);
      if (training) {
        if (gradients_.empty()) gradients_.emplace_back(src, engine_);
        gradients_.emplace_back(dst, engine_);
      }
    }
    fill_uniform(sequences_.front(), 1.0f, random);
    if (training) {
      fill_value(gradients_.back(), 1.0f);
    } else {
      for (Group& group : groups_) group.prepare_inference(stream_);
      stream_.wait();
    }
  }

  void run() {
    for (std::size_t g = 0; g < groups_.size(); ++g) {
      groups_[g].forward(stream_, sequences_[g], sequences_[g + 1]);
    }
    if (training_) {
      for (std::size_t g = groups_.size(); g-- > 0;) {
        groups_[g].backward(stream_, sequences_[g], sequences_[g + 1], gradients_[g + 1],
                            gradients_[g]);
      }
    }
    stream_.wait();
  }

 private:
  dnnl::engine engine_;
  dnnl::stream stream_;
  bool training_;
  std::vector<Group> groups_;
  std::vector<memory> sequences_;  // input, then each group's output
  std::vector<memory> gradients_;  // dL/d(sequence), the last one is ones
};

const char* isa_name() {
  switch (dnnl::get_effective_cpu_isa()) {
    case dnnl::cpu_isa::avx2:
      return "AVX2";
    case dnnl::cpu_isa::avx2_vnni:
      return "AVX2 VNNI";
    case dnnl::cpu_isa::avx512_core:
      return "AVX-512";
    case dnnl::cpu_isa::avx512_core_vnni:
      return "AVX-512 VNNI";
    case dnnl::cpu_isa::avx512_core_bf16:
      return "AVX-512 BF16";
    case dnnl::cpu_isa::avx512_core_amx:
      return "AVX-512 AMX";
    default:
      return "other";
  }
}

std::function<void()> make_onednn_case(const deeprnn_compare::Request& request) {
  if (request.scalar != "float") {
    throw std::invalid_argument("the oneDNN RNN primitives are benchmarked in f32 only");
  }
  omp_set_num_threads(request.threads);
  auto stack = std::make_shared<Stack>(parse_cell(request.cell), request.layers, request.steps,
                                       request.batch, request.input, request.hidden,
                                       request.mode == "training");
  return [stack] { stack->run(); };
}

}  // namespace

int main() {
  const dnnl_version_t* version = dnnl_version();
  const std::string info = "oneDNN " + std::to_string(version->major) + "." +
                           std::to_string(version->minor) + "." + std::to_string(version->patch) +
                           ", CPU runtime OpenMP, ISA " + isa_name();
  return deeprnn_compare::serve(make_onednn_case, info);
}
