#!/usr/bin/env bash
# make demo: the toolkit on the bundled examples, each step with the exit code it must give.
set -uo pipefail
cd "$(dirname "$0")/.."
BIN=.venv/bin
ROOT=$(pwd)
failed=0

step() {  # step EXPECTED_EXIT DESCRIPTION COMMAND...
  local expected=$1 what=$2
  shift 2
  printf '\n\033[1m== %s\033[0m\n$ %s\n' "$what" "$*"
  "$@"
  local code=$?
  if [ "$code" -ne "$expected" ]; then
    echo "demo: expected exit $expected, got $code" >&2
    failed=1
  else
    echo "(exit $code, as expected)"
  fi
}

step 1 "The seed's broken job is refused before launch" \
  $BIN/preflight check examples/seed-broken.yaml
step 0 "The same job, configured as it should have been, passes" \
  $BIN/preflight check examples/seed-fixed.yaml
step 0 "Its GPU memory, against the A10G" \
  $BIN/memplan estimate examples/seed-fixed.yaml
step 0 "What it costs, on-demand vs spot, and how often to checkpoint" \
  $BIN/costmodel compare examples/seed-fixed.yaml --instances ml.g5.xlarge,ml.g6e.xlarge --runs 20000
run_dir=$(mktemp -d)
step 0 "A real LoRA fine-tune of the bundled tiny-mistral on this CPU (output in $run_dir)" \
  bash -c "cd '$run_dir' && '$ROOT/$BIN/trainjob' run '$ROOT/examples/tiny-local.yaml'"
exit $failed
