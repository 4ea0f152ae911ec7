// Mini-batch training, forecasts in births, and the weight files of the births forecaster.
#ifndef DEEPRNN_EXAMPLES_BIRTHS_FORECAST_TRAINING_HPP
#define DEEPRNN_EXAMPLES_BIRTHS_FORECAST_TRAINING_HPP

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <deeprnn/deeprnn.hpp>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "features.hpp"
#include "model.hpp"

namespace deeprnn::examples::births_forecast {

// Forecasts, in births, of the given target days, computed in batches without dropout.
inline std::vector<double> forecast_births(Forecaster& model, const Matrix<float>& features,
                                           std::span<const std::size_t> days, Index window,
                                           const Standardization& standardization,
                                           Index batch_size = 512) {
  std::vector<double> forecasts;
  forecasts.reserve(days.size());
  WindowBatch batch;
  for (std::size_t first = 0; first < days.size(); first += static_cast<std::size_t>(batch_size)) {
    const std::size_t count = std::min(days.size() - first, static_cast<std::size_t>(batch_size));
    fill_window_batch(features, days.subspan(first, count), window, batch);
    const Matrix<float>& z = model.forward(batch.inputs, static_cast<Index>(count));
    for (Index b = 0; b < z.cols(); ++b) {
      forecasts.push_back(standardization.to_births(static_cast<double>(z(0, b))));
    }
  }
  return forecasts;
}

// Root mean square error, in births, of forecasts[i] for day days[i].
inline double rmse_births(const BirthsData& data, std::span<const std::size_t> days,
                          std::span<const double> forecasts) {
  double squares = 0.0;
  for (std::size_t i = 0; i < days.size(); ++i) {
    const double error = forecasts[i] - data.days[days[i]].births;
    squares += error * error;
  }
  return std::sqrt(squares / static_cast<double>(days.size()));
}

struct TrainingSettings {
  Index window = 56;
  Index batch_size = 32;
  double learning_rate = 3e-3;
  double final_learning_rate = 1e-4;
  double clip_norm = 1.0;
  std::int64_t epochs = 60;
};

// Figures of one epoch.
struct EpochRecord {
  std::int64_t epoch = 0;
  double train_loss = 0.0;       // mean squared error of the standardised counts, with dropout
  double validation_rmse = 0.0;  // births
  double learning_rate = 0.0;
  double train_seconds = 0.0;
  double seconds = 0.0;  // training and validation
  double sequences_per_second = 0.0;
  bool improved = false;
};

// Mini-batch training over shuffled target days. The learning rate follows a cosine from
// settings.learning_rate at the first step to settings.final_learning_rate at the last step of
// settings.epochs epochs.
class Trainer {
 public:
  Trainer(Forecaster& model, Adam<float>& optimizer, Random& random, const Matrix<float>& features,
          std::vector<std::size_t> train_days, const TrainingSettings& settings)
      : model_(model),
        optimizer_(optimizer),
        random_(random),
        features_(features),
        train_days_(std::move(train_days)),
        settings_(settings) {
    const auto batches_per_epoch =
        (static_cast<Index>(train_days_.size()) + settings.batch_size - 1) / settings.batch_size;
    total_steps_ = std::max<std::int64_t>(1, batches_per_epoch * settings.epochs);
  }

  // Trains one epoch over every training day and fills the loss, learning-rate and timing
  // fields of `record`.
  void train_epoch(EpochRecord& record) {
    const auto start = std::chrono::steady_clock::now();
    random_.shuffle(train_days_);
    double loss_sum = 0.0;
    const auto batch_size = static_cast<std::size_t>(settings_.batch_size);
    for (std::size_t first = 0; first < train_days_.size(); first += batch_size) {
      const std::size_t count = std::min(train_days_.size() - first, batch_size);
      fill_window_batch(features_, std::span(train_days_).subspan(first, count), settings_.window,
                        batch_);
      model_.zero_gradients();
      const Matrix<float>& forecasts =
          model_.forward(batch_.inputs, static_cast<Index>(count), &random_);
      const double loss = mean_squared_error(forecasts, batch_.targets, &d_forecasts_);
      model_.backward(d_forecasts_);
      const double norm = settings_.clip_norm > 0.0
                              ? optimizer_.clip_gradient_norm(settings_.clip_norm)
                              : optimizer_.parameters().gradient_norm();
      if (!std::isfinite(loss) || !std::isfinite(norm)) {
        throw invalid_argument("training diverged in epoch " + std::to_string(record.epoch) +
                               ": the loss or gradient norm is not finite; lower "
                               "--learning-rate or --clip-norm");
      }
      record.learning_rate = current_learning_rate();
      optimizer_.options.learning_rate = record.learning_rate;
      optimizer_.step();
      ++step_;
      loss_sum += loss * static_cast<double>(count);
    }
    record.train_loss = loss_sum / static_cast<double>(train_days_.size());
    record.train_seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    record.sequences_per_second = static_cast<double>(train_days_.size()) / record.train_seconds;
  }

