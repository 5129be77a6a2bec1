#!/bin/bash
# stats.sh TARGET: per session, executions, seconds, exec/s and the last cov/ft.
cd "$(dirname "$0")/$1"
for f in fuzz-*.log; do
  execs=$(grep -a "stat::number_of_executed_units" $f | awk '{print $2}')
  eps=$(grep -a "stat::average_exec_per_sec" $f | awk '{print $2}')
  last=$(grep -aE "^#[0-9]+" $f | tail -1 | grep -oE "cov: [0-9]+ ft: [0-9]+ corp: [0-9]+/[0-9a-zA-Z]+")
  end=$(grep -aoE "Done [0-9]+ runs in [0-9]+ second|deadly signal|out-of-memory|timeout|interrupted" $f | tail -1)
  echo "$f execs=$execs exec/s=$eps $last [$end]"
done
