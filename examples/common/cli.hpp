// A small command-line parser for the example programs: --name value, --name=value and
// --flag, with generated --help text that shows each option's default.
#ifndef DEEPRNN_EXAMPLES_COMMON_CLI_HPP
#define DEEPRNN_EXAMPLES_COMMON_CLI_HPP

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <iomanip>
#include <ostream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace deeprnn::examples {

// Thrown for a command line that cannot be parsed; the message names the fix.
class command_line_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class CommandLine {
 public:
  // `usage` is the first line of the help text, `description` the paragraph below it.
  CommandLine(std::string usage, std::string description)
      : usage_(std::move(usage)), description_(std::move(description)) {}

  // Adds --name, which sets `target` to true when given.
  void add_flag(const std::string& name, bool& target, const std::string& help) {
    Option option;
    option.name = name;
    option.help = help;
    option.is_flag = true;
    option.apply = [&target](const std::string&) { target = true; };
    add(std::move(option));
  }

  // Adds --name VALUE for an integer, floating-point, string or path `target`, whose current
  // value is shown as the default. Integers must lie in [minimum, maximum]; floating-point
  // values must be finite and in [minimum, maximum].
  template <class T>
  void add_option(const std::string& name, const std::string& value_name, T& target,
                  const std::string& help, double minimum = -HUGE_VAL, double maximum = HUGE_VAL) {
    Option option;
    option.name = name;
    option.value_name = value_name;
    option.help = help;
    option.default_text = to_text(target);
    option.apply = [&target, name, minimum, maximum](const std::string& text) {
      target = parse_value<T>(name, text, minimum, maximum);
    };
    add(std::move(option));
  }

  // Parses argv. Returns false when --help was given (the caller prints help() and exits 0).
  // Throws command_line_error for an unknown option, a missing or invalid value, or a value
  // given to a flag.
  bool parse(int argc, const char* const* argv) {
    for (int i = 1; i < argc; ++i) {
      const std::string argument = argv[i];
      if (argument == "--help" || argument == "-h") return false;
      if (argument.rfind("--", 0) != 0) {
        throw command_line_error("unexpected argument '" + argument +
                                 "'; options start with --, see --help");
      }

      const std::size_t equals = argument.find('=');
      const std::string name =
          argument.substr(2, equals == std::string::npos ? std::string::npos : equals - 2);
      Option& option = find(name);
      std::string value;
      if (option.is_flag) {
        if (equals != std::string::npos) {
          throw command_line_error("--" + name + " is a flag and takes no value");
        }
      } else if (equals != std::string::npos) {
        value = argument.substr(equals + 1);
      } else if (i + 1 < argc) {
        value = argv[++i];
      } else {
        throw command_line_error("--" + name + " needs a value: --" + name + " " +
                                 option.value_name);
      }
      option.apply(value);
      given_.insert(name);
    }
    return true;
  }

  // Whether --name appeared on the command line.
  bool given(const std::string& name) const { return given_.count(name) != 0; }

  std::string help() const {
    std::ostringstream out;
    out << "Usage: " << usage_ << "\n\n" << description_ << "\n\nOptions:\n";
    for (const Option& option : options_) {
      std::string left = "  --" + option.name;
      if (!option.is_flag) left += " " + option.value_name;
      out << left;
      if (left.size() >= help_column) {
        out << "\n" << std::string(help_column, ' ');
      } else {
        out << std::string(help_column - left.size(), ' ');
      }
      std::string text = option.help;
      if (!option.is_flag) text += " (default: " + option.default_text + ")";
      out << wrapped(text) << "\n";
    }
    out << "  --help" << std::string(help_column - 8, ' ') << "print this text and exit\n";
    return out.str();
  }

 private:
  static constexpr std::size_t help_column = 32;
  static constexpr std::size_t line_width = 100;

  // Breaks `text` at spaces into lines that end before line_width, indenting every line after
  // the first to help_column.
  static std::string wrapped(const std::string& text) {
    std::istringstream words(text);
    std::string word;
    std::string result;
    std::size_t column = help_column;
    while (words >> word) {
      if (column > help_column && column + 1 + word.size() > line_width) {
        result += "\n" + std::string(help_column, ' ');
        column = help_column;
      } else if (column > help_column) {
        result += ' ';
        ++column;
      }
      result += word;
      column += word.size();
    }
    return result;
  }

  struct Option {
    std::string name;
    std::string value_name;
    std::string help;
    std::string default_text;
    bool is_flag = false;
    std::function<void(const std::string&)> apply;
  };

  void add(Option option) {
    for (const Option& existing : options_) {
      if (existing.name == option.name) {
        throw std::logic_error("CommandLine: option --" + option.name + " is defined twice");
      }
    }
    options_.push_back(std::move(option));
  }

  Option& find(const std::string& name) {
    for (Option& option : options_) {
      if (option.name == name) return option;
    }
    throw command_line_error("unknown option --" + name + "; see --help for the options");
  }

  template <class T>
  static std::string to_text(const T& value) {
    if constexpr (std::is_same_v<T, std::string>) {
      return value.empty() ? "none" : value;
    } else if constexpr (std::is_same_v<T, std::filesystem::path>) {
      return value.empty() ? "none" : value.string();
    } else {
      std::ostringstream out;
      out << value;
      return out.str();
    }
  }

  template <class T>
  static T parse_value(const std::string& name, const std::string& text, double minimum,
                       double maximum) {
    if constexpr (std::is_same_v<T, std::string> || std::is_same_v<T, std::filesystem::path>) {
      if (text.empty()) throw command_line_error("--" + name + " needs a non-empty value");
      return T(text);
    } else if constexpr (std::is_integral_v<T>) {
      T value{};
      const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (error != std::errc() || end != text.data() + text.size()) {
        throw command_line_error("--" + name + " expects a whole number, got '" + text + "'");
      }
      check_range(name, text, static_cast<double>(value), minimum, maximum);
      return value;
    } else {
      static_assert(std::is_floating_point_v<T>, "options are numbers, strings or paths");
      char* end = nullptr;
      const double value = std::strtod(text.c_str(), &end);
      if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(value)) {
        throw command_line_error("--" + name + " expects a finite number, got '" + text + "'");
      }
      check_range(name, text, value, minimum, maximum);
      return static_cast<T>(value);
    }
  }

  static void check_range(const std::string& name, const std::string& text, double value,
                          double minimum, double maximum) {
    if (value < minimum || value > maximum) {
      std::ostringstream range;
      range << "--" << name << " is " << text << ", expected a value";
      if (std::isfinite(minimum)) range << " >= " << minimum;
      if (std::isfinite(minimum) && std::isfinite(maximum)) range << " and";
      if (std::isfinite(maximum)) range << " <= " << maximum;
      throw command_line_error(range.str());
    }
  }

  std::string usage_;
  std::string description_;
  std::vector<Option> options_;
  std::set<std::string> given_;
};

}  // namespace deeprnn::examples

#endif  // DEEPRNN_EXAMPLES_COMMON_CLI_HPP
