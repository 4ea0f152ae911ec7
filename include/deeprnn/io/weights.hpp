// Saving and loading model parameters as safetensors files.
//
// A model is any object with for_each_parameter(visit) that calls
// visit(const std::string& name, value, gradient) for each parameter, value being a
// deeprnn::Matrix or deeprnn::Vector of float or double (StackedRNN, SummaryRNN). Each
// parameter is stored under prefix + name with the model's dtype and PyTorch's shape: a
// matrix as [rows, cols] (weights [out, in]), a vector as [N] (biases). The metadata contains
// "format" = "deeprnn-weights" and "format_version" = "1".
#pragma once

#include <cmath>
#include <cstddef>
#include <cstdint>
#include <deeprnn/core.hpp>
#include <deeprnn/io/errors.hpp>
#include <deeprnn/io/safetensors.hpp>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace deeprnn::io {

inline constexpr const char* weights_format = "deeprnn-weights";
inline constexpr const char* weights_format_version = "1";

namespace detail {

// A visitor that accepts every parameter, used to test for for_each_parameter.
struct ParameterProbe {
  template <class Value, class Gradient>
  void operator()(const std::string&, Value&, Gradient&) const {}
};

}  // namespace detail

template <class Model>
concept ParameterContainer = requires(Model& model, detail::ParameterProbe probe) {
  model.for_each_parameter(probe);
};

// A model whose parameter names get `prefix` in the file, so that several models can share
// one file: save_weights(path, with_prefix("rnn.", rnn), with_prefix("head.", head)).
template <ParameterContainer Model>
struct PrefixedParameters {
  std::string prefix;
  Model* model;
};

template <ParameterContainer Model>
PrefixedParameters<Model> with_prefix(std::string prefix, Model& model) {
  return {std::move(prefix), &model};
}

namespace detail {

template <class Scalar>
const char* scalar_name() {
  return std::is_same_v<Scalar, float> ? "float" : "double";
}

// PyTorch's shape of a parameter: [N] for a column vector type, [rows, cols] otherwise.
template <class Value>
std::vector<std::int64_t> parameter_shape(const Value& value) {
  if constexpr (Value::ColsAtCompileTime == 1) {
    return {static_cast<std::int64_t>(value.rows())};
  } else {
    return {static_cast<std::int64_t>(value.rows()), static_cast<std::int64_t>(value.cols())};
  }
}

// Calls visit(prefix + name, value) for every parameter of every component.
template <class Visitor, class... Models>
void for_each_prefixed_parameter(Visitor&& visit, const PrefixedParameters<Models>&... components) {
  (components.model->for_each_parameter([&](const std::string& name, auto& value, auto&) {
    visit(components.prefix + name, value);
  }),
   ...);
}

inline std::string join_names(const std::vector<std::string>& names) {
  std::string text;
  for (std::size_t i = 0; i < names.size(); ++i) text += (i == 0 ? "" : ", ") + names[i];
  return text;
}

// Rejects files whose metadata names another format or version. Files without a "format"
// key are accepted, so that safetensors files written by other tools (for example PyTorch's
// safetensors.torch.save_file of an nn.LSTM state_dict, whose names match StackedRNN's)
// load too.
inline void check_weights_metadata(const SafetensorsFile& file) {
  const std::map<std::string, std::string>& metadata = file.metadata();
  const auto format = metadata.find("format");
  if (format == metadata.end()) return;
  if (format->second != weights_format) {
    throw format_error(file.source(), "the metadata format is " + json_quoted(format->second) +
                                          ", expected \"" + weights_format +
                                          "\"; this file does not hold deeprnn weights");
  }
  const auto version = metadata.find("format_version");
  const std::string found = version == metadata.end() ? "missing" : json_quoted(version->second);
  if (version == metadata.end() || version->second != weights_format_version) {
    throw format_error(file.source(), "the metadata format_version is " + found + ", expected \"" +
                                          weights_format_version +
                                          "\"; this version of deeprnn reads version 1 only");
  }
}

// Throws unless the file's tensor names are exactly the parameters' names, each once.
inline void check_parameter_names(const SafetensorsFile& file,
                                  const std::vector<std::string>& parameter_names) {
  std::set<std::string> expected;
  for (const std::string& name : parameter_names) {
    if (!expected.insert(name).second) {
      deeprnn::detail::throw_invalid("load_weights: two parameters are both named " +
                                     json_quoted(name) + "; give the models different prefixes");
    }
  }
  std::vector<std::string> missing;
  for (const std::string& name : parameter_names) {
    if (!file.contains(name)) missing.push_back(name);
  }
  std::vector<std::string> unknown;
  for (const std::string& name : file.names()) {
    if (expected.count(name) == 0) unknown.push_back(name);
  }
  if (missing.empty() && unknown.empty()) return;

  std::string problem = "the tensors do not match the model's parameters:";
  if (!missing.empty()) problem += " missing " + join_names(missing) + ";";
  if (!unknown.empty()) problem += " unknown " + join_names(unknown) + ";";
  throw format_error(file.source(), problem +
                                        " check that the file was saved from the same model "
                                        "architecture with the same name prefix");
}

// Throws unless the tensor has the parameter's dtype and shape and only finite values.
template <class Value>
void check_parameter_tensor(const SafetensorsFile& file, const std::string& name,
                            const Value& value) {
  using Scalar = typename Value::Scalar;
  static_assert(std::is_floating_point_v<Scalar>, "parameters are float or double matrices");
  const TensorInfo& tensor = file.info(name);
  if (tensor.dtype != dtype_of<Scalar>()) {
    throw format_error(file.source(),
                       "tensor " + json_quoted(name) + " has dtype " + dtype_name(tensor.dtype) +
                           ", but the model's parameters are " + scalar_name<Scalar>() + " (" +
                           dtype_name(dtype_of<Scalar>()) +
                           "); build the model with the file's "
                           "scalar type or save the weights from a " +
                           scalar_name<Scalar>() + " model");
  }
  const std::vector<std::int64_t> expected = parameter_shape(value);
  if (tensor.shape != expected) {
    throw format_error(file.source(), "tensor " + json_quoted(name) + " has shape " +
                                          shape_string(tensor.shape) + ", but the model expects " +
                                          shape_string(expected) +
                                          "; the layer widths of the file and the model differ");
  }
  const std::vector<Scalar> values = file.values<Scalar>(name);
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (!std::isfinite(values[i])) {
      throw format_error(file.source(),
                         "tensor " + json_quoted(name) + " contains the non-finite value " +
                             std::to_string(values[i]) + " at " +
                             position_string(static_cast<std::int64_t>(i), tensor.shape) +
                             " (flat index " + std::to_string(i) +
                             "); the weights were saved from a diverged model");
    }
  }
}

}  // namespace detail

