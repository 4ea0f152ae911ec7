// Terminal output helpers for the example programs: durations, a progress line redrawn in
// place while an epoch runs (only on a terminal), and the time-left estimate.
#ifndef DEEPRNN_EXAMPLES_COMMON_PROGRESS_HPP
#define DEEPRNN_EXAMPLES_COMMON_PROGRESS_HPP

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>

namespace deeprnn::examples {

// Whether standard output is a terminal. Only a terminal shows a line redrawn with '\r' in
// place. In a log file or pipe the redraws would pile up, so callers print whole lines there.
inline bool stdout_is_terminal() { return ::isatty(::fileno(stdout)) == 1; }

// "4.2s", "3m07s" or "1h02m".
inline std::string format_duration(double seconds) {
  if (!std::isfinite(seconds) || seconds < 0.0) return "?";
  std::ostringstream out;
  if (seconds < 60.0) {
    out.precision(1);
    out << std::fixed << seconds << "s";
    return out.str();
  }
  const auto whole = static_cast<std::int64_t>(std::llround(seconds));
  const std::int64_t hours = whole / 3600;
  const std::int64_t minutes = (whole % 3600) / 60;
  const std::int64_t rest = whole % 60;
  out.fill('0');
  if (hours > 0) {
    out << hours << "h" << std::setw(2) << minutes << "m";
  } else {
    out << minutes << "m" << std::setw(2) << rest << "s";
  }
  return out.str();
}

// Percentage with one decimal, "87.3%".
inline std::string format_percent(double fraction) {
  std::ostringstream out;
  out.precision(1);
  out << std::fixed << 100.0 * fraction << "%";
  return out.str();
}

// Estimated time for the remaining work, assuming it runs at the average rate so far:
// elapsed * (total - done) / done. Returns NaN before any work is done.
inline double estimate_remaining_seconds(double elapsed_seconds, double done, double total) {
  if (!(done > 0.0)) return std::nan("");
  return elapsed_seconds * std::max(0.0, total - done) / done;
}

// One status line redrawn in place with '\r' on a terminal, at most every `interval`, and
// cleared by clear(). Does nothing when standard output is not a terminal.
class ProgressLine {
 public:
  explicit ProgressLine(double interval_seconds = 0.2)
      : enabled_(stdout_is_terminal()), interval_(interval_seconds) {}

  bool enabled() const { return enabled_; }

  // Redraws the line unless the last redraw was less than `interval` ago; `force` redraws
  // anyway.
  void update(const std::string& text, bool force = false) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (!force && shown_width_ > 0 &&
        std::chrono::duration<double>(now - last_draw_).count() < interval_) {
      return;
    }
    last_draw_ = now;
    std::cout << '\r' << text;
    if (text.size() < shown_width_) std::cout << std::string(shown_width_ - text.size(), ' ');
    std::cout << std::flush;
    shown_width_ = text.size();
  }

  // Erases the line, so that the next output starts at the left margin.
  void clear() {
    if (!enabled_ || shown_width_ == 0) return;
    std::cout << '\r' << std::string(shown_width_, ' ') << '\r' << std::flush;
    shown_width_ = 0;
  }

 private:
  bool enabled_;
  double interval_;
  std::size_t shown_width_ = 0;
  std::chrono::steady_clock::time_point last_draw_{};
};

// A text bar of `width` cells, `fraction` of them filled: "[#######.....]".
inline std::string progress_bar(double fraction, int width = 20) {
  const int filled = std::clamp(static_cast<int>(std::lround(fraction * width)), 0, width);
  return "[" + std::string(static_cast<std::size_t>(filled), '#') +
         std::string(static_cast<std::size_t>(width - filled), '.') + "]";
}

}  // namespace deeprnn::examples

#endif  // DEEPRNN_EXAMPLES_COMMON_PROGRESS_HPP
