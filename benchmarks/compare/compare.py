"""Compare deeprnn with PyTorch and oneDNN and write benchmarks/RESULTS.md.

Starts one long-lived worker per implementation (deeprnn_compare_worker,
deeprnn_compare_onednn, torch_worker.py; protocol in worker_protocol.hpp) and, for every
case, alternates them round by round in a rotating order, so that background load reaches
all of them alike. Then runs the Google Benchmark programs of deeprnn alone and writes the
report. run.sh installs the packages and builds the programs before calling this script.
"""

import argparse
import datetime
import json
import os
import platform
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPOSITORY = HERE.parent.parent

LAYERS = 3
# id: (batch, steps, input, hidden); three stacked layers, the upper two read `hidden`.
WORKLOADS = {
    "a": (32, 100, 256, 256),
    "b": (64, 50, 512, 512),
    "c": (1, 100, 128, 128),
    "d": (20, 35, 650, 650),
    "e": (16, 20, 32, 64),
}
LARGE = ("a", "b", "d")
SMALL = ("c", "e")
CELLS = ("rnn_tanh", "lstm", "gru", "gru_before")
CELL_TITLES = {
    "rnn_tanh": "RNN tanh",
    "lstm": "LSTM",
    "gru": "GRU reset-after",
    "gru_before": "GRU reset-before",
}
GATES = {"rnn_tanh": 1, "lstm": 4, "gru": 3, "gru_before": 3}
MODES = ("inference", "training")
THREADS = (1, 2)
IMPLEMENTATIONS = ("deeprnn", "deeprnn_double", "pytorch", "onednn")
IMPLEMENTATION_TITLES = {
    "deeprnn": "deeprnn",
    "deeprnn_double": "deeprnn (double)",
    "pytorch": "PyTorch",
    "onednn": "oneDNN",
}

# Rounds every case gets, whatever its time budget.
MIN_ROUNDS = 3

# A figure whose (max - min) / median over the rounds exceeds this is marked as noisy.
NOISY_SPREAD = 0.10
# A figure whose median CPU share (process CPU time / (wall time * threads)) is below this
# was measured while other processes held the cores.
CONTENDED_CPU_SHARE = 0.90


def forward_flops(cell, workload):
    """FLOPs of one forward pass: 2 * B * (I_k + H) * G * H per layer k and step."""
    batch, steps, input_size, hidden = WORKLOADS[workload]
    total = 0.0
    for layer in range(LAYERS):
        width = input_size if layer == 0 else hidden
        total += 2.0 * batch * (width + hidden) * GATES[cell] * hidden * steps
    return total


def case_flops(cell, workload, mode):
    """A training step counts as three forward passes."""
    return forward_flops(cell, workload) * (3.0 if mode == "training" else 1.0)


class Worker:
    """One implementation's worker process."""

    def __init__(self, name, command, environment=None):
        self.name = name
        self.process = subprocess.Popen(
            command,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            bufsize=1,
            env=environment,
        )
        self.info = self.request("info")

    def request(self, line):
        self.process.stdin.write(line + "\n")
        self.process.stdin.flush()
        reply = self.process.stdout.readline().strip()
        if not reply:
            raise RuntimeError("%s worker exited while handling: %s" % (self.name, line))
        return reply

    def close(self):
        if self.process.poll() is None:
            self.process.stdin.write("quit\n")
            self.process.stdin.flush()
            self.process.wait(timeout=30)


def worker_environment(extra=None):
    """The environment of a worker: thread counts are set per request, not inherited."""
    environment = dict(os.environ)
    for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        environment.pop(name, None)
    environment.update(extra or {})
    return environment


def start_workers(build_dir, python, openblas_dir):
    workers = {}
    native = Path(build_dir) / "benchmarks"
    workers["deeprnn"] = Worker("deeprnn", [str(native / "deeprnn_compare_worker")],
                                worker_environment())
    workers["deeprnn_double"] = workers["deeprnn"]
    onednn = native / "deeprnn_compare_onednn"
    if onednn.exists():
        workers["onednn"] = Worker("oneDNN", [str(onednn)], worker_environment())
    torch_environment = {}
    if openblas_dir and Path(openblas_dir).is_dir():
        torch_environment["LD_LIBRARY_PATH"] = openblas_dir
    workers["pytorch"] = Worker(
        "PyTorch", [python, str(HERE / "torch_worker.py")], worker_environment(torch_environment)
    )
    return workers


def request_line(implementation, cell, workload, mode, threads, min_seconds):
    batch, steps, input_size, hidden = WORKLOADS[workload]
    scalar = "double" if implementation == "deeprnn_double" else "float"
    return "run %s %s %s %d %d %d %d %d %d %g" % (
        cell, scalar, mode, LAYERS, batch, steps, input_size, hidden, threads, min_seconds)


