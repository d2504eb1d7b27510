#!/usr/bin/env bash
# A worker lost while XGBoost trains on Dask: the fit must end in one line (exit 2) and write nothing.
#
# Starts a `dask scheduler` and two `dask worker` processes on 127.0.0.1, runs
# `trainer fit --cluster`, kills one worker (and its nanny) as soon as training starts, then prints the
# exit code, the error line and whether a bundle folder exists. Everything it starts is stopped.
#
# Usage: scripts/cluster_lost_worker.sh DATA_DIR [WORK_DIR]
set -u
data=${1:?usage: scripts/cluster_lost_worker.sh DATA_DIR [WORK_DIR]}
work=${2:-$(mktemp -d)}
bin=$(cd "$(dirname "$0")/.." && pwd)/.venv/bin
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
address=tcp://127.0.0.1:$port
mkdir -p "$work"

"$bin/dask" scheduler --host 127.0.0.1 --port "$port" --no-dashboard >"$work/scheduler.log" 2>&1 &
scheduler=$!
sleep 4
"$bin/dask" worker "$address" --host 127.0.0.1 --nthreads 1 --no-dashboard >"$work/worker1.log" 2>&1 &
worker1=$!
"$bin/dask" worker "$address" --host 127.0.0.1 --nthreads 1 --no-dashboard >"$work/worker2.log" 2>&1 &
worker2=$!
sleep 8

"$bin/trainer" fit --data "$data" --out "$work/model" --tracking-uri off --cluster "$address" \
    --max-rounds 3000 >"$work/fit.out" 2>"$work/fit.err" &
fit=$!
for _ in $(seq 1 3000); do
    grep -q "got rank" "$work/worker1.log" "$work/worker2.log" && break
    sleep 0.1
done
sleep 0.3
kill -9 "$worker2" $(pgrep -P "$worker2") 2>/dev/null
wait "$fit"
echo "trainer fit exit code: $?"
tr '\r' '\n' <"$work/fit.err" | grep -a "error:" | tail -1
if [ -e "$work/model" ]; then echo "bundle folder: present"; else echo "bundle folder: absent"; fi
kill "$worker1" "$scheduler" 2>/dev/null
sleep 2
kill -9 "$worker1" "$scheduler" 2>/dev/null
exit 0