// Adds the model's parameters to `writer` under prefix + name. Throws
// deeprnn::invalid_argument, naming the parameter and position, when a value is NaN or
// infinite.
template <ParameterContainer Model>
void add_weights(SafetensorsWriter& writer, Model& model, const std::string& prefix = "") {
  model.for_each_parameter([&](const std::string& name, auto& value, auto&) {
    const std::string full_name = prefix + name;
    for (Index j = 0; j < value.cols(); ++j) {
      for (Index i = 0; i < value.rows(); ++i) {
        if (!std::isfinite(value(i, j))) {
          deeprnn::detail::throw_invalid(
              "save_weights: parameter " + detail::json_quoted(full_name) +
              " contains the non-finite value " + std::to_string(value(i, j)) + " at row " +
              std::to_string(i) + ", column " + std::to_string(j) +
              "; the model has diverged, so its weights are not saved");
        }
      }
    }
    writer.add(full_name, value);
  });
}

// Writes the parameters of every component to one file, atomically (see
// SafetensorsWriter::write). Nothing is written when a parameter is not finite.
template <ParameterContainer... Models>
void save_weights(const std::filesystem::path& path,
                  const PrefixedParameters<Models>&... components) {
  static_assert(sizeof...(Models) > 0, "save_weights needs at least one model");
  SafetensorsWriter writer;
  (add_weights(writer, *components.model, components.prefix), ...);
  writer.set_metadata("format", weights_format);
  writer.set_metadata("format_version", weights_format_version);
  writer.write(path);
}

template <ParameterContainer Model>
void save_weights(const std::filesystem::path& path, Model& model, const std::string& prefix = "") {
  save_weights(path, with_prefix(prefix, model));
}

// Loads every component's parameters, all or nothing: the file must hold exactly the
// parameters' names, each with the model's dtype and shape and finite values, or
// format_error is thrown and no parameter changes.
template <ParameterContainer... Models>
void load_weights(const SafetensorsFile& file, const PrefixedParameters<Models>&... components) {
  static_assert(sizeof...(Models) > 0, "load_weights needs at least one model");
  detail::check_weights_metadata(file);

  std::vector<std::string> names;
  detail::for_each_prefixed_parameter(
      [&](const std::string& name, const auto&) { names.push_back(name); }, components...);
  detail::check_parameter_names(file, names);

  detail::for_each_prefixed_parameter(
      [&](const std::string& name, const auto& value) {
        detail::check_parameter_tensor(file, name, value);
      },
      components...);

  detail::for_each_prefixed_parameter(
      [&](const std::string& name, auto& value) {
        using Scalar = typename std::decay_t<decltype(value)>::Scalar;
        value = file.matrix<Scalar>(name);
      },
      components...);
}

template <ParameterContainer... Models>
void load_weights(const std::filesystem::path& path,
                  const PrefixedParameters<Models>&... components) {
  load_weights(SafetensorsFile::read(path), components...);
}

template <ParameterContainer Model>
void load_weights(const SafetensorsFile& file, Model& model, const std::string& prefix = "") {
  load_weights(file, with_prefix(prefix, model));
}

template <ParameterContainer Model>
void load_weights(const std::filesystem::path& path, Model& model, const std::string& prefix = "") {
  load_weights(SafetensorsFile::read(path), with_prefix(prefix, model));
}

}  // namespace deeprnn::io
