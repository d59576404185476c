#!/usr/bin/env bash
# Runs the peer benchmark (bench_peers.py: W1-W5) for ad and every peer importable by the
# given Python, at 1 and 2 threads, one process per framework and thread count, and prints the
# table (summarize.py): medians over the repeats, which run interleaved. Figures of one run are comparable with each other only.
#
#   benches/peers/run.sh PYTHON [REPEATS] [OUT_DIR]
#
# PYTHON needs numpy and ad installed (pip install ./bindings/python); torch and mxnet are
# measured when it can import them.
set -euo pipefail
python=${1:?usage: run.sh PYTHON [REPEATS] [OUT_DIR]}
repeats=${2:-1}
out=${3:-$(mktemp -d)}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$out"
frameworks=()
for fw in ad torch mxnet numpy; do
    if "$python" -c "import $fw" >/dev/null 2>&1; then
        frameworks+=("$fw")
    else
        echo "skipping $fw: $python cannot import it" >&2
    fi
done
# Interleaved: each repeat runs every framework at each thread count before the next repeat,
# so that a slow spell of the shared machine touches all of them alike.
for r in $(seq 1 "$repeats"); do
    for threads in 1 2; do
        for fw in "${frameworks[@]}"; do
            AD_NUM_THREADS=$threads "$python" "$here/bench_peers.py" --framework "$fw" --threads "$threads" \
                --json "$out/base__${fw}__t${threads}__r${r}.json" >/dev/null
        done
    done
done
"$python" "$here/summarize.py" "$out"