def supported(implementation, cell, threads):
    if implementation == "pytorch" and cell == "gru_before":
        return False
    if implementation == "deeprnn_double" and threads != 1:
        return False
    return True


def measure(workers, rounds_large, rounds_small, min_seconds, workloads, case_budget, deadline,
            log):
    """Run every case; return {(impl, cell, workload, mode, threads): [samples]} and loads.

    A case stops after MIN_ROUNDS rounds once it has used case_budget seconds, so that a
    loaded machine, which slows two-thread runs most, cannot stretch the run without bound.
    Cases that would start after the monotonic time `deadline` are skipped.
    """
    samples = {}
    loads = []
    errors = {}
    names = [name for name in IMPLEMENTATIONS if name in workers]
    # All one-thread cases first: most targets rest on them, and a deadline cuts the end.
    for threads in THREADS:
        for workload in workloads:
            rounds = rounds_large if workload in LARGE else rounds_small
            for cell in CELLS:
                for mode in MODES:
                    active = [n for n in names if supported(n, cell, threads)]
                    started = time.monotonic()
                    if started > deadline:
                        for name in active:
                            errors[(name, cell, workload, mode, threads)] = \
                                "skipped: the run reached its --deadline-minutes"
                        continue
                    for round_index in range(rounds):
                        if (round_index >= MIN_ROUNDS
                                and time.monotonic() - started > case_budget):
                            break
                        loads.append(os.getloadavg()[0])
                        shift = round_index % len(active)
                        for name in active[shift:] + active[:shift]:
                            key = (name, cell, workload, mode, threads)
                            if key in errors:
                                continue
                            line = request_line(name, cell, workload, mode, threads,
                                                min_seconds)
                            reply = workers[name].request(line).split()
                            if reply[0] != "ok":
                                errors[key] = " ".join(reply[1:])
                                continue
                            wall, runs, warmup_runs, cpu = (float(v) for v in reply[1:5])
                            samples.setdefault(key, []).append(
                                {"seconds": wall, "cpu_seconds": cpu, "runs": runs,
                                 "warmup_runs": warmup_runs, "cpu_share": cpu / (wall * threads)})
                    log("%s %d thread(s) %-10s %-9s %5.1f s" % (
                        workload, threads, cell, mode, time.monotonic() - started))
    return samples, loads, errors


def summarize(values):
    ordered = sorted(values)
    median = statistics.median(ordered)
    return {"median": median, "min": ordered[0], "max": ordered[-1], "count": len(ordered),
            "spread": (ordered[-1] - ordered[0]) / median if median > 0 else 0.0}


def read_cmake_cache(build_dir):
    cache = {}
    path = Path(build_dir) / "CMakeCache.txt"
    for line in path.read_text().splitlines():
        match = re.match(r"^([A-Za-z0-9_]+):[A-Z]+=(.*)$", line)
        if match:
            cache[match.group(1)] = match.group(2)
    return cache


def machine_description():
    cpuinfo = Path("/proc/cpuinfo").read_text()
    model = re.search(r"^model name\s*:\s*(.*)$", cpuinfo, re.M)
    family = re.search(r"^cpu family\s*:\s*(.*)$", cpuinfo, re.M)
    model_number = re.search(r"^model\s*:\s*(.*)$", cpuinfo, re.M)
    flags = re.search(r"^flags\s*:\s*(.*)$", cpuinfo, re.M)
    flag_set = set(flags.group(1).split()) if flags else set()
    simd = [f for f in ("avx2", "fma", "avx512f", "avx512_bf16") if f in flag_set]
    memory = re.search(r"MemTotal:\s*(\d+)", Path("/proc/meminfo").read_text())
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
    caches = re.findall(r"^(L[123][di]? cache):\s*(.*)$", lscpu, re.M)
    hypervisor = re.search(r"^Hypervisor vendor:\s*(.*)$", lscpu, re.M)
    return {
        "cpu": "%s (family %s, model %s)" % (
            model.group(1) if model else "unknown",
            family.group(1) if family else "?", model_number.group(1) if model_number else "?"),
        "cores": os.cpu_count(),
        "simd": " ".join(simd),
        "caches": ", ".join("%s %s" % (name, size) for name, size in caches),
        "memory_gib": int(memory.group(1)) / 1024 / 1024 if memory else 0,
        "kernel": platform.release(),
        "hypervisor": hypervisor.group(1) if hypervisor else "none reported",
    }