 private:
  double current_learning_rate() const {
    if (total_steps_ <= 1) return settings_.learning_rate;
    return cosine_decay(settings_.learning_rate, std::min(step_, total_steps_ - 1),
                        total_steps_ - 1, 0, settings_.final_learning_rate);
  }

  Forecaster& model_;
  Adam<float>& optimizer_;
  Random& random_;
  const Matrix<float>& features_;
  std::vector<std::size_t> train_days_;
  TrainingSettings settings_;
  std::int64_t total_steps_ = 1;
  std::int64_t step_ = 0;
  WindowBatch batch_;
  Matrix<float> d_forecasts_;
};

inline constexpr const char* kExampleName = "births_forecast";

// Shortest text that reads back as the same double.
inline std::string exact_text(double value) {
  char text[64];
  const auto result = std::to_chars(text, text + sizeof text, value);
  return std::string(text, result.ptr);
}

// Writes the weights atomically, with what rebuilds the model and its inputs (width, window,
// standardisation) and the epoch's figures as metadata.
inline void save_model(const std::filesystem::path& path, Forecaster& model, Index window,
                       const Standardization& standardization, std::int64_t epoch,
                       double validation_rmse) {
  io::SafetensorsWriter writer;
  io::add_weights(writer, model);
  writer.set_metadata("format", io::weights_format);
  writer.set_metadata("format_version", io::weights_format_version);
  writer.set_metadata("example", kExampleName);
  writer.set_metadata("hidden_size", std::to_string(model.config().hidden_size));
  writer.set_metadata("window", std::to_string(window));
  writer.set_metadata("births_mean", exact_text(standardization.mean));
  writer.set_metadata("births_std", exact_text(standardization.std));
  writer.set_metadata("epoch", std::to_string(epoch));
  writer.set_metadata("validation_rmse", exact_text(validation_rmse));
  writer.write(path);
}

struct LoadedModel {
  std::unique_ptr<Forecaster> model;
  Index window = 0;
  Standardization standardization;
  std::int64_t epoch = 0;
  double validation_rmse = 0.0;
};

// Throws deeprnn::invalid_argument when the file is missing or was not written by this
// example, and io::format_error when its tensors do not fit the model its metadata describes.
inline LoadedModel load_model(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path)) {
    throw invalid_argument("no weights at " + path.string() +
                           "; train the model first (run births_forecast with the same "
                           "--output-dir)");
  }
  const io::SafetensorsFile file = io::SafetensorsFile::read(path);
  const auto value = [&](const std::string& key) {
    const auto found = file.metadata().find(key);
    if (found == file.metadata().end()) {
      throw invalid_argument(path.string() + " has no metadata entry \"" + key +
                             "\"; it was not written by the births_forecast example");
    }
    return found->second;
  };
  if (value("example") != kExampleName) {
    throw invalid_argument(path.string() + " was written by the example \"" + value("example") +
                           "\", not " + kExampleName);
  }
  ModelConfig config;
  config.hidden_size = std::stoll(value("hidden_size"));
  LoadedModel loaded;
  loaded.model = std::make_unique<Forecaster>(config);
  io::load_weights(file, *loaded.model);
  loaded.window = std::stoll(value("window"));
  loaded.standardization = {std::stod(value("births_mean")), std::stod(value("births_std"))};
  loaded.epoch = std::stoll(value("epoch"));
  loaded.validation_rmse = std::stod(value("validation_rmse"));
  return loaded;
}

}  // namespace deeprnn::examples::births_forecast

#endif  // DEEPRNN_EXAMPLES_BIRTHS_FORECAST_TRAINING_HPP
