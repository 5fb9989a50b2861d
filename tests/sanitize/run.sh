#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# The sanitizer and fuzzing runs of CI (docs/testing.md), each in a build
# directory of its own beside ./build:
#
#   tests/sanitize/run.sh [asan] [tsan] [fuzz]     (all three by default)
#
#   asan  build-asan, -Db_sanitize=address,undefined: the engine unit tests,
#         the whispermel element test and a short end-to-end pipeline (jfk,
#         tiny.en) under ASan + UBSan + LeakSanitizer (the loaders' tests run
#         under ASan + UBSan in the plain suite already: models-asan)
#   tsan  build-tsan, -Db_sanitize=thread: the model registry (models), two
#         encoders at once (encoder-random-model), the kernels' thread pool
#         and two concurrent pipelines in one process
#   fuzz  build-fuzz, clang, -Dfuzzing=true: every libFuzzer harness of
#         tests/fuzz for WHISPER_FUZZ_SECONDS (30) each; skipped without
#         clang and libFuzzer
#
# The whole suite under ASan + UBSan is one command as well (not run here:
# about an hour on 2 cores, docs/testing.md):
#   meson setup build-asan -Db_sanitize=address,undefined && meson test -C build-asan
# WHISPER_SANITIZE_BUILD_PREFIX (default: build-) names the directories.
set -eu
cd "$(dirname "$0")/../.."
prefix=${WHISPER_SANITIZE_BUILD_PREFIX:-build-}
parts=${*:-asan tsan fuzz}
export OMP_WAIT_POLICY=PASSIVE

# setup DIR ARGS...: configure once; later runs reuse the directory
setup () {
  dir=$1
  shift
  if [ -f "$dir/build.ninja" ]; then
    meson setup --reconfigure "$dir" "$@" > /dev/null
  else
    meson setup "$dir" "$@"
  fi
}

timed () {
  start=$(date +%s)
  "$@"
  echo "== $1: $(( $(date +%s) - start )) s"
}

run_asan () {
  setup "${prefix}asan" -Db_sanitize=address,undefined -Dbuildtype=debugoptimized
  ninja -C "${prefix}asan" gst/libgstwhispernpu.so tests/test-mel \
    tests/test-speech-gate tests/test-kernels \
    tests/test-quant tests/test-pool tests/test-encoder tests/test-decoder \
    tests/check-whispermel
  meson test -C "${prefix}asan" --no-rebuild --print-errorlogs \
    --num-processes 2 mel-engine speech-gate kernels kernels-int8 \
    pool encoder-random-model decoder-unit whispermel e2e-jfk-srt-greedy
}

run_tsan () {
  setup "${prefix}tsan" -Db_sanitize=thread -Dbuildtype=debugoptimized
  ninja -C "${prefix}tsan" gst/libgstwhispernpu.so tests/libtsan-glib.so \
    tests/test-models tests/test-encoder tests/test-pool
  meson test -C "${prefix}tsan" --no-rebuild --print-errorlogs \
    --num-processes 2 models encoder-random-model pool concurrent-pipelines
}

run_fuzz () {
  if ! command -v clang > /dev/null \
      || [ ! -e "$(clang -print-runtime-dir)/libclang_rt.fuzzer-x86_64.a" ]; then
    echo "fuzz: skipped (no clang with libFuzzer: install-deps.sh --tests)"
    return 0
  fi
  CC=clang CXX=clang++ setup "${prefix}fuzz" -Dfuzzing=true \
    -Db_sanitize=address,undefined -Db_lundef=false -Dbuildtype=debugoptimized
  ninja -C "${prefix}fuzz" gst/libgstwhispernpu.so tests/fuzz/fuzz-synth \
    tests/fuzz/fuzz-ggml tests/fuzz/fuzz-ct2 tests/fuzz/fuzz-safetensors \
    tests/fuzz/fuzz-tokenizer tests/fuzz/fuzz-whispermel
  meson test -C "${prefix}fuzz" --no-rebuild --print-errorlogs --verbose \
    --suite fuzz
}

for p in $parts; do
  case $p in
    asan) timed run_asan ;;
    tsan) timed run_tsan ;;
    fuzz) timed run_fuzz ;;
    *) echo "usage: $0 [asan] [tsan] [fuzz]" >&2; exit 2 ;;
  esac
done