def git_state():
    def git(*args):
        return subprocess.run(["git", "-C", str(REPOSITORY), *args], capture_output=True,
                              text=True).stdout.strip()
    commit = git("rev-parse", "--short", "HEAD")
    dirty = git("status", "--porcelain", "--", "include")
    return commit + (" with uncommitted changes in include/" if dirty else "")


def run_google_benchmarks(build_dir, min_time, thread_counts, log):
    """Run the Google Benchmark suite for each thread count; return their JSON reports."""
    reports = {}
    programs = {1: "deeprnn_benchmarks_1thread", 2: "deeprnn_benchmarks_2threads"}
    for threads, name in ((t, programs[t]) for t in thread_counts):
        program = Path(build_dir) / "benchmarks" / name
        output = Path(build_dir) / ("%s.json" % name)
        started = time.monotonic()
        subprocess.run([str(program), "--benchmark_min_time=%g" % min_time,
                        "--benchmark_out=%s" % output, "--benchmark_out_format=json",
                        "--benchmark_format=console"],
                       check=True, stdout=subprocess.DEVNULL, env=worker_environment())
        reports[threads] = json.loads(output.read_text())
        log("Google Benchmark, %d thread(s): %.0f s" % (threads, time.monotonic() - started))
    return reports


# ---------------------------------------------------------------------------------------
# Report


def format_ms(seconds):
    milliseconds = seconds * 1e3
    if milliseconds >= 100:
        return "%.0f" % milliseconds
    if milliseconds >= 10:
        return "%.1f" % milliseconds
    if milliseconds >= 1:
        return "%.2f" % milliseconds
    return "%.3f" % milliseconds


class Report:
    def __init__(self, samples, peak_per_core, full_rounds):
        # full_rounds[True] for workloads a, b, d, full_rounds[False] for c, e.
        self.full_rounds = full_rounds
        self.stats = {}
        self.cpu_stats = {}
        self.cpu_share = {}
        for key, values in samples.items():
            self.stats[key] = summarize([v["seconds"] for v in values])
            self.cpu_stats[key] = summarize([v["cpu_seconds"] for v in values])
            self.cpu_share[key] = statistics.median(v["cpu_share"] for v in values)
        self.peak_per_core = peak_per_core

    def get(self, implementation, cell, workload, mode, threads):
        return self.stats.get((implementation, cell, workload, mode, threads))

    def flagged(self, key):
        stats = self.stats.get(key)
        if stats is None:
            return False
        return stats["spread"] > NOISY_SPREAD or self.cpu_share[key] < CONTENDED_CPU_SHARE

    def gflops(self, implementation, cell, workload, mode, threads):
        stats = self.get(implementation, cell, workload, mode, threads)
        if stats is None:
            return None
        return case_flops(cell, workload, mode) / stats["median"] / 1e9

    def time_cell(self, key):
        stats = self.stats.get(key)
        if stats is None:
            return "n/a"
        text = "%s (%s–%s)" % (format_ms(stats["median"]), format_ms(stats["min"]),
                                format_ms(stats["max"]))
        if stats["count"] < self.full_rounds[key[2] in LARGE]:
            text += " n=%d" % stats["count"]
        return text + (" ⚠" if self.flagged(key) else "")

    def rate_cell(self, key):
        if key not in self.stats:
            return "n/a"
        implementation, cell, workload, mode, threads = key
        rate = self.gflops(*key)
        return "%.1f (%.0f%%)" % (rate, 100 * rate / (self.peak_per_core * threads))

    def ratio(self, numerator, denominator, cpu_time=False):
        """Ratio of median times (wall time, or process CPU time when cpu_time is set)."""
        stats = self.cpu_stats if cpu_time else self.stats
        a = stats.get(numerator)
        b = stats.get(denominator)
        if a is None or b is None:
            return None
        return a["median"] / b["median"]


def format_ratio(value):
    return "n/a" if value is None else "%.2f" % value


def comparison_tables(report, workloads):
    lines = []
    for workload in workloads:
        batch, steps, input_size, hidden = WORKLOADS[workload]
        for mode in MODES:
            lines.append("### (%s) B=%d, T=%d, I=%d, H=%d — %s" % (
                workload, batch, steps, input_size, hidden, mode))
            lines.append("")
            lines.append("| cell | threads | deeprnn ms | deeprnn GFLOP/s (% peak) "
                         "| PyTorch ms | PyTorch GFLOP/s (% peak) | oneDNN ms "
                         "| oneDNN GFLOP/s (% peak) | deeprnn / PyTorch time "
                         "| deeprnn / oneDNN time |")
            lines.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            for cell in CELLS:
                for threads in THREADS:
                    keys = {name: (name, cell, workload, mode, threads)
                            for name in ("deeprnn", "pytorch", "onednn")}
                    lines.append("| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                        CELL_TITLES[cell], threads,
                        report.time_cell(keys["deeprnn"]), report.rate_cell(keys["deeprnn"]),
                        report.time_cell(keys["pytorch"]), report.rate_cell(keys["pytorch"]),
                        report.time_cell(keys["onednn"]), report.rate_cell(keys["onednn"]),
                        format_ratio(report.ratio(keys["deeprnn"], keys["pytorch"])),
                        format_ratio(report.ratio(keys["deeprnn"], keys["onednn"]))))
            lines.append("")
    return lines


