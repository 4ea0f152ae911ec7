// Access to the PyTorch reference fixtures: loading one case and comparing values with the
// tolerances its README states.
#pragma once

#include <catch2/catch.hpp>
#include <deeprnn/deeprnn.hpp>
#include <deeprnn/io/safetensors.hpp>
#include <filesystem>
#include <set>
#include <sstream>
#include <string>

namespace deeprnn::testing {

inline std::filesystem::path fixture_path(const std::string& case_name) {
  return std::filesystem::path(DEEPRNN_FIXTURE_DIR) / (case_name + ".safetensors");
}

// One fixture file, remembering which tensors a test compared so that it can require that
// none was left unchecked.
class Fixture {
 public:
  explicit Fixture(const std::string& case_name)
      : file_(io::SafetensorsFile::read(fixture_path(case_name))) {
    REQUIRE(file_.metadata().at("case") == case_name);
  }

  const io::SafetensorsFile& file() const { return file_; }
  const std::string& meta(const std::string& key) const { return file_.metadata().at(key); }
  bool is_float32() const { return meta("dtype") == "float32"; }
  bool contains(const std::string& name) const { return file_.contains(name); }

  // Element-wise |a - r| <= tol * max(1, |r|), tol = 1e-9 (float64) or 1e-4 (float32);
  // for float64 also max|a - r| <= 1e-9 * max|r| per tensor; exact zeros stay exact.
  template <class Actual>
  void compare(const std::string& name, const Actual& actual) {
    const Matrix<double> reference = file_.feature_columns<double>(name);
    compare_to(name, actual, reference);
  }

  // As compare(), for parameter-shaped tensors: [R, C] as an R x C matrix.
  template <class Actual>
  void compare_matrix(const std::string& name, const Actual& actual) {
    compare_to(name, actual, file_.matrix<double>(name));
  }

  template <class Scalar>
  Matrix<Scalar> sequence(const std::string& name) {
    used_.insert(name);
    return file_.feature_columns<Scalar>(name);
  }

  template <class Scalar>
  Matrix<Scalar> matrix(const std::string& name) {
    used_.insert(name);
    return file_.matrix<Scalar>(name);
  }

  std::vector<Index> lengths() {
    used_.insert("lengths");
    std::vector<Index> result;
    for (const std::int64_t length : file_.integers("lengths")) result.push_back(length);
    return result;
  }

  std::vector<std::int64_t> integers(const std::string& name) {
    used_.insert(name);
    return file_.integers(name);
  }

  void mark_used(const std::string& name) { used_.insert(name); }

  // Fails if some tensor of the file was neither read nor compared.
  void require_all_used() const {
    std::ostringstream unused;
    for (const std::string& name : file_.names()) {
      if (!used_.count(name)) unused << name << " ";
    }
    INFO("tensors never compared: " << unused.str());
    CHECK(unused.str().empty());
  }

 private:
  template <class Actual>
  void compare_to(const std::string& name, const Actual& actual_any, const Matrix<double>& r) {
    used_.insert(name);
    const Matrix<double> a = actual_any.template cast<double>();
    INFO("tensor " << name);
    REQUIRE(a.rows() == r.rows());
    REQUIRE(a.cols() == r.cols());
    const double tol = is_float32() ? 1e-4 : 1e-9;
    int mismatches = 0;
    std::ostringstream report;
    for (Index j = 0; j < r.cols(); ++j) {
      for (Index i = 0; i < r.rows(); ++i) {
        const bool ok = r(i, j) == 0.0
                            ? a(i, j) == 0.0
                            : std::abs(a(i, j) - r(i, j)) <= tol * std::max(1.0, std::abs(r(i, j)));
        if (!ok && ++mismatches <= 5) {
          report << "(" << i << ", " << j << "): got " << a(i, j) << ", reference " << r(i, j)
                 << "\n";
        }
      }
    }
    INFO(report.str());
    CHECK(mismatches == 0);
    if (!is_float32() && r.size() > 0) {
      const double scale = r.cwiseAbs().maxCoeff();
      CHECK((a - r).cwiseAbs().maxCoeff() <= 1e-9 * scale);
    }
  }

  io::SafetensorsFile file_;
  std::set<std::string> used_;
};

}  // namespace deeprnn::testing
