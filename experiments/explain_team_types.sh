#!/usr/bin/env bash
# Why does the task-specialised team differ from the generalist one? `handover-abm explain` splits
# every headline difference between configs/generalist.yaml and configs/fragmented.yaml into the
# contributions of groups of mechanisms (exact Shapley values on common random numbers; see
# docs/explain.md). About 195 runs of 250 working days at 40,000 patients: 10-20 minutes on 2 cores.
# Not part of `make experiments` (its cost); run it alone:
#   experiments/explain_team_types.sh OUT [explain options, e.g. --replicates 5 --backend dask]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
out=${1:?usage: experiments/explain_team_types.sh OUT [options]}
shift
"$BIN/handover-abm" explain configs/generalist.yaml configs/fragmented.yaml --days 250 --replicates 3 \
  --out "$out" --force "$@"
"$BIN/handover-abm" report "$out"