def double_table(report, workloads):
    lines = ["| workload | cell | mode | float ms | double ms | double / float GFLOP/s |",
             "| --- | --- | --- | ---: | ---: | ---: |"]
    for workload in workloads:
        for cell in CELLS:
            for mode in MODES:
                single = ("deeprnn", cell, workload, mode, 1)
                double = ("deeprnn_double", cell, workload, mode, 1)
                ratio = report.ratio(single, double)
                lines.append("| %s | %s | %s | %s | %s | %s |" % (
                    workload, CELL_TITLES[cell], mode, report.time_cell(single),
                    report.time_cell(double), format_ratio(ratio)))
    return lines


def scaling_table(report, workloads):
    lines = ["| workload | cell | mode | deeprnn | PyTorch | oneDNN |",
             "| --- | --- | --- | ---: | ---: | ---: |"]
    for workload in workloads:
        for cell in CELLS:
            for mode in MODES:
                row = []
                for name in ("deeprnn", "pytorch", "onednn"):
                    row.append(format_ratio(report.ratio((name, cell, workload, mode, 1),
                                                         (name, cell, workload, mode, 2))))
                lines.append("| %s | %s | %s | %s |" % (workload, CELL_TITLES[cell], mode,
                                                        " | ".join(row)))
    return lines


def evaluate_targets(report, workloads):
    """Return (title, checks, lower_is_better) per target.

    A check is (case, value, met, value from process CPU time or None).
    """
    targets = []

    def collect(title, wanted_workloads, cells, compute, passes, lower_is_better):
        checks = []
        for workload in wanted_workloads:
            if workload not in workloads:
                continue
            for cell in cells:
                for mode in MODES:
                    value = compute(cell, workload, mode, False)
                    if value is None:
                        continue
                    cpu_value = compute(cell, workload, mode, True)
                    checks.append(("%s %s %s" % (workload, CELL_TITLES[cell], mode), value,
                                   passes(value), cpu_value))
        targets.append((title, checks, lower_is_better))

    def time_ratio(other):
        return lambda cell, workload, mode, cpu_time: report.ratio(
            ("deeprnn", cell, workload, mode, 1), (other, cell, workload, mode, 1), cpu_time)

    def throughput_vs_onednn(cell, workload, mode, cpu_time):
        ratio = time_ratio("onednn")(cell, workload, mode, cpu_time)
        return None if ratio is None else 1.0 / ratio

    def peak_fraction(cell, workload, mode, cpu_time):
        key = ("deeprnn", cell, workload, mode, 1)
        stats = (report.cpu_stats if cpu_time else report.stats).get(key)
        if stats is None:
            return None
        return case_flops(cell, workload, mode) / stats["median"] / 1e9 / report.peak_per_core

    def double_ratio(cell, workload, mode, cpu_time):
        return report.ratio(("deeprnn", cell, workload, mode, 1),
                            ("deeprnn_double", cell, workload, mode, 1), cpu_time)

    def speedup(cell, workload, mode, cpu_time):
        # CPU time cannot show a parallel speed-up, so this target has no CPU-time value.
        if cpu_time:
            return None
        return report.ratio(("deeprnn", cell, workload, mode, 1),
                            ("deeprnn", cell, workload, mode, 2))

    collect("deeprnn / PyTorch time <= 0.85 on a, b, d", LARGE, CELLS, time_ratio("pytorch"),
            lambda v: v <= 0.85, True)
    collect("deeprnn / PyTorch time <= 0.33 on c, e", SMALL, CELLS, time_ratio("pytorch"),
            lambda v: v <= 0.33, True)
    collect("deeprnn >= 0.8x oneDNN throughput on a, b, d", LARGE, CELLS, throughput_vs_onednn,
            lambda v: v >= 0.8, False)
    collect("deeprnn >= 70% of FP32 peak on a, b, d", LARGE, CELLS, peak_fraction,
            lambda v: v >= 0.7, False)
    collect("deeprnn / oneDNN time <= 0.9 on c, e", SMALL, CELLS, time_ratio("onednn"),
            lambda v: v <= 0.9, True)
    collect("double >= 0.45x float GFLOP/s", tuple(WORKLOADS), CELLS, double_ratio,
            lambda v: v >= 0.45, False)
    collect("2 threads >= 1.6x 1-thread speed on a, b, d", LARGE, CELLS, speedup,
            lambda v: v >= 1.6, False)
    collect("2 threads never slower than 1 thread on c, e", SMALL, CELLS, speedup,
            lambda v: v >= 1.0, False)
    return targets


