#!/usr/bin/env bash
# System packages the test suite drives for real: Chromium (browser tests),
# Apertium with its English–Spanish pair (real translation), redis-server (live
# tests that stop and restart their own Redis, and the local Redis Cluster), FFmpeg (video
# and audio recordings) and the Noto fonts (printed invite letters and login cards in every script).
# Installed when missing.
set -eu
missing=()
command -v chromium >/dev/null || missing+=(chromium)
command -v apertium >/dev/null || missing+=(apertium)
[ -d /usr/share/apertium/apertium-eng-spa ] || missing+=(apertium-eng-spa)
command -v redis-server >/dev/null || missing+=(redis-server)
{ command -v ffmpeg >/dev/null && command -v ffprobe >/dev/null; } || missing+=(ffmpeg)
[ -f /usr/share/fonts/truetype/noto/NotoSansArabic-Regular.ttf ] || missing+=(fonts-noto-core)
[ -f /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc ] || missing+=(fonts-noto-cjk)
if [ ${#missing[@]} -gt 0 ]; then
  if command -v apt-get >/dev/null && [ "$(id -u)" = 0 ]; then
    echo "installing ${missing[*]} ..."
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
  else
    echo "note: ${missing[*]} not installed; the tests that need them will say so" >&2
  fi
fi
