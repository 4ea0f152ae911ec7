// Training checkpoints: the model's parameters, the optimizer's state, the random stream and
// the training counters in one safetensors file, so that a run can stop and resume exactly.
//
// Tensors (Scalar is the model's float or double):
//   model.<parameter>                       the parameters, PyTorch's shapes (see io/weights.hpp)
//   optimizer.<state>                       every tensor of the optimizer's for_each_state(),
//                                           [rows, cols], including "step" as [1, 1]
//   best.<parameter>                        the weights of the best epoch, when there is one
//   training.epoch, training.best_epoch     I64 [1]
//   training.best_validation_accuracy       F64 [1]
// Metadata: "format" = "deeprnn-checkpoint", "format_version" = "1", "scalar" ("float" or
// "double"), "random_state" (Random::state()), and any entries the caller adds.
#pragma once

#include <cmath>
#include <cstdint>
#include <deeprnn/core.hpp>
#include <deeprnn/io/errors.hpp>
#include <deeprnn/io/safetensors.hpp>
#include <deeprnn/io/weights.hpp>
#include <deeprnn/random.hpp>
#include <deeprnn/train/fit.hpp>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace deeprnn {

inline constexpr const char* checkpoint_format = "deeprnn-checkpoint";
inline constexpr const char* checkpoint_format_version = "1";

namespace detail {

inline const std::set<std::string>& reserved_checkpoint_metadata() {
  static const std::set<std::string> keys{"format", "format_version", "scalar", "random_state"};
  return keys;
}

// Throws format_error unless the metadata names the checkpoint format, version 1.
inline void check_checkpoint_metadata(const io::SafetensorsFile& file) {
  const std::map<std::string, std::string>& metadata = file.metadata();
  const auto format = metadata.find("format");
  const std::string found_format =
      format == metadata.end() ? "missing" : io::detail::json_quoted(format->second);
  if (format == metadata.end() || format->second != checkpoint_format) {
    throw io::format_error(file.source(), "the metadata format is " + found_format +
                                              ", expected \"" + checkpoint_format +
                                              "\"; this file is not a deeprnn checkpoint");
  }
  const auto version = metadata.find("format_version");
  if (version == metadata.end() || version->second != checkpoint_format_version) {
    const std::string found =
        version == metadata.end() ? "missing" : io::detail::json_quoted(version->second);
    throw io::format_error(file.source(), "the checkpoint format_version is " + found +
                                              ", expected \"" + checkpoint_format_version +
                                              "\"; this version of deeprnn reads version 1 only");
  }
  if (metadata.count("random_state") == 0) {
    throw io::format_error(file.source(),
                           "the metadata has no \"random_state\"; the checkpoint is incomplete");
  }
}

// Throws format_error unless the file's tensors are exactly `expected`.
inline void check_checkpoint_names(const io::SafetensorsFile& file,
                                   const std::vector<std::string>& expected) {
  const std::set<std::string> expected_set(expected.begin(), expected.end());
  std::vector<std::string> missing;
  for (const std::string& name : expected) {
    if (!file.contains(name)) missing.push_back(name);
  }
  std::vector<std::string> unknown;
  for (const std::string& name : file.names()) {
    if (expected_set.count(name) == 0) unknown.push_back(name);
  }
  if (missing.empty() && unknown.empty()) return;

  std::string problem = "the tensors do not match the model and optimizer:";
  if (!missing.empty()) problem += " missing " + io::detail::join_names(missing) + ";";
  if (!unknown.empty()) problem += " unknown " + io::detail::join_names(unknown) + ";";
  throw io::format_error(file.source(), problem +
                                            " load it into the model architecture and optimizer "
                                            "type it was saved from");
}

// Returns the single value of a [1] tensor of the given dtype, as double; throws format_error
// for another dtype or shape.
inline double checkpoint_scalar(const io::SafetensorsFile& file, const std::string& name,
                                io::DType dtype) {
  const io::TensorInfo& info = file.info(name);
  if (info.dtype != dtype || info.shape != std::vector<std::int64_t>{1}) {
    throw io::format_error(file.source(), "tensor " + io::detail::json_quoted(name) +
                                              " has dtype " + io::dtype_name(info.dtype) +
                                              " and shape " + io::detail::shape_string(info.shape) +
                                              ", expected " + io::dtype_name(dtype) + " [1]");
  }
  return file.values<double>(name)[0];
}

inline std::int64_t checkpoint_integer(const io::SafetensorsFile& file, const std::string& name) {
  checkpoint_scalar(file, name, io::DType::i64);
  return file.integers(name)[0];
}

// Calls visit(name, Matrix&) for every optimizer state tensor, named "optimizer." + name.
template <class Optimizer, class Visitor>
void for_each_optimizer_state(Optimizer& optimizer, Visitor&& visit) {
  optimizer.for_each_state(
      [&](const std::string& name, auto& tensor) { visit("optimizer." + name, tensor); });
}

}  // namespace detail