def target_lines(targets):
    lines = ["| target | verdict | worst case | value | same from CPU time | failing cases |",
             "| --- | --- | --- | ---: | ---: | --- |"]
    for title, checks, lower_is_better in targets:
        if not checks:
            lines.append("| %s | not measured | | | | |" % title)
            continue
        met = sum(1 for check in checks if check[2])
        failing = [check for check in checks if not check[2]]
        worst = (max if lower_is_better else min)(checks, key=lambda check: check[1])
        if failing:
            verdict = "**missed** (%d/%d met)" % (met, len(checks))
        else:
            verdict = "**met** (%d/%d)" % (met, len(checks))
        failing_text = ", ".join("%s: %.2f" % (check[0], check[1]) for check in failing)
        cpu_text = "n/a" if worst[3] is None else "%.2f" % worst[3]
        lines.append("| %s | %s | %s | %.2f | %s | %s |" % (
            title, verdict, worst[0], worst[1], cpu_text, failing_text or "none"))
    return lines


def google_benchmark_lines(reports):
    """Tables of the Google Benchmark suite: stacks, SummaryRNN overhead, streaming."""
    rows = {}
    for threads, report in reports.items():
        for entry in report["benchmarks"]:
            if entry.get("run_type") == "aggregate":
                continue
            # UseRealTime() appends "/real_time" to every name.
            rows[(threads, entry["name"].removesuffix("/real_time"))] = entry

    def entry_text(threads, name):
        entry = rows.get((threads, name))
        if entry is None:
            return "n/a"
        unit = {"ms": 1e-3, "us": 1e-6, "ns": 1e-9}[entry["time_unit"]]
        seconds = entry["real_time"] * unit
        rate = entry.get("FLOP/s")
        text = format_ms(seconds)
        return text + (" / %.1f" % (rate / 1e9) if rate else "")

    def memory_text(threads, name):
        entry = rows.get((threads, name))
        if entry is None or entry.get("peak_RSS", -1) < 0:
            return "n/a"
        return "%.1f" % (entry["peak_RSS"] / 2**20)

    kinds = list(CELLS) + ["mixed"]
    lines = ["Each entry is milliseconds per call / GFLOP/s. Peak RSS is the resident memory "
             "a training step adds in a fresh process (float, 1 thread), in MiB.", "",
             "| cell | workload | float inference 1T | float training 1T | double inference 1T "
             "| double training 1T | float inference 2T | float training 2T "
             "| peak RSS float MiB | peak RSS double MiB |",
             "| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for kind in kinds:
        for workload in WORKLOADS:
            name = "stack/%s/%s/%%s/%%s" % (kind, workload)
            lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
                CELL_TITLES.get(kind, "mixed LSTM-GRU-RNN"), workload,
                entry_text(1, name % ("float", "inference")),
                entry_text(1, name % ("float", "training")),
                entry_text(1, name % ("double", "inference")),
                entry_text(1, name % ("double", "training")),
                entry_text(2, name % ("float", "inference")),
                entry_text(2, name % ("float", "training")),
                memory_text(1, name % ("float", "training")),
                memory_text(1, name % ("double", "training"))))
    lines += ["", "**SummaryRNN overhead on (a)**: 3-layer GRU stack alone and with a "
              "SummaryRNN<GRU> (S = 256) over the final states; training adds sum(encoding) to "
              "the loss. Milliseconds per call, 1 thread.", "",
              "| scalar | mode | stack alone | stack + summary | overhead |",
              "| --- | --- | ---: | ---: | ---: |"]
    for scalar in ("float", "double"):
        for mode in MODES:
            alone = rows.get((1, "summary/a/%s/gru_stack_only/%s" % (scalar, mode)))
            both = rows.get((1, "summary/a/%s/gru_stack_and_summary/%s" % (scalar, mode)))
            if alone is None or both is None:
                continue
            lines.append("| %s | %s | %.2f | %.2f | %+.1f%% |" % (
                scalar, mode, alone["real_time"], both["real_time"],
                100 * (both["real_time"] / alone["real_time"] - 1)))
    lines += ["", "**Streaming step() latency on (c)** (B=1, H=128, 3 layers, one step through "
              "all layers), microseconds per call.", "",
              "| cell | float 1T | double 1T | float 2T |", "| --- | ---: | ---: | ---: |"]
    for kind in kinds:
        cells = []
        for threads, scalar in ((1, "float"), (1, "double"), (2, "float")):
            entry = rows.get((threads, "stream_step/%s/c/%s" % (kind, scalar)))
            cells.append("%.2f" % entry["real_time"] if entry else "n/a")
        lines.append("| %s | %s |" % (CELL_TITLES.get(kind, "mixed LSTM-GRU-RNN"),
                                      " | ".join(cells)))
    return lines


