// Registration of the deeprnn Google Benchmark cases, shared by the 1- and 2-thread programs.
#pragma once

#include <string>

namespace deeprnn::benchmarks {

// Registers every case: stack/<cell>/<workload>/<scalar>/<mode>,
// summary/a/<scalar>/<variant>/<mode> and stream_step/<cell>/c/<scalar>.
void register_benchmarks();

// Builds the training case `name` in this (fresh) process, runs one step and prints the peak
// resident memory it added, in bytes. Returns the process exit code.
int print_peak_memory(const std::string& name);

}  // namespace deeprnn::benchmarks
