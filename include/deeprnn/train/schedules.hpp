// Learning-rate schedules as pure functions of the epoch or step count, so that a resumed run
// gets the same rate from the restored counter.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <deeprnn/core.hpp>
#include <numbers>
#include <string>

namespace deeprnn {

// Step decay (PyTorch's StepLR): the rate is multiplied by gamma every step_size epochs,
//   lr = base_learning_rate * gamma^floor(epoch / step_size)
// Throws on epoch < 0, step_size < 1, or a base rate or gamma that is negative or not finite.
inline double step_decay(double base_learning_rate, std::int64_t epoch, std::int64_t step_size,
                         double gamma = 0.1) {
  if (!std::isfinite(base_learning_rate) || base_learning_rate < 0.0) {
    detail::throw_invalid("step_decay: base_learning_rate is " +
                          std::to_string(base_learning_rate) + ", expected a finite value >= 0");
  }
  if (epoch < 0) {
    detail::throw_invalid("step_decay: epoch is " + std::to_string(epoch) +
                          ", expected at least 0");
  }
  if (step_size < 1) {
    detail::throw_invalid("step_decay: step_size is " + std::to_string(step_size) +
                          ", expected at least 1");
  }
  if (!std::isfinite(gamma) || gamma < 0.0) {
    detail::throw_invalid("step_decay: gamma is " + std::to_string(gamma) +
                          ", expected a finite value >= 0");
  }
  return base_learning_rate * std::pow(gamma, static_cast<double>(epoch / step_size));
}

// Cosine decay from base_learning_rate to minimum_learning_rate over total_steps, after an
// optional linear warm-up of warmup_steps:
//   step < warmup_steps:  lr = base * (step + 1) / warmup_steps
//   otherwise:            progress = min(1, (step - warmup_steps) / (total_steps - warmup_steps))
//                         lr = minimum + (base - minimum) * (1 + cos(pi * progress)) / 2
// Without warm-up this is PyTorch's CosineAnnealingLR with T_max = total_steps for
// step <= total_steps; after total_steps the rate stays at the minimum instead of rising
// again. Throws on step < 0, warmup_steps < 0, total_steps <= warmup_steps, or rates that are
// negative or not finite.
inline double cosine_decay(double base_learning_rate, std::int64_t step, std::int64_t total_steps,
                           std::int64_t warmup_steps = 0, double minimum_learning_rate = 0.0) {
  if (!std::isfinite(base_learning_rate) || base_learning_rate < 0.0) {
    detail::throw_invalid("cosine_decay: base_learning_rate is " +
                          std::to_string(base_learning_rate) + ", expected a finite value >= 0");
  }
  if (!std::isfinite(minimum_learning_rate) || minimum_learning_rate < 0.0) {
    detail::throw_invalid("cosine_decay: minimum_learning_rate is " +
                          std::to_string(minimum_learning_rate) + ", expected a finite value >= 0");
  }
  if (step < 0) {
    detail::throw_invalid("cosine_decay: step is " + std::to_string(step) +
                          ", expected at least 0");
  }
  if (warmup_steps < 0) {
    detail::throw_invalid("cosine_decay: warmup_steps is " + std::to_string(warmup_steps) +
                          ", expected at least 0");
  }
  if (total_steps <= warmup_steps) {
    detail::throw_invalid("cosine_decay: total_steps is " + std::to_string(total_steps) +
                          ", expected more than warmup_steps (" + std::to_string(warmup_steps) +
                          ")");
  }

  if (step < warmup_steps) {
    return base_learning_rate * static_cast<double>(step + 1) / static_cast<double>(warmup_steps);
  }
  const double progress = std::min(1.0, static_cast<double>(step - warmup_steps) /
                                            static_cast<double>(total_steps - warmup_steps));
  return minimum_learning_rate + (base_learning_rate - minimum_learning_rate) *
                                     (1.0 + std::cos(std::numbers::pi * progress)) / 2.0;
}

}  // namespace deeprnn
