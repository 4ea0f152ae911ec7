// Tests of the evaluation metrics: predicted classes, accuracy, RunningMean and
// ConfusionMatrix, with expected values counted by hand.
#include <catch2/catch.hpp>
#include <cmath>
#include <cstdint>
#include <deeprnn/train/metrics.hpp>
#include <vector>

using namespace deeprnn;

namespace {

// Four samples over three classes. The largest logit of each column is at 2, 0, 1, 0, where
// the last column ties classes 0 and 2 and the first of them wins.
Matrix<double> example_logits() {
  Matrix<double> logits(3, 4);
  logits << 0.1, 2.0, -1.0, 0.5,  //
      0.2, 1.0, 3.0, -0.5,        //
      0.3, 0.0, 2.5, 0.5;
  return logits;
}

}  // namespace

TEST_CASE("predicted classes take the first maximum", "[metrics]") {
  CHECK(predicted_classes(example_logits()) == std::vector<std::int64_t>{2, 0, 1, 0});
  CHECK(predicted_classes(Matrix<float>::Zero(3, 1)) == std::vector<std::int64_t>{0});
  CHECK_THROWS_WITH(predicted_classes(Matrix<double>(0, 2)), Catch::Contains("no rows"));
}

TEST_CASE("accuracy by hand", "[metrics]") {
  const Matrix<double> logits = example_logits();
  // Predictions 2, 0, 1, 0 against labels 2, 1, 1, 2: samples 0 and 2 are right.
  const std::vector<std::int64_t> labels{2, 1, 1, 2};
  CHECK(accuracy(logits, labels) == 0.5);
  // Mask (1, 0, 1, 0): both counted samples are right; the padded labels are not read.
  const std::vector<std::int64_t> padded_labels{2, -1, 1, 99};
  const std::vector<double> mask{1.0, 0.0, 1.0, 0.0};
  CHECK(accuracy(logits, padded_labels, std::span<const double>(mask)) == 1.0);
  // Weights (1, 3, 1, 0): right 1 + 1 of 1 + 3 + 1.
  const std::vector<double> weights{1.0, 3.0, 1.0, 0.0};
  CHECK(accuracy(logits, labels, std::span<const double>(weights)) == 2.0 / 5.0);
}

TEST_CASE("accuracy rejects invalid input", "[metrics][errors]") {
  const Matrix<double> logits = example_logits();
  CHECK_THROWS_WITH(accuracy(Matrix<double>(3, 0), std::vector<std::int64_t>{}),
                    Catch::Contains("at least one class and one sample"));
  CHECK_THROWS_WITH(accuracy(logits, std::vector<std::int64_t>{0, 1}),
                    Catch::Contains("labels has 2 entries, expected one per sample (4)"));
  CHECK_THROWS_WITH(accuracy(logits, std::vector<std::int64_t>{0, 1, 3, 0}),
                    Catch::Contains("label 3 of sample 2 is out of range; expected 0..2"));
  const std::vector<std::int64_t> labels{0, 0, 0, 0};
  const std::vector<double> zero{0.0, 0.0, 0.0, 0.0};
  CHECK_THROWS_WITH(accuracy(logits, labels, std::span<const double>(zero)),
                    Catch::Contains("no sample is counted"));
  const std::vector<double> negative{1.0, -2.0, 1.0, 1.0};
  CHECK_THROWS_WITH(accuracy(logits, labels, std::span<const double>(negative)),
                    Catch::Contains("weights[1] is -2"));
  const std::vector<double> short_weights{1.0};
  CHECK_THROWS_WITH(accuracy(logits, labels, std::span<const double>(short_weights)),
                    Catch::Contains("weights has 1 entries"));
}

TEST_CASE("RunningMean weighted mean", "[metrics]") {
  RunningMean mean;
  CHECK(std::isnan(mean.mean()));
  mean.add(2.0);
  CHECK(mean.mean() == 2.0);
  // (2 * 1 + 5 * 3) / (1 + 3) = 17 / 4.
  mean.add(5.0, 3.0);
  CHECK(mean.mean() == 4.25);
  CHECK(mean.total_weight() == 4.0);
  CHECK(mean.count() == 2);
  mean.reset();
  CHECK(mean.count() == 0);
  CHECK(std::isnan(mean.mean()));
  CHECK_THROWS_WITH(mean.add(1.0, 0.0), Catch::Contains("weight is 0"));
  CHECK_THROWS_WITH(mean.add(1.0, -1.0), Catch::Contains("expected a finite value > 0"));
}

TEST_CASE("ConfusionMatrix counts by hand", "[metrics]") {
  ConfusionMatrix confusion(3);
  // Predictions 2, 0, 1, 0 against labels 2, 1, 1, 2.
  const std::vector<std::int64_t> labels{2, 1, 1, 2};
  confusion.add(example_logits(), labels);
  confusion.add(0, 0);

  ConfusionMatrix::Counts expected(3, 3);
  expected << 1, 0, 0,  //
      1, 1, 0,          //
      1, 0, 1;
  CHECK(confusion.counts() == expected);
  CHECK(confusion.total() == 5);
  CHECK(confusion.accuracy() == 3.0 / 5.0);
  const std::vector<double> recall = confusion.recall();
  REQUIRE(recall.size() == 3);
  CHECK(recall[0] == 1.0);
  CHECK(recall[1] == 0.5);
  CHECK(recall[2] == 0.5);

  confusion.reset();
  CHECK(confusion.total() == 0);
  CHECK(std::isnan(confusion.accuracy()));
  confusion.add(1, 2);
  const std::vector<double> sparse_recall = confusion.recall();
  CHECK(std::isnan(sparse_recall[0]));
  CHECK(sparse_recall[1] == 0.0);
  CHECK(std::isnan(sparse_recall[2]));
}

TEST_CASE("ConfusionMatrix rejects invalid input", "[metrics][errors]") {
  CHECK_THROWS_WITH(ConfusionMatrix(0), Catch::Contains("class_count is 0"));
  ConfusionMatrix confusion(3);
  CHECK_THROWS_WITH(confusion.add(3, 0), Catch::Contains("true_class 3 is out of range"));
  CHECK_THROWS_WITH(confusion.add(0, -1), Catch::Contains("predicted_class -1 is out of range"));
  CHECK_THROWS_WITH(confusion.add(Matrix<double>::Zero(2, 1), std::vector<std::int64_t>{0}),
                    Catch::Contains("logits has 2 rows, expected one per class (3)"));
  CHECK_THROWS_WITH(confusion.add(Matrix<double>::Zero(3, 2), std::vector<std::int64_t>{0}),
                    Catch::Contains("labels has 1 entries"));
  CHECK_THROWS_WITH(confusion.add(Matrix<double>::Zero(3, 2), std::vector<std::int64_t>{0, 5}),
                    Catch::Contains("label 5 is out of range"));
  // A rejected batch adds nothing.
  CHECK(confusion.total() == 0);
}
