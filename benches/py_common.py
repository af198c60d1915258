"""Timing shared by the Python benchmarks: best-of-REPEATS rates, rounds
interleaved so a burst of load from elsewhere hits one round of each case."""

import time


def rate(fn, secs):
    """(calls per wall-clock second, calls per CPU second) of fn over secs."""
    n = 0
    cpu = time.process_time()
    start = time.perf_counter()
    end = start + secs
    while True:
        fn()
        n += 1
        t = time.perf_counter()
        if t >= end:
            return n / (t - start), n / max(time.process_time() - cpu, 1e-6)


def print_best(cases, seconds, repeats):
    """Prints "name calls_per_second calls_per_cpu_second" for each case."""
    best = {name: (0.0, 0.0) for name in cases}
    for _ in range(repeats):
        for name, fn in cases.items():
            wall, cpu = rate(fn, seconds)
            best[name] = (max(best[name][0], wall), max(best[name][1], cpu))
    for name, (wall, cpu) in best.items():
        print("{} {:.1f} {:.1f}".format(name, wall, cpu))
