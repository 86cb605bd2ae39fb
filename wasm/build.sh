#!/bin/sh
# Builds wasm/engine.wasm, the codec engine: C libraries from Debian's source packages (one script
# each in wasm/libs/) plus the engine's own C in wasm/src/, compiled by Debian's emscripten.
# wasm/setup-toolchain.sh installs what it needs.
#   wasm/build.sh            build and replace wasm/engine.wasm
#   wasm/build.sh --check    build and fail if the committed wasm/engine.wasm differs
# Library builds are cached in $ENGINE_BUILD_DIR (default wasm/.build) between runs.
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${ENGINE_BUILD_DIR:-$HERE/.build}
for tool in emcc emcmake cmake dpkg-source; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool is missing (run wasm/setup-toolchain.sh as root)" >&2; exit 1; }
done
mkdir -p "$WORK"
WORK=$(cd "$WORK" && pwd)
. "$HERE/libs/common.sh"

# In dependency order: libpng and libtiff use zlib, libtiff libjpeg.
LIBRARIES="zlib jpeg png webp lcms2 tiff"
for library in $LIBRARIES; do
  . "$HERE/libs/$library.sh"
  "build_$library"
done
# What each library installs, linked in this order (a library before those it uses).
ARCHIVES="libwebpmux.a libwebpdemux.a libwebp.a libtiff.a libpng16.a libjpeg.a liblcms2.a libz.a"
LINK=""
for archive in $ARCHIVES; do LINK="$LINK $PREFIX/lib/$archive"; done

# The engine's own C: the pipeline, one file per step (steps/) and per format (codecs/).
SOURCES=$(cd "$HERE/src" && find . -name '*.c' | LC_ALL=C sort | sed 's|^\./||')
EXPORTS=$(cat "$HERE/exports.txt" | sed 's/^/_/' | paste -sd, -)
cd "$WORK"
# The memory is JavaScript's (imported), with a fixed ceiling: 96 MiB of the isolate's 128 MiB,
# which leaves the rest for JavaScript. See src/engine/instance.ts.
# shellcheck disable=SC2086
(cd "$HERE/src" && emcc $ENGINE_CFLAGS -Wall -Wextra -Wno-unused-parameter -Werror -I"$PREFIX/include" \
  -I"$PREFIX/include/webp-private" $SOURCES $LINK \
  -o "$WORK/engine.wasm" --no-entry -sSTANDALONE_WASM -sEXPORTED_FUNCTIONS="$EXPORTS" \
  -sIMPORTED_MEMORY=1 -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=4MB -sMAXIMUM_MEMORY=96MB -sTOTAL_STACK=512KB \
  -sERROR_ON_UNDEFINED_SYMBOLS=0 -sWARN_ON_UNDEFINED_SYMBOLS=0)

if [ "${1:-}" = "--check" ]; then
  if cmp -s engine.wasm "$HERE/engine.wasm"; then
    echo "wasm/engine.wasm is reproduced byte for byte"
  else
    echo "wasm/engine.wasm differs from what wasm/build.sh builds: rebuild and commit it" >&2
    exit 1
  fi
else
  cp engine.wasm "$HERE/engine.wasm"
  echo "wrote wasm/engine.wasm ($(wc -c <engine.wasm) bytes)"
fi
