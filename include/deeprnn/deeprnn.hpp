// deeprnn: deep (stacked) recurrent neural networks with hand-written backpropagation
// through time. Include this header for the whole public API.
#pragma once

#include <deeprnn/cells/cell_concept.hpp>
#include <deeprnn/cells/gru.hpp>
#include <deeprnn/cells/lstm.hpp>
#include <deeprnn/cells/simple_rnn.hpp>
#include <deeprnn/core.hpp>
#include <deeprnn/stacked_rnn.hpp>
#include <deeprnn/summary_rnn.hpp>
