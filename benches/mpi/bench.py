"""Data-parallel training over MPI: step time at 1 and 2 ranks, how much of the gradient
reduction backward's hooks hide, and the bytes each rank sends per step.

Runs examples/mlp_mpi.c (built with mpicc against target/release) in each configuration,
interleaved, ROUNDS times, and prints the medians over rounds of each run's median step:

    cargo build --release
    python3 benches/mpi/bench.py [--rounds 5] [--hidden 1024] [--epochs 100]

Configurations: one rank on one thread and on two (the same machine without MPI), two ranks
of one thread each reducing from the hooks and after backward; each over OpenMPI's shared
memory transport and over TCP (loopback), whose bytes the process writes to its sockets are
what it sends (Linux's /proc/self/io). Scaling efficiency is T(1 rank) / (2 T(2 ranks)), for
the same batch: the step time of one rank on one thread over twice that of two ranks.
"""
import argparse
import os
import re
import statistics
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def build():
    lib = os.path.join(ROOT, "target", "release")
    out = os.path.join(ROOT, "target", "mlp_mpi_bench")
    subprocess.run(["mpicc", "-O2", "-std=c99", os.path.join(ROOT, "examples", "mlp_mpi.c"), "-I" + os.path.join(ROOT, "include"),
                    "-L" + lib, "-lad", "-lm", "-Wl,-rpath," + lib, "-o", out], check=True)
    return out


def run(program, ranks, threads, transport, reduce, hidden, epochs):
    env = dict(os.environ, AD_NUM_THREADS=str(threads), OMPI_ALLOW_RUN_AS_ROOT="1", OMPI_ALLOW_RUN_AS_ROOT_CONFIRM="1")
    btl = "self,vader" if transport == "shm" else "self,tcp"
    # mpirun binds each rank to a core when there are at most two: a rank of two threads
    # must not be bound, or its threads share one core.
    bind = ["--bind-to", "none"] if threads > 1 else []
    command = ["mpirun", "-np", str(ranks), "--oversubscribe", "--mca", "btl", btl] + bind + [program,
               "--hidden", str(hidden), "--epochs", str(epochs), "--reduce", reduce, "--timing"]
    text = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stdout
    times = re.search(r"median step ([\d.]+) us\s+backward ([\d.]+) us\s+waiting for the reduction ([\d.]+) us", text)
    sent = re.search(r"bytes written per step (\d+)\s+gradient (\d+) bytes", text)
    return [float(v) / 1000 for v in times.groups()] + [int(sent.group(1)), int(sent.group(2))]


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--hidden", type=int, default=1024)
    p.add_argument("--epochs", type=int, default=100)
    args = p.parse_args()
    program = build()
    configs = [(1, 1, "hooks"), (1, 2, "hooks"), (2, 1, "hooks"), (2, 1, "after")]
    results = {}
    for _ in range(args.rounds):
        for transport in ("shm", "tcp"):
            for ranks, threads, reduce in configs:
                key = (transport, ranks, threads, reduce)
                results.setdefault(key, []).append(run(program, ranks, threads, transport, reduce, args.hidden, args.epochs))
    gradient = next(iter(results.values()))[0][4]
    print("hidden %d: gradient %d bytes per step; medians of %d rounds of %d steps" % (
        args.hidden, gradient, args.rounds, args.epochs))
    print("| transport | ranks x threads | reduce | step ms | backward ms | wait after backward ms | bytes written / step |")
    print("|---|---|---|---|---|---|---|")
    median = {}
    for (transport, ranks, threads, reduce), rows in results.items():
        m = [statistics.median(col) for col in zip(*rows)]
        median[(transport, ranks, threads, reduce)] = m
        print("| %s | %d x %d | %s | %.2f | %.2f | %.3f | %d |" % (
            transport, ranks, threads, reduce if ranks > 1 else "-", m[0], m[1], m[2], m[3]))
    for transport in ("shm", "tcp"):
        one = median[(transport, 1, 1, "hooks")][0]
        hooks, after = median[(transport, 2, 1, "hooks")], median[(transport, 2, 1, "after")]
        # The reduction's cost when it follows backward is the wait then; the hooks hide what
        # they take off the step, not what they take off the wait (the hooks' MPI calls may
        # do the same work inside backward).
        print("%s: scaling efficiency %.2f (hooks), %.2f (after backward); 1 rank on 2 threads / 2 ranks: %.2f; "
              "reduction after backward %.3f ms; the hooks take %.3f ms off the step (%.0f%% of it hidden), "
              "wait %.3f ms, backward %+.3f ms" % (
                  transport, one / (2 * hooks[0]), one / (2 * after[0]),
                  median[(transport, 1, 2, "hooks")][0] / hooks[0], after[2], after[0] - hooks[0],
                  100 * (after[0] - hooks[0]) / after[2] if after[2] > 0 else 0, hooks[2], hooks[1] - after[1]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
