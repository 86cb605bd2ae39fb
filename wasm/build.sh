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
# The licence texts of every library linked, written beside the engine (their notices must travel
# with the binary): wasm/THIRD-PARTY-LICENSES.txt. The project's summary is THIRD-PARTY-NOTICES.md.
license_files() {
  case $1 in
    jpeg) echo "$JPEG_DIR/LICENSE.md $JPEG_DIR/README.ijg" ;;
    zlib) echo "$ZLIB_DIR/LICENSE" ;;
    png) echo "$PNG_DIR/LICENSE" ;;
    webp) echo "$WEBP_DIR/COPYING $WEBP_DIR/PATENTS" ;;
    lcms2) echo "$LCMS2_DIR/COPYING" ;;
    tiff) echo "$TIFF_DIR/LICENSE.md" ;;
    dav1d) echo "$DAV1D_DIR/COPYING" ;;
    de265) echo "$DE265_DIR/COPYING" ;;
    aom) echo "$AOM_DIR/LICENSE $AOM_DIR/PATENTS" ;;
    *) echo "build.sh: no licence files named for $1" >&2; exit 1 ;;
  esac
}
{
  echo "Licences of the libraries linked into wasm/engine.wasm, from their Debian source packages."
  echo "Written by wasm/build.sh; see THIRD-PARTY-NOTICES.md."
  for library in $LIBRARIES; do
    for file in $(license_files "$library"); do
      printf '\n\n======== %s\n\n' "$file"
      cat "$SRC/$file"
    done
  done
} >"$WORK/THIRD-PARTY-LICENSES.txt"

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
  for output in engine.wasm THIRD-PARTY-LICENSES.txt; do
    if ! cmp -s "$WORK/$output" "$HERE/$output"; then
      echo "wasm/$output differs from what wasm/build.sh builds: rebuild and commit it" >&2
      exit 1
    fi
  done
  echo "wasm/engine.wasm (and its licence file) is reproduced byte for byte"
else
  cp "$WORK/engine.wasm" "$WORK/THIRD-PARTY-LICENSES.txt" "$HERE/"
  echo "wrote wasm/engine.wasm ($(wc -c <"$WORK/engine.wasm") bytes) and wasm/THIRD-PARTY-LICENSES.txt"
fi
