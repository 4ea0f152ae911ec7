// deeprnn side of the comparison: times the stacks of ../workloads.hpp one request at a time
// (protocol and timing in worker_protocol.hpp).
#include <Eigen/Core>
#include <memory>
#include <sstream>
#include <stdexcept>
#include <string>

#include "worker_protocol.hpp"
#include "workloads.hpp"

namespace {

using namespace deeprnn::benchmarks;

std::function<void()> make_deeprnn_case(const deeprnn_compare::Request& request) {
  if (request.layers != stack_layers) {
    throw std::invalid_argument("the deeprnn worker runs stacks of " +
                                std::to_string(stack_layers) + " layers, the request has " +
                                std::to_string(request.layers));
  }
  Eigen::setNbThreads(request.threads);
  if (Eigen::nbThreads() != request.threads) {
    throw std::runtime_error("Eigen runs " + std::to_string(Eigen::nbThreads()) +
                             " threads, expected " + std::to_string(request.threads) +
                             "; build with OpenMP");
  }
  const Workload w{'-', request.batch, request.steps, request.input, request.hidden};
  const StackKind kind = parse_stack_kind(request.cell);
  const Mode mode = parse_mode(request.mode);
  std::shared_ptr<Case> built;
  if (request.scalar == "float") {
    built = make_case<float>(kind, w, mode);
  } else if (request.scalar == "double") {
    built = make_case<double>(kind, w, mode);
  } else {
    throw std::invalid_argument("unknown scalar '" + request.scalar +
                                "', expected float or double");
  }
  return [built] { built->run(); };
}

std::string describe() {
  std::ostringstream out;
  out << "Eigen " << EIGEN_WORLD_VERSION << '.' << EIGEN_MAJOR_VERSION << '.' << EIGEN_MINOR_VERSION
      << ", " << Eigen::SimdInstructionSetsInUse();
  return out.str();
}

}  // namespace

int main() { return deeprnn_compare::serve(make_deeprnn_case, describe()); }
