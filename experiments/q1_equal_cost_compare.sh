#!/usr/bin/env bash
# Q1c. The three team types against today's PCN at equal annual staff cost, by `compare --equalise
# cost`: every team after the first (configs/default.yaml) is scaled to its annual staff cost,
# keeping its proportions (the FTE of each post is multiplied by one factor per team). Unlike
# q1_team_types_equal_cost.yaml, whose configs were scaled once by experiments/make_configs.py,
# this follows any change to the configs or the role catalogue's costs.
#   experiments/q1_equal_cost_compare.sh OUT [compare options, e.g. --days 126 --replicates 2]
set -euo pipefail
cd "$(dirname "$0")/.."
BIN=${BIN:-.venv/bin}
out=${1:?usage: experiments/q1_equal_cost_compare.sh OUT [options]}
shift
"$BIN/handover-abm" compare configs/default.yaml configs/generalist.yaml configs/mixed.yaml \
  configs/fragmented.yaml --equalise cost --out "$out" --force "$@"
"$BIN/handover-abm" report "$out"
