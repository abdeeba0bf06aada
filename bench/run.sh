#!/usr/bin/env bash
# npm run bench: every load test on this machine, each in its own sandbox
# (throwaway database / Redis prefix / queue prefix), bounded in time.
# Prints the tables; record them in bench/RESULTS.md with the date.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/services.sh
ingest() { node bin/ingest "$@"; }
echo "== machine: $(nproc) cores, $(free -g | awk '/Mem:/{print $2}') GiB, node $(node --version), $(date -u)"

echo; echo "== frontend sweep (1 connection)"
ingest loadtest frontend --sweep --duration "${BENCH_SWEEP_DURATION:-5s}"
echo; echo "== frontend sustained (10 connections)"
ingest loadtest frontend --readings 3000 --connections 10 --duration "${BENCH_DURATION:-10s}"
if ingest loadtest dispatcher --help >/dev/null 2>&1; then
  echo; echo "== dispatcher"
  ingest loadtest dispatcher --consumers 1,2,4,6,8,10,12 --duration "${BENCH_DISPATCH_DURATION:-5s}"
fi
if ingest loadtest pipeline --help >/dev/null 2>&1; then
  echo; echo "== pipeline"
  ingest loadtest pipeline --readings "${BENCH_PIPELINE_READINGS:-200000}"
fi
echo; echo "== write paths (exactly-once storage options)"
node bench/write-path.js
echo; echo "== drain modes (basic.get vs consume with prefetch)"
node bench/drain-mode.js