def write_results(path, context, report, errors, targets, google_reports, workloads):
    lines = ["# deeprnn benchmark results", ""]
    lines += ["Written by `benchmarks/compare/run.sh` on %s in %.1f minutes. deeprnn at commit %s." % (
        context["date"], context["minutes"], context["git"]), ""]
    load = context["load"]
    lines += ["**Load.** 1-minute load average %.2f before the run, %.2f after it, "
              "%.2f–%.2f (median %.2f) during the measurements, on %d cores. Each figure's "
              "median CPU share (process CPU time / (wall time × threads)) is kept with the raw "
              "samples; a figure is marked ⚠ when its min–max spread exceeds %d%% of the "
              "median or its CPU share is below %d%%, and such a figure is not a clean "
              "measurement." % (
                  load["before"], load["after"], load["min"], load["max"], load["median"],
                  context["machine"]["cores"], NOISY_SPREAD * 100, CONTENDED_CPU_SHARE * 100),
              ""]
    machine = context["machine"]
    lines += ["## Machine and software", "",
              "| item | value |", "| --- | --- |",
              "| CPU | %s |" % machine["cpu"],
              "| cores | %d (%s), hypervisor %s |" % (machine["cores"], machine["caches"],
                                                     machine["hypervisor"]),
              "| SIMD | %s |" % machine["simd"],
              "| memory | %.0f GiB |" % machine["memory_gib"],
              "| kernel | %s |" % machine["kernel"],
              "| compiler | %s |" % context["compiler"],
              "| deeprnn flags | `%s` |" % context["flags"],
              "| deeprnn | %s |" % context["info"].get("deeprnn", "n/a"),
              "| PyTorch | %s |" % context["info"].get("pytorch", "n/a"),
              "| oneDNN | %s |" % context["info"].get("onednn", "not built"),
              "| FP32 peak per core | %s |" % context["peak_text"],
              ""]
    lines += ["## Method", "",
              "- Three stacked layers (bottom input width I, hidden width H in every layer), "
              "float32 unless marked double, zero initial states, PyTorch's default "
              "initialisation, random inputs in [-1, 1).",
              "- Inference: one forward pass over the sequence (PyTorch under `torch.no_grad()`, "
              "oneDNN `forward_inference`). Training step: forward, then backward of the sum "
              "of the top layer's outputs (d_output = ones), with gradients for the weights, "
              "biases and input, no optimiser (oneDNN: `forward_training` + backward, "
              "including the weight reorders a training loop needs).",
              "- FLOP model: 2·B·(I_k + H)·G·H per layer k and step, G = 4 (LSTM), 3 (GRU), "
              "1 (RNN); a training step counts as 3× the forward FLOPs. % peak is the rate "
              "divided by threads × the FP32 peak per core below.",
              "- PyTorch maps RNN tanh, LSTM and GRU reset-after to `torch.nn.RNN/LSTM/GRU`; "
              "it has no reset-before GRU. oneDNN maps them to `vanilla_rnn` (tanh), `lstm`, "
              "`lbr_gru` and `gru` (reset-before).",
              "- Each case is measured in %d rounds for (a), (b), (d) and %d rounds for (c), "
              "(e). Within a round the implementations run one after the other, in an order "
              "that rotates from round to round. A sample is the mean time of the runs of one "
              "request (runs repeat for at least %g s, at least one run) after warm-up (first "
              "request of a case: at least one run and 0.1 s; later ones: 20 ms unless one run "
              "takes longer). Tables give the median over the rounds and the min–max range. A case "
              "stops adding rounds after %d rounds once it has taken %g s; \"n=\" marks a "
              "figure from fewer rounds than planned." % (
                  context["rounds_large"], context["rounds_small"], context["min_seconds"],
                  MIN_ROUNDS, context["case_budget"]),
              "- deeprnn (double) runs only on 1 thread, for the double-precision target.",
              "- Debian's PyTorch calls the system `libblas.so.3`. The PyTorch worker loads the "
              "OpenMP build of OpenBLAS (`libopenblas0-openmp`, through LD_LIBRARY_PATH), whose "
              "thread count follows `torch.set_num_threads`. With Debian's reference BLAS, "
              "PyTorch took 19x longer for LSTM (a) inference on this machine (3.87 s against "
              "0.21 s of CPU time, measured once while writing this script).",
              "- Where deeprnn spends its time on the missed targets, with proposals: "
              "[PROFILE.md](PROFILE.md).",
              ""]
    lines += ["## Targets (1 thread, float32 unless stated)", "",
              "Verdicts use the median wall times. \"Same from CPU time\" repeats the worst "
              "case's value from the median process CPU times, which other processes on the "
              "machine disturb less (no value for the thread speed-up).", ""]
    lines += target_lines(targets) + [""]
    lines += ["## Comparison tables", "",
              "Times in milliseconds per call: median (min–max). Ratios below 1 favour deeprnn.",
              ""]
    lines += comparison_tables(report, workloads)
    lines += ["## double versus float (deeprnn, 1 thread)", ""] + double_table(report, workloads)
    lines += ["", "## Speed-up from 1 to 2 threads (time 1 thread / time 2 threads)", ""]
    lines += scaling_table(report, workloads)
    if errors:
        lines += ["", "## Cases that could not run", ""]
        for key, message in sorted(errors.items()):
            if key[0] == "pytorch" and key[1] == "gru_before":
                continue
            lines.append("- %s: %s" % (" ".join(str(k) for k in key), message))
    if google_reports:
        lines += [""] + google_benchmark_section(google_reports, context["gb_min_time"], None)
    path.write_text("\n".join(lines) + "\n")


