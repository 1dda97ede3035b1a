#!/usr/bin/env bash
# Every GPU check and benchmark in one run, for a short session on a lent device (about 8 minutes).
#
#   bash benchmarks/gpu_session.sh [PYTHON]
#
# PYTHON (default python3) must import warp, numpy, torch and pytest, with the repository root on
# PYTHONPATH. Each part has its own time limit so that one slow part cannot eat the session; the
# parts print their own figures (device name first).
set -u
PY=${1:-python3}
run() {  # run LIMIT_SECONDS TITLE COMMAND...
    local limit=$1 title=$2
    shift 2
    echo "=== ${title} (limit ${limit} s)"
    timeout "${limit}" "$@"
    local status=$?
    [ "${status}" -eq 124 ] && echo "--- ${title}: stopped at the ${limit} s limit"
    return 0
}
"${PY}" -c "import warp as wp; wp.init(); print('device:', wp.get_device('cuda:0').name)" 2>&1 | grep device
run 150 "CPU/CUDA agreement and CUDA-graph capture" \
    "${PY}" -m pytest -q -p no:cacheprovider tests/test_dynamics.py -k "cuda or capturable"
run 150 "throughput, one world, with the kernel profile" \
    "${PY}" benchmarks/step_throughput.py --device cuda:0 --sizes 101 501 1001 --worlds 1 --operator assembled \
    --seconds 3 --warmup-steps 5 --profile 8
run 60 "throughput, 64 worlds" \
    "${PY}" benchmarks/step_throughput.py --device cuda:0 --sizes 25 101 --worlds 64 --operator assembled \
    --seconds 3 --warmup-steps 5
run 90 "gradient cost" \
    "${PY}" benchmarks/gradient_cost.py --device cuda:0 --sizes 101 501 --steps 10 --tangents 1 8 \
    --memory-steps 250 1000 --budget 60
run 60 "contact on CUDA (CPU agreement) and its cost at 501^2" \
    "${PY}" -m pytest -q -p no:cacheprovider tests/test_obstacles.py -k cuda
run 120 "contact cost" "${PY}" benchmarks/contact.py --device cuda:0 --size 501 --steps 10
