// Reading and writing safetensors files: SafetensorsFile (reader) and SafetensorsWriter.
//
// File layout: an unsigned 64-bit little-endian header length N, N bytes of UTF-8 JSON that
// map each tensor name to {"dtype", "shape", "data_offsets": [begin, end)} plus an optional
// "__metadata__" object of strings, then the data buffer. Offsets are relative to the start
// of the data buffer; elements are little-endian in row-major order. deeprnn reads and
// writes the dtypes F32, F64 and I64.
#pragma once

#include <deeprnn/io/errors.hpp>
#include <deeprnn/io/safetensors_format.hpp>
#include <deeprnn/io/safetensors_reader.hpp>
#include <deeprnn/io/safetensors_writer.hpp>