// Writes a checkpoint atomically (see SafetensorsWriter::write): a crash leaves the previous
// file at `path` unchanged. `metadata` adds string entries, for example the model's
// configuration; the keys format, format_version, scalar and random_state are reserved. Throws
// deeprnn::invalid_argument, and writes nothing, when a parameter or state value is not finite.
template <class Model, class Optimizer>
void save_checkpoint(const std::filesystem::path& path, Model& model, Optimizer& optimizer,
                     const Random& random, const TrainingState<typename Model::Scalar>& state,
                     const std::map<std::string, std::string>& metadata = {}) {
  using Scalar = typename Model::Scalar;
  io::SafetensorsWriter writer;
  io::add_weights(writer, model, "model.");

  detail::for_each_optimizer_state(optimizer, [&](const std::string& name, auto& tensor) {
    if (!tensor.allFinite()) {
      detail::throw_invalid("save_checkpoint: optimizer state " + name +
                            " contains a non-finite value; training has diverged, so the "
                            "checkpoint is not written");
    }
    writer.add(name, tensor);
  });

  if (!state.best_parameters.empty()) {
    std::size_t i = 0;
    model.for_each_parameter([&](const std::string& name, auto& value, auto&) {
      if (i >= state.best_parameters.size()) {
        detail::throw_invalid("save_checkpoint: the state has " +
                              std::to_string(state.best_parameters.size()) +
                              " best parameters but the model has more; the state comes from "
                              "another model");
      }
      const Matrix<Scalar>& best = state.best_parameters[i++];
      detail::check_shape(best, value.rows(), value.cols(), "best parameter " + name);
      if constexpr (std::decay_t<decltype(value)>::ColsAtCompileTime == 1) {
        writer.add("best." + name, Vector<Scalar>(best.col(0)));
      } else {
        writer.add("best." + name, best);
      }
    });
  }

  writer.add_integers("training.epoch", {state.epoch});
  writer.add_integers("training.best_epoch", {state.best_epoch});
  writer.add_values("training.best_validation_accuracy",
                    std::vector<double>{state.best_validation_accuracy}, {1});

  for (const auto& [key, value] : metadata) {
    if (detail::reserved_checkpoint_metadata().count(key) != 0) {
      detail::throw_invalid("save_checkpoint: the metadata key \"" + key +
                            "\" is reserved for the checkpoint itself; choose another key");
    }
    writer.set_metadata(key, value);
  }
  writer.set_metadata("format", checkpoint_format);
  writer.set_metadata("format_version", checkpoint_format_version);
  writer.set_metadata("scalar", io::detail::scalar_name<Scalar>());
  writer.set_metadata("random_state", random.state());
  writer.write(path);
}

