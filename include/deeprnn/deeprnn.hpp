// deeprnn: deep (stacked) recurrent neural networks with hand-written backpropagation
// through time. Include this header for the whole public API.
#pragma once

#include <deeprnn/cells/cell_concept.hpp>
#include <deeprnn/cells/gru.hpp>
#include <deeprnn/cells/lstm.hpp>
#include <deeprnn/cells/simple_rnn.hpp>
#include <deeprnn/core.hpp>
#include <deeprnn/init.hpp>
#include <deeprnn/io/safetensors.hpp>
#include <deeprnn/io/weights.hpp>
#include <deeprnn/layers/dense.hpp>
#include <deeprnn/layers/dropout.hpp>
#include <deeprnn/layers/embedding.hpp>
#include <deeprnn/random.hpp>
#include <deeprnn/stacked_rnn.hpp>
#include <deeprnn/summary_rnn.hpp>
#include <deeprnn/train/batching.hpp>
#include <deeprnn/train/checkpoint.hpp>
#include <deeprnn/train/fit.hpp>
#include <deeprnn/train/losses.hpp>
#include <deeprnn/train/metrics.hpp>
#include <deeprnn/train/model.hpp>
#include <deeprnn/train/optimizers.hpp>
#include <deeprnn/train/parameters.hpp>
#include <deeprnn/train/schedules.hpp>