GOOGLE_BENCHMARK_TITLE = "## deeprnn alone: Google Benchmark suite"


def google_benchmark_section(google_reports, min_time, loads):
    """The report section of the Google Benchmark suite; `loads` = (before, after) or None."""
    programs = " and ".join("`deeprnn_benchmarks_%s`" % ("1thread" if t == 1 else "2threads")
                            for t in sorted(google_reports))
    text = ("%s, run after the comparison (not interleaved with the other implementations), "
            "`--benchmark_min_time=%g`; n/a marks a variant that was not run." % (
                programs, min_time))
    if loads:
        text += " 1-minute load average %.2f before and %.2f after this suite." % loads
    return [GOOGLE_BENCHMARK_TITLE, "", text, ""] + google_benchmark_lines(google_reports)


def append_google_benchmark(path, build_dir, min_time, thread_counts, log):
    """Run the Google Benchmark suite and put its section into an existing report."""
    load_before = os.getloadavg()[0]
    reports = run_google_benchmarks(build_dir, min_time, thread_counts, log)
    section = google_benchmark_section(reports, min_time, (load_before, os.getloadavg()[0]))
    text = path.read_text()
    if GOOGLE_BENCHMARK_TITLE in text:
        text = text[:text.index(GOOGLE_BENCHMARK_TITLE)].rstrip("\n") + "\n"
    path.write_text(text + "\n" + "\n".join(section) + "\n")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--build-dir", required=True, help="CMake build folder of deeprnn")
    parser.add_argument("--output", default=str(REPOSITORY / "benchmarks" / "RESULTS.md"),
                        help="Markdown report to write")
    parser.add_argument("--python", default="/usr/bin/python3",
                        help="Python interpreter that has torch (Debian's python3-torch)")
    parser.add_argument("--openblas-dir", default="/usr/lib/x86_64-linux-gnu/openblas-openmp",
                        help="Folder of the libblas.so.3 that PyTorch loads (OpenMP OpenBLAS)")
    parser.add_argument("--rounds-large", type=int, default=5,
                        help="Rounds per case for workloads a, b, d")
    parser.add_argument("--rounds-small", type=int, default=7,
                        help="Rounds per case for workloads c, e")
    parser.add_argument("--min-seconds", type=float, default=0.2,
                        help="Minimum timed duration of one sample, in seconds")
    parser.add_argument("--case-budget", type=float, default=60.0,
                        help="Seconds after which a case stops adding rounds (it always gets "
                             "%d rounds)" % MIN_ROUNDS)
    parser.add_argument("--deadline-minutes", type=float, default=120.0,
                        help="Minutes after which no new case starts and the Google Benchmark "
                             "suite is skipped; the report marks what was skipped")
    parser.add_argument("--workloads", default="abcde", help="Workload ids to run")
    parser.add_argument("--gb-min-time", type=float, default=0.2,
                        help="--benchmark_min_time of the Google Benchmark suite, in seconds")
    parser.add_argument("--gb-threads", type=lambda text: [int(t) for t in text.split(",")],
                        default=[1, 2],
                        help="Thread variants of the Google Benchmark suite to run, e.g. 1,2")
    parser.add_argument("--google-benchmark-only", action="store_true",
                        help="Only run the Google Benchmark suite and replace its section in "
                             "the existing --output report")
    parser.add_argument("--skip-google-benchmark", action="store_true",
                        help="Do not run the Google Benchmark suite")
    arguments = parser.parse_args()

    started = time.monotonic()

    def log(message):
        print("[%5.0f s] %s" % (time.monotonic() - started, message), flush=True)

    load_before = os.getloadavg()[0]
    build_dir = Path(arguments.build_dir)
    if arguments.google_benchmark_only:
        append_google_benchmark(Path(arguments.output), build_dir, arguments.gb_min_time,
                                arguments.gb_threads, log)
        log("wrote %s" % arguments.output)
        return 0
    peak = json.loads(subprocess.run([str(build_dir / "benchmarks" / "deeprnn_fp32_peak")],
                                     capture_output=True, text=True, check=True,
                                     env=worker_environment()).stdout)
    isa_rates = {isa: peak[isa] for isa in ("avx512", "avx2") if isa in peak}
    best_isa = max(isa_rates, key=lambda isa: isa_rates[isa]["gflops_per_core_1thread_cpu_time"])
    peak_per_core = isa_rates[best_isa]["gflops_per_core_1thread_cpu_time"]
    peak_text = "; ".join(
        "%s: %.1f GFLOP/s over CPU time (%.1f over wall time; %.1f per core with all %d "
        "cores busy)" % (isa.upper(), rates["gflops_per_core_1thread_cpu_time"],
                         rates["gflops_per_core_1thread"],
                         rates["gflops_per_core_all_threads_cpu_time"], peak["threads"])
        for isa, rates in isa_rates.items())
    peak_text += ". Register-only FMA loop, 12 accumulators, best of 5; the %% peak columns " \
                 "use %.1f GFLOP/s per core" % peak_per_core
    log("FP32 peak per core: %.1f GFLOP/s (%s)" % (peak_per_core, best_isa))

    workers = start_workers(build_dir, arguments.python, arguments.openblas_dir)
    info = {name: worker.info[3:] for name, worker in workers.items()}
    for name, text in info.items():
        log("%s: %s" % (name, text))

    workloads = [w for w in arguments.workloads if w in WORKLOADS]
    try:
        samples, loads, errors = measure(workers, arguments.rounds_large,
                                         arguments.rounds_small, arguments.min_seconds,
                                         workloads, arguments.case_budget,
                                         started + 60 * arguments.deadline_minutes, log)
    finally:
        for worker in set(workers.values()):
            worker.close()

    raw_path = build_dir / "compare_samples.json"
    raw_path.write_text(json.dumps({" ".join(map(str, k)): v for k, v in samples.items()},
                                   indent=1))
    google_reports = None
    if arguments.skip_google_benchmark:
        log("Google Benchmark suite skipped (--skip-google-benchmark)")
    elif time.monotonic() > started + 60 * arguments.deadline_minutes:
        log("Google Benchmark suite skipped: the run reached its --deadline-minutes")
    else:
        google_reports = run_google_benchmarks(build_dir, arguments.gb_min_time,
                                               arguments.gb_threads, log)

    cache = read_cmake_cache(build_dir)
    compiler_version = subprocess.run([cache.get("CMAKE_CXX_COMPILER", "c++"), "--version"],
                                      capture_output=True, text=True).stdout.splitlines()[0]
    flags = " ".join(f for f in (cache.get("CMAKE_CXX_FLAGS", ""),
                                 cache.get("CMAKE_CXX_FLAGS_RELEASE", ""),
                                 cache.get("DEEPRNN_BENCHMARK_ARCH_FLAGS", ""),
                                 "-fopenmp", "-std=c++20") if f)
    report = Report(samples, peak_per_core,
                    {True: arguments.rounds_large, False: arguments.rounds_small})
    targets = evaluate_targets(report, workloads)
    context = {
        "date": datetime.datetime.now().strftime("%Y-%m-%d %H:%M"),
        "minutes": (time.monotonic() - started) / 60,
        "git": git_state(),
        "load": {"before": load_before, "after": os.getloadavg()[0], "min": min(loads),
                 "max": max(loads), "median": statistics.median(loads)},
        "machine": machine_description(),
        "compiler": compiler_version,
        "flags": flags,
        "info": info,
        "peak_text": peak_text,
        "rounds_large": arguments.rounds_large,
        "rounds_small": arguments.rounds_small,
        "min_seconds": arguments.min_seconds,
        "gb_min_time": arguments.gb_min_time,
        "case_budget": arguments.case_budget,
    }
    write_results(Path(arguments.output), context, report, errors, targets, google_reports,
                  workloads)
    log("wrote %s" % arguments.output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
