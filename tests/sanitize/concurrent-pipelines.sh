#!/bin/sh
# SPDX-License-Identifier: LGPL-2.1-or-later
# Several whole pipelines at once in one process (docs/testing.md): jfk
# through whispermel ! whisperencnpu ! whisperdec (tiny.en) in 2 parallel
# branches of one gst-launch-1.0, sharing one registry model, against the
# same run alone: every branch's text identical.  Built for the
# ThreadSanitizer run (.ci/run: tsan), useful under any build.  Skips (77)
# without tiny.en or ../shared.
set -eu
models="${GST_WHISPER_MODELS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/gst-whisper-npu/models}"
jfk="${WHISPER_SHARED_DIR:-}/testdata/speech/audio/jfk.flac"
[ -d "$models/tiny.en" ] || { echo "skip: no tiny.en in $models"; exit 77; }
[ -f "$jfk" ] || { echo "skip: no $jfk"; exit 77; }
n=${1:-2}
# no wall-time cap on a window (slow under a sanitizer: the text would
# depend on the timing)
dec_props="beam-size=1"
if gst-inspect-1.0 whisperdec 2>/dev/null | grep -q max-window-time; then
  dec_props="$dec_props max-window-time=0"
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
branch () {
  echo "filesrc location=$jfk ! flacparse ! flacdec ! audioconvert ! audioresample !" \
    "audio/x-raw,rate=16000,channels=1 ! whispermel !" \
    "whisperencnpu model=tiny.en threads=1 ! whisperdec $dec_props !" \
    "filesink location=$1"
}
# shellcheck disable=SC2046
gst-launch-1.0 -q $(branch "$tmp/alone.txt")
desc=""
i=1
while [ "$i" -le "$n" ]; do
  desc="$desc $(branch "$tmp/$i.txt")"
  i=$((i + 1))
done
# shellcheck disable=SC2086
gst-launch-1.0 -q $desc
test -s "$tmp/alone.txt"
echo "alone: $(cat "$tmp/alone.txt")"
i=1
while [ "$i" -le "$n" ]; do
  cmp "$tmp/alone.txt" "$tmp/$i.txt" || {
    echo "branch $i differs: $(cat "$tmp/$i.txt")"; exit 1; }
  i=$((i + 1))
done
echo "$n concurrent branches: identical"