// Restores everything save_checkpoint wrote, all or nothing: the file must contain exactly the
// tensors of this model and optimizer (names, dtypes, shapes, finite values), valid counters
// and a valid random state, or io::format_error is thrown and nothing changes. The optimizer
// must have been given the model's parameters already (optimizer.add(model)).
template <class Model, class Optimizer>
void load_checkpoint(const io::SafetensorsFile& file, Model& model, Optimizer& optimizer,
                     Random& random, TrainingState<typename Model::Scalar>& state) {
  using Scalar = typename Model::Scalar;
  detail::check_checkpoint_metadata(file);

  std::vector<std::string> parameter_names;
  model.for_each_parameter(
      [&](const std::string& name, auto&, auto&) { parameter_names.push_back(name); });
  const bool has_best = file.contains("best." + parameter_names.front());

  std::vector<std::string> expected;
  for (const std::string& name : parameter_names) expected.push_back("model." + name);
  detail::for_each_optimizer_state(
      optimizer, [&](const std::string& name, auto&) { expected.push_back(name); });
  if (has_best) {
    for (const std::string& name : parameter_names) expected.push_back("best." + name);
  }
  for (const char* name :
       {"training.epoch", "training.best_epoch", "training.best_validation_accuracy"}) {
    expected.emplace_back(name);
  }
  detail::check_checkpoint_names(file, expected);

  // Validate everything before changing anything.
  model.for_each_parameter([&](const std::string& name, auto& value, auto&) {
    io::detail::check_parameter_tensor(file, "model." + name, value);
    if (has_best) io::detail::check_parameter_tensor(file, "best." + name, value);
  });
  detail::for_each_optimizer_state(optimizer, [&](const std::string& name, auto& tensor) {
    io::detail::check_parameter_tensor(file, name, tensor);
  });
  if (file.contains("optimizer.step")) {
    const double step = file.values<double>("optimizer.step")[0];
    if (step < 0.0 || std::floor(step) != step) {
      throw io::format_error(file.source(), "tensor \"optimizer.step\" is " + std::to_string(step) +
                                                ", expected a whole number >= 0");
    }
  }

  const std::int64_t epoch = detail::checkpoint_integer(file, "training.epoch");
  const std::int64_t best_epoch = detail::checkpoint_integer(file, "training.best_epoch");
  const double best_accuracy =
      detail::checkpoint_scalar(file, "training.best_validation_accuracy", io::DType::f64);
  if (epoch < 0 || best_epoch < 0 || best_epoch > epoch || (best_epoch > 0) != has_best) {
    throw io::format_error(
        file.source(), "training.epoch is " + std::to_string(epoch) + " and training.best_epoch " +
                           std::to_string(best_epoch) + (has_best ? " with" : " without") +
                           " best weights; expected 0 <= best_epoch <= epoch, and best "
                           "weights exactly when best_epoch > 0");
  }
  if (!(best_accuracy >= 0.0 && best_accuracy <= 1.0)) {
    throw io::format_error(file.source(), "training.best_validation_accuracy is " +
                                              std::to_string(best_accuracy) +
                                              ", expected a value in [0, 1]");
  }

  Random restored_random;
  try {
    restored_random.set_state(file.metadata().at("random_state"));
  } catch (const deeprnn::invalid_argument& error) {
    throw io::format_error(file.source(),
                           std::string("the metadata random_state is invalid: ") + error.what());
  }

  // Assign.
  TrainingState<Scalar> restored;
  restored.epoch = epoch;
  restored.best_epoch = best_epoch;
  restored.best_validation_accuracy = best_accuracy;
  model.for_each_parameter([&](const std::string& name, auto& value, auto&) {
    value = file.matrix<Scalar>("model." + name);
    if (has_best) restored.best_parameters.push_back(file.matrix<Scalar>("best." + name));
  });
  detail::for_each_optimizer_state(optimizer, [&](const std::string& name, auto& tensor) {
    tensor = file.matrix<Scalar>(name);
  });
  random = restored_random;
  state = std::move(restored);
}

template <class Model, class Optimizer>
void load_checkpoint(const std::filesystem::path& path, Model& model, Optimizer& optimizer,
                     Random& random, TrainingState<typename Model::Scalar>& state) {
  load_checkpoint(io::SafetensorsFile::read(path), model, optimizer, random, state);
}

// Loads only the model's parameters from a checkpoint: its current weights ("model.") or, with
// `best`, the weights of its best epoch ("best."). Other tensors are ignored. All or nothing,
// as load_checkpoint.
template <class Model>
void load_checkpoint_weights(const io::SafetensorsFile& file, Model& model, bool best = false) {
  detail::check_checkpoint_metadata(file);
  const std::string prefix = best ? "best." : "model.";
  std::vector<std::string> missing;
  model.for_each_parameter([&](const std::string& name, auto&, auto&) {
    if (!file.contains(prefix + name)) missing.push_back(prefix + name);
  });
  if (best && !missing.empty() && file.contains("training.best_epoch") &&
      file.integers("training.best_epoch") == std::vector<std::int64_t>{0}) {
    throw io::format_error(file.source(),
                           "the checkpoint has no best weights, because it was saved before any "
                           "epoch was evaluated on a validation set; load its current weights");
  }
  if (!missing.empty()) {
    throw io::format_error(file.source(), "the checkpoint has no tensor " +
                                              io::detail::join_names(missing) +
                                              "; load it into the model architecture it was "
                                              "saved from");
  }
  for (const std::string& name : file.names()) {
    if (name.rfind(prefix, 0) != 0) continue;
    bool known = false;
    model.for_each_parameter([&](const std::string& parameter, auto&, auto&) {
      known = known || prefix + parameter == name;
    });
    if (!known) {
      throw io::format_error(file.source(), "unknown tensor " + io::detail::json_quoted(name) +
                                                "; the checkpoint comes from a model with other "
                                                "layers");
    }
  }
  model.for_each_parameter([&](const std::string& name, auto& value, auto&) {
    io::detail::check_parameter_tensor(file, prefix + name, value);
  });
  model.for_each_parameter([&](const std::string& name, auto& value, auto&) {
    using Scalar = typename std::decay_t<decltype(value)>::Scalar;
    value = file.matrix<Scalar>(prefix + name);
  });
}

template <class Model>
void load_checkpoint_weights(const std::filesystem::path& path, Model& model, bool best = false) {
  load_checkpoint_weights(io::SafetensorsFile::read(path), model, best);
}

}  // namespace deeprnn
