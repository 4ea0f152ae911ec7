// Line charts as SVG files, for learning curves: panels side by side, each with axes, grid,
// ticks, one polyline with markers per series and a legend. Plain SVG 1.1 with no scripts or
// external fonts, so browsers and rsvg-convert render it alike.
#ifndef DEEPRNN_EXAMPLES_COMMON_PLOT_HPP
#define DEEPRNN_EXAMPLES_COMMON_PLOT_HPP

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace deeprnn::examples {

// One line: y[i] at x[i]; a non-finite y leaves a gap.
struct PlotSeries {
  std::string label;
  std::vector<double> x;
  std::vector<double> y;
  std::string color = "#1f77b4";
  bool dashed = false;
};

struct PlotPanel {
  std::string title;
  std::string x_label;
  std::string y_label;
  std::vector<PlotSeries> series;
  // Show y values times 100 with a % sign (for accuracies stored as fractions).
  bool percent = false;
  // Label x ticks with whole numbers only (epochs).
  bool integer_x = true;
};

namespace detail {

inline std::string xml_escaped(const std::string& text) {
  std::string result;
  for (const char c : text) {
    switch (c) {
      case '&':
        result += "&amp;";
        break;
      case '<':
        result += "&lt;";
        break;
      case '>':
        result += "&gt;";
        break;
      case '"':
        result += "&quot;";
        break;
      default:
        result += c;
    }
  }
  return result;
}

// Axis range and tick spacing: the spacing is 1, 2 or 5 times a power of ten, chosen for about
// `target_ticks` ticks, and the range is widened to whole multiples of it.
struct AxisScale {
  double minimum = 0.0;
  double maximum = 1.0;
  double step = 0.2;
};

inline AxisScale nice_scale(double low, double high, int target_ticks, bool integer_steps) {
  if (!std::isfinite(low) || !std::isfinite(high)) {
    low = 0.0;
    high = 1.0;
  }
  if (high - low < 1e-12) {
    const double pad = std::max(std::abs(low) * 0.05, integer_steps ? 0.5 : 1e-3);
    low -= pad;
    high += pad;
  }
  const double raw = (high - low) / target_ticks;
  const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
  double step = 10.0 * magnitude;
  for (const double factor : {1.0, 2.0, 5.0}) {
    if (factor * magnitude >= raw) {
      step = factor * magnitude;
      break;
    }
  }
  if (integer_steps) step = std::max(1.0, std::round(step));
  AxisScale scale;
  scale.step = step;
  scale.minimum = std::floor(low / step + 1e-9) * step;
  scale.maximum = std::ceil(high / step - 1e-9) * step;
  return scale;
}

inline std::string tick_text(double value, double step, bool percent) {
  std::ostringstream out;
  const double shown = percent ? 100.0 * value : value;
  const double shown_step = percent ? 100.0 * step : step;
  const int decimals = std::max(0, static_cast<int>(std::ceil(-std::log10(shown_step) - 1e-9)));
  out.precision(decimals);
  out << std::fixed << (std::abs(shown) < 1e-12 ? 0.0 : shown) << (percent ? "%" : "");
  return out.str();
}

inline void render_panel(std::ostringstream& svg, const PlotPanel& panel, double left, double top,
                         double width, double height) {
  // Margins inside the panel for tick labels, axis labels, title and legend. The legend wraps
  // into as many rows as the plot's width needs, and the plot gives up the height.
  const double plot_left = left + 64;
  const double plot_top = top + 34;
  const double plot_width = width - 84;
  const auto legend_entry_width = [](const PlotSeries& series) {
    return 40 + 6.5 * static_cast<double>(series.label.size());
  };
  int legend_rows = 1;
  double row_width = 0.0;
  for (const PlotSeries& series : panel.series) {
    if (row_width > 0.0 && row_width + legend_entry_width(series) > plot_width) {
      ++legend_rows;
      row_width = 0.0;
    }
    row_width += legend_entry_width(series);
  }
  constexpr double legend_row_height = 16;
  const double plot_height = height - 100 - legend_row_height * (legend_rows - 1);

  double x_low = std::numeric_limits<double>::infinity();
  double x_high = -x_low;
  double y_low = x_low;
  double y_high = -x_low;
  for (const PlotSeries& series : panel.series) {
    for (std::size_t i = 0; i < series.x.size() && i < series.y.size(); ++i) {
      if (!std::isfinite(series.y[i])) continue;
      x_low = std::min(x_low, series.x[i]);
      x_high = std::max(x_high, series.x[i]);
      y_low = std::min(y_low, series.y[i]);
      y_high = std::max(y_high, series.y[i]);
    }
  }
  const AxisScale x_scale = nice_scale(x_low, x_high, 8, panel.integer_x);
  const AxisScale y_scale = nice_scale(y_low, y_high, 6, false);
  const auto to_x = [&](double x) {
    return plot_left + (x - x_scale.minimum) / (x_scale.maximum - x_scale.minimum) * plot_width;
  };
  const auto to_y = [&](double y) {
    return plot_top + plot_height -
           (y - y_scale.minimum) / (y_scale.maximum - y_scale.minimum) * plot_height;
  };

  svg << "<text x=\"" << left + width / 2 << "\" y=\"" << top + 20
      << "\" text-anchor=\"middle\" font-size=\"15\" font-weight=\"bold\">"
      << xml_escaped(panel.title) << "</text>\n";

  // Grid lines and tick labels.
  for (double y = y_scale.minimum; y <= y_scale.maximum + y_scale.step * 1e-6; y += y_scale.step) {
    svg << "<line x1=\"" << plot_left << "\" y1=\"" << to_y(y) << "\" x2=\""
        << plot_left + plot_width << "\" y2=\"" << to_y(y)
        << "\" stroke=\"#dddddd\" stroke-width=\"1\"/>\n";
    svg << "<text x=\"" << plot_left - 6 << "\" y=\"" << to_y(y) + 4
        << "\" text-anchor=\"end\" font-size=\"11\">" << tick_text(y, y_scale.step, panel.percent)
        << "</text>\n";
  }
  for (double x = x_scale.minimum; x <= x_scale.maximum + x_scale.step * 1e-6; x += x_scale.step) {
    svg << "<line x1=\"" << to_x(x) << "\" y1=\"" << plot_top << "\" x2=\"" << to_x(x) << "\" y2=\""
        << plot_top + plot_height << "\" stroke=\"#eeeeee\" stroke-width=\"1\"/>\n";
    svg << "<text x=\"" << to_x(x) << "\" y=\"" << plot_top + plot_height + 16
        << "\" text-anchor=\"middle\" font-size=\"11\">" << tick_text(x, x_scale.step, false)
        << "</text>\n";
  }
  svg << "<rect x=\"" << plot_left << "\" y=\"" << plot_top << "\" width=\"" << plot_width
      << "\" height=\"" << plot_height << "\" fill=\"none\" stroke=\"#444444\"/>\n";
  svg << "<text x=\"" << plot_left + plot_width / 2 << "\" y=\"" << plot_top + plot_height + 34
      << "\" text-anchor=\"middle\" font-size=\"12\">" << xml_escaped(panel.x_label) << "</text>\n";
  const double y_label_x = left + 14;
  const double y_label_y = plot_top + plot_height / 2;
  svg << "<text x=\"" << y_label_x << "\" y=\"" << y_label_y
      << "\" text-anchor=\"middle\" font-size=\"12\" transform=\"rotate(-90 " << y_label_x << " "
      << y_label_y << ")\">" << xml_escaped(panel.y_label) << "</text>\n";

  // Series: polylines broken at non-finite values, with a marker at each point.
  for (const PlotSeries& series : panel.series) {
    const std::string dash = series.dashed ? " stroke-dasharray=\"6 4\"" : "";
    std::ostringstream points;
    const auto flush_line = [&] {
      if (!points.str().empty()) {
        svg << "<polyline points=\"" << points.str() << "\" fill=\"none\" stroke=\"" << series.color
            << "\" stroke-width=\"2\"" << dash << "/>\n";
      }
      points.str("");
    };
    for (std::size_t i = 0; i < series.x.size() && i < series.y.size(); ++i) {
      if (!std::isfinite(series.y[i])) {
        flush_line();
        continue;
      }
      points << to_x(series.x[i]) << "," << to_y(series.y[i]) << " ";
    }
    flush_line();
    for (std::size_t i = 0; i < series.x.size() && i < series.y.size(); ++i) {
      if (!std::isfinite(series.y[i])) continue;
      svg << "<circle cx=\"" << to_x(series.x[i]) << "\" cy=\"" << to_y(series.y[i])
          << "\" r=\"3\" fill=\"" << series.color << "\"/>\n";
    }
  }

  // Legend below the x-axis label, entries side by side in rows.
  double legend_x = plot_left;
  double legend_y = plot_top + plot_height + 54;
  for (const PlotSeries& series : panel.series) {
    if (legend_x > plot_left && legend_x + legend_entry_width(series) > plot_left + plot_width) {
      legend_x = plot_left;
      legend_y += legend_row_height;
    }
    const std::string dash = series.dashed ? " stroke-dasharray=\"6 4\"" : "";
    svg << "<line x1=\"" << legend_x << "\" y1=\"" << legend_y << "\" x2=\"" << legend_x + 22
        << "\" y2=\"" << legend_y << "\" stroke=\"" << series.color << "\" stroke-width=\"2\""
        << dash << "/>\n";
    svg << "<text x=\"" << legend_x + 27 << "\" y=\"" << legend_y + 4 << "\" font-size=\"11\">"
        << xml_escaped(series.label) << "</text>\n";
    legend_x += legend_entry_width(series);
  }
}

}  // namespace detail

// Returns an SVG document with the panels side by side under a common title.
inline std::string render_svg_chart(const std::string& title, const std::vector<PlotPanel>& panels,
                                    double panel_width = 480, double panel_height = 380) {
  const double width = panel_width * static_cast<double>(std::max<std::size_t>(1, panels.size()));
  const double height = panel_height + 36;
  std::ostringstream svg;
  svg.precision(6);
  svg << "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
      << "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" << width
      << "\" height=\"" << height << "\" viewBox=\"0 0 " << width << " " << height
      << "\" font-family=\"DejaVu Sans, Arial, Helvetica, sans-serif\">\n"
      << "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n"
      << "<text x=\"" << width / 2 << "\" y=\"24\" text-anchor=\"middle\" font-size=\"17\">"
      << detail::xml_escaped(title) << "</text>\n";
  for (std::size_t p = 0; p < panels.size(); ++p) {
    detail::render_panel(svg, panels[p], panel_width * static_cast<double>(p), 36, panel_width,
                         panel_height);
  }
  svg << "</svg>\n";
  return svg.str();
}

// Writes render_svg_chart(...) to `path`; throws std::runtime_error when that fails.
inline void write_svg_chart(const std::filesystem::path& path, const std::string& title,
                            const std::vector<PlotPanel>& panels) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << render_svg_chart(title, panels);
  out.flush();
  if (!out) throw std::runtime_error("failed to write " + path.string());
}

}  // namespace deeprnn::examples

#endif  // DEEPRNN_EXAMPLES_COMMON_PLOT_HPP
