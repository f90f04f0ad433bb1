#!/usr/bin/env bash
# Run every experiment, then plot it and write its report.
#   reduced size (default): 126 working days, 2 replicates, Morris with 8 trajectories;
#                           about 5-10 minutes on a 2-core laptop
#   full size (FULL=1):     the sizes in the specs (365 days or the days axis, 5 replicates)
# An interrupted run resumes where it stopped (--resume).
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
if [ "${FULL:-0}" = 1 ]; then
  size=(); out=results/experiments-full
else
  size=(--days 126 --replicates 2); out=results/experiments
fi
for spec in experiments/q*.yaml; do
  name=$(basename "$spec" .yaml)
  echo "== $name"
  "$BIN/handover-abm" sweep "$spec" --out "$out/$name" --resume "${size[@]}"
  "$BIN/handover-abm" report "$out/$name"
done
echo "== q1_equal_cost_compare (compare --equalise cost)"
BIN=$BIN experiments/q1_equal_cost_compare.sh "$out/q1_equal_cost_compare" "${size[@]}"
echo "== sensitivity_assumptions (Morris)"
if [ "${FULL:-0}" = 1 ]; then sens=(); else sens=(--days 126 --replicates 1); fi
"$BIN/handover-abm" sensitivity experiments/sensitivity_assumptions.yaml --method morris \
  --out "$out/sensitivity_morris" --resume "${sens[@]}"
"$BIN/handover-abm" report "$out/sensitivity_morris"
echo "Reports: $out/*/report.html"
