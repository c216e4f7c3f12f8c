#!/usr/bin/env bash
# A longer fuzzing run than scripts/test.sh's 30 s per target: builds the fuzz preset's targets
# (clang + libFuzzer + ASan/UBSan, every library instrumented) in build/fuzz-long and runs each for
# SECONDS (default 600), one after the other. Each run fails on a finding (the input is written to
# build/fuzz-long/tests/) or when its coverage stays below the target's floor, and prints its
# executions and coverage. New inputs go to build/fuzz-long/tests/fuzz_corpus_<target>.
# Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-600}"
scripts/install-deps.sh
cmake --preset fuzz -B build/fuzz-long -DEDGELSTM_FUZZ_SECONDS="$seconds" >/dev/null
cmake --build build/fuzz-long -j"$(nproc)" --target fuzz_targets
# The whole output in build/fuzz-long/fuzz.log; here each target's result as it ends.
set +e
ctest --test-dir build/fuzz-long -L fuzz --output-on-failure -V 2>&1 | tee build/fuzz-long/fuzz.log |
  grep --line-buffered -E "executions in|defect|Test +#"
status=${PIPESTATUS[0]}
exit "$status"
