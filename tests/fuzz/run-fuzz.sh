#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# A bounded libFuzzer run of one harness (docs/testing.md):
#
#   run-fuzz.sh HARNESS SYNTH_DIR CORPUS_DIR [SECONDS [LIBFUZZER_ARG...]]
#
# SYNTH_DIR: a whisper-synth output directory (the harness writes its seed
# corpus from it into CORPUS_DIR.seeds); CORPUS_DIR keeps what the runs
# find; crashes go to CORPUS_DIR.crashes.  SECONDS: WHISPER_FUZZ_SECONDS,
# else 30.  Prints the executions and exits non-zero on a finding.
set -eu
harness=$1 seed=$2 corpus=$3
shift 3
secs=${WHISPER_FUZZ_SECONDS:-30}
if [ $# -gt 0 ]; then secs=$1; shift; fi
here=$(cd "$(dirname "$0")" && pwd)
export WHISPER_FUZZ_SEED="$seed"
# fast unwinding: the slow one costs 40x on the JSON side files
export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:${ASAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$here/../sanitize/lsan.supp:print_suppressions=0"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
export OPENBLAS_NUM_THREADS=1
mkdir -p "$corpus" "$corpus.crashes"
rm -rf "$corpus.seeds"
WHISPER_FUZZ_MAKE_CORPUS="$corpus.seeds" "$harness"
log="$corpus.log"
rc=0
"$harness" -max_total_time="$secs" -timeout=25 -rss_limit_mb=2048 \
  -print_final_stats=1 -artifact_prefix="$corpus.crashes/" "$@" \
  "$corpus" "$corpus.seeds" > "$log" 2>&1 || rc=$?
name=$(basename "$harness")
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
echo "$name: ${execs:-?} executions in ${secs} s, corpus $(ls "$corpus" | wc -l) inputs, exit $rc"
if [ "$rc" -ne 0 ]; then
  tail -n 60 "$log"
  ls "$corpus.crashes"
fi
exit "$rc"
