// The helpers of the example programs: command-line parsing, CSV tables, SVG axis scales and
// the durations shown in progress lines.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

#include "../examples/common/cli.hpp"
#include "../examples/common/csv.hpp"
#include "../examples/common/plot.hpp"
#include "../examples/common/progress.hpp"

using namespace deeprnn::examples;

namespace {

struct Settings {
  std::int64_t epochs = 10;
  double rate = 0.003;
  std::string word;
  std::filesystem::path folder = "out";
  bool verbose = false;
};

CommandLine make_command_line(Settings& settings) {
  CommandLine command_line("program [options]", "A test program.");
  command_line.add_option("epochs", "N", settings.epochs, "number of epochs", 1, 100);
  command_line.add_option("rate", "RATE", settings.rate, "learning rate", 0.0, 1.0);
  command_line.add_option("word", "WORD", settings.word, "a word");
  command_line.add_option("folder", "DIR", settings.folder, "output folder");
  command_line.add_flag("verbose", settings.verbose, "print more");
  return command_line;
}

bool parse(CommandLine& command_line, std::vector<const char*> arguments) {
  arguments.insert(arguments.begin(), "program");
  return command_line.parse(static_cast<int>(arguments.size()), arguments.data());
}

}  // namespace

TEST_CASE("command line parses values and flags", "[examples]") {
  Settings settings;
  CommandLine command_line = make_command_line(settings);
  REQUIRE(parse(command_line, {"--epochs", "7", "--rate=0.5", "--word", "straße", "--verbose"}));
  CHECK(settings.epochs == 7);
  CHECK(settings.rate == 0.5);
  CHECK(settings.word == "straße");
  CHECK(settings.folder == "out");
  CHECK(settings.verbose);
  CHECK(command_line.given("epochs"));
  CHECK_FALSE(command_line.given("folder"));
}

TEST_CASE("command line rejects invalid input", "[examples]") {
  const std::vector<std::pair<std::vector<const char*>, std::string>> cases{
      {{"--epochs", "0"}, "--epochs is 0, expected a value >= 1 and <= 100"},
      {{"--epochs", "3x"}, "--epochs expects a whole number, got '3x'"},
      {{"--rate", "nan"}, "--rate expects a finite number, got 'nan'"},
      {{"--rate", "2"}, "--rate is 2, expected a value >= 0 and <= 1"},
      {{"--epochs"}, "--epochs needs a value"},
      {{"--verbose=yes"}, "--verbose is a flag and takes no value"},
      {{"--colour", "red"}, "unknown option --colour"},
      {{"stray"}, "unexpected argument 'stray'"},
  };
  for (const auto& [arguments, message] : cases) {
    INFO("message " << message);
    Settings settings;
    CommandLine command_line = make_command_line(settings);
    CHECK_THROWS_WITH(parse(command_line, arguments), Catch::Contains(message));
  }
}

TEST_CASE("command line help lists defaults", "[examples]") {
  Settings settings;
  CommandLine command_line = make_command_line(settings);
  CHECK_FALSE(parse(command_line, {"--epochs", "5", "--help"}));
  const std::string help = command_line.help();
  CHECK_THAT(help, Catch::StartsWith("Usage: program [options]"));
  CHECK_THAT(help, Catch::Contains("--epochs N"));
  CHECK_THAT(help, Catch::Contains("number of epochs (default: 10)"));
  CHECK_THAT(help, Catch::Contains("learning rate (default: 0.003)"));
  CHECK_THAT(help, Catch::Contains("a word (default: none)"));
  CHECK_THAT(help, Catch::Contains("--verbose"));
  std::size_t start = 0;
  while (start < help.size()) {
    const std::size_t end = std::min(help.find('\n', start), help.size());
    CHECK(end - start <= 100);
    start = end + 1;
  }
}

TEST_CASE("csv table quotes and leaves gaps", "[examples]") {
  CsvTable table({"epoch", "loss, mean"});
  table.add_row({1.0, 0.5});
  table.add_row({2.0, std::nan("")});
  CHECK(table.to_string() == "epoch,\"loss, mean\"\n1,0.5\n2,\n");
  CHECK_THROWS_AS(table.add_row({1.0}), std::invalid_argument);
}

TEST_CASE("svg axis ticks are round numbers", "[examples]") {
  const detail::AxisScale accuracy = detail::nice_scale(0.548, 0.924, 6, false);
  CHECK(accuracy.step == Approx(0.1));
  CHECK(accuracy.minimum == Approx(0.5));
  CHECK(accuracy.maximum == Approx(1.0));

  const detail::AxisScale epochs = detail::nice_scale(1, 10, 8, true);
  CHECK(epochs.step == 2.0);
  CHECK(epochs.minimum == 0.0);
  CHECK(epochs.maximum == 10.0);

  const detail::AxisScale single = detail::nice_scale(3, 3, 8, true);
  CHECK(single.minimum <= 2.5);
  CHECK(single.maximum >= 3.5);

  CHECK(detail::tick_text(0.8, 0.1, true) == "80%");
  CHECK(detail::tick_text(0.25, 0.05, false) == "0.25");
}

TEST_CASE("svg chart escapes text", "[examples]") {
  PlotPanel panel{"Loss <train & val>", "epoch", "nats", {}, false};
  panel.series.push_back(PlotSeries{"a \"b\"", {1, 2, 3}, {0.5, std::nan(""), 0.3}});
  const std::string svg = render_svg_chart("title", {panel});
  CHECK_THAT(svg, Catch::Contains("Loss &lt;train &amp; val&gt;"));
  CHECK_THAT(svg, Catch::Contains("a &quot;b&quot;"));
  CHECK_THAT(svg, Catch::EndsWith("</svg>\n"));
  CHECK_THAT(svg, !Catch::Contains("nan"));
}

TEST_CASE("durations and estimates read well", "[examples]") {
  CHECK(format_duration(4.24) == "4.2s");
  CHECK(format_duration(187) == "3m07s");
  CHECK(format_duration(3720) == "1h02m");
  CHECK(format_duration(-1) == "?");
  CHECK(format_percent(0.8734) == "87.3%");
  CHECK(estimate_remaining_seconds(30, 3, 10) == Approx(70));
  CHECK(std::isnan(estimate_remaining_seconds(0, 0, 10)));
  CHECK(progress_bar(0.5, 10) == "[#####.....]");
}
