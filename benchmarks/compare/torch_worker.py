"""PyTorch side of the comparison: torch.nn.RNN (tanh), LSTM and GRU on the CPU.

Speaks the line protocol of worker_protocol.hpp on stdin and stdout, with the same warm-up
and timing rules. Inference runs under torch.no_grad(). A training step is forward, then
out.sum().backward() with the input requiring a gradient, so that PyTorch computes the same
gradients as deeprnn and oneDNN (weights, biases and input); gradients accumulate, as in
deeprnn, because no optimiser step is part of the measurement.
"""

import ctypes
import sys
import time

import torch

MODULES = {"rnn_tanh": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}


def blas_description():
    """Name the libblas.so.3 that this process loaded, with OpenBLAS' build configuration."""
    with open("/proc/self/maps", encoding="ascii", errors="replace") as maps:
        paths = sorted({line.split()[-1] for line in maps if "libblas.so" in line})
    if not paths:
        return "no libblas.so mapped"
    try:
        library = ctypes.CDLL(paths[0])
        library.openblas_get_config.restype = ctypes.c_char_p
        library.openblas_get_corename.restype = ctypes.c_char_p
        return "%s (%s, kernels %s)" % (
            paths[0],
            library.openblas_get_config().decode(),
            library.openblas_get_corename().decode(),
        )
    except AttributeError:
        return "%s (not OpenBLAS)" % paths[0]


def make_case(cell, scalar, mode, layers, batch, steps, input_size, hidden, threads):
    """Build one case and return a function that runs it once."""
    if cell not in MODULES:
        raise ValueError("PyTorch has no %s cell" % cell)
    if scalar != "float":
        raise ValueError("the PyTorch worker benchmarks float32 only, got %s" % scalar)
    torch.set_num_threads(threads)
    torch.manual_seed(42)
    module = MODULES[cell](input_size, hidden, num_layers=layers)
    x = torch.rand(steps, batch, input_size) * 2 - 1
    if mode == "inference":

        def run():
            with torch.no_grad():
                module(x)

        return run
    if mode != "training":
        raise ValueError("unknown mode %s, expected inference or training" % mode)
    x.requires_grad_(True)

    def run():
        output, _ = module(x)
        output.sum().backward()

    return run


def serve():
    """Answer requests until 'quit' or end of input."""
    run_case = None
    key = None
    last_run_seconds = 0.0
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "quit":
            break
        if words[0] == "info":
            reply = "ok torch %s, %s, BLAS %s" % (
                torch.__version__,
                "oneDNN available" if torch.backends.mkldnn.is_available() else "no oneDNN",
                blas_description(),
            )
        elif words[0] != "run" or len(words) != 11:
            reply = "error malformed request: %s" % line.strip()
        else:
            try:
                reply, run_case, key, last_run_seconds = handle_run(
                    words[1:], run_case, key, last_run_seconds
                )
            except (ValueError, RuntimeError) as error:
                run_case, key = None, None
                reply = "error %s" % str(error).replace("\n", " ")
        sys.stdout.write(reply + "\n")
        sys.stdout.flush()


def handle_run(fields, run_case, key, last_run_seconds):
    """Time one request; return the reply and the worker's updated state."""
    cell, scalar, mode = fields[0:3]
    layers, batch, steps, input_size, hidden, threads = (int(v) for v in fields[3:9])
    min_seconds = float(fields[9])
    request_key = " ".join(fields[0:9])

    warmup_runs = 0
    if request_key != key:
        run_case, key = None, None
        run_case = make_case(
            cell, scalar, mode, layers, batch, steps, input_size, hidden, threads
        )
        key = request_key
        start = time.perf_counter()
        while True:
            run_start = time.perf_counter()
            run_case()
            last_run_seconds = time.perf_counter() - run_start
            warmup_runs += 1
            if time.perf_counter() - start >= 0.1:
                break
    else:
        start = time.perf_counter()
        while last_run_seconds < 0.02 and time.perf_counter() - start < 0.02:
            run_start = time.perf_counter()
            run_case()
            last_run_seconds = time.perf_counter() - run_start
            warmup_runs += 1

    runs = 0
    cpu_start = time.process_time()
    start = time.perf_counter()
    while True:
        run_case()
        runs += 1
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            break
    cpu = time.process_time() - cpu_start
    last_run_seconds = elapsed / runs
    reply = "ok %.9g %d %d %.9g" % (elapsed / runs, runs, warmup_runs, cpu / runs)
    return reply, run_case, key, last_run_seconds


if __name__ == "__main__":
    serve()
