#!/bin/sh
# Builds wasm/engine.wasm: libjpeg-turbo from Debian's source package plus wasm/src, compiled by
# Debian's emscripten. Needs a deb-src line for bookworm and the packages named below.
#   wasm/build.sh            build and replace wasm/engine.wasm
#   wasm/build.sh --check    build and fail if the committed wasm/engine.wasm differs
set -eu

HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${ENGINE_BUILD_DIR:-$HERE/.build}
JPEG_SOURCE_VERSION=1:2.1.5-2
JPEG_DIR=libjpeg-turbo-2.1.5
# Keep in step with the packages named in the README and .ci/run.
for tool in emcc emcmake cmake dpkg-source; do
  command -v "$tool" >/dev/null || { echo "build.sh: $tool is missing (apt-get install emscripten node-acorn cmake dpkg-dev)" >&2; exit 1; }
done
# Debian's emscripten loads acorn from Debian's node modules.
export NODE_PATH=/usr/share/nodejs

mkdir -p "$WORK"
cd "$WORK"
if [ ! -d "$JPEG_DIR" ]; then
  apt-get source --only-source "libjpeg-turbo=$JPEG_SOURCE_VERSION"
  # wasm has native 64-bit integers, but with a 4-byte size_t libjpeg-turbo would choose a 32-bit
  # Huffman bit buffer: give wasm the 64-bit one it already gives x32.
  sed -i 's/defined(__x86_64__) && defined(__ILP32__)/(defined(__x86_64__) \&\& defined(__ILP32__)) || defined(__wasm__)/' \
    "$JPEG_DIR/jdhuff.h" "$JPEG_DIR/jdhuff.c" "$JPEG_DIR/jchuff.c"
fi

CFLAGS="-O3 -msimd128"
mkdir -p jpeg
(
  cd jpeg
  # CMake's type-size probes cannot run under emscripten, so the sizes are given.
  emcmake cmake "../$JPEG_DIR" -DCMAKE_BUILD_TYPE=Release -DENABLE_SHARED=0 -DWITH_TURBOJPEG=0 \
    -DWITH_SIMD=0 -DSIZE_T=4 -DUNSIGNED_LONG=4 \
    -DCMAKE_C_FLAGS="$CFLAGS" >cmake.log
  emmake make -j2 jpeg-static >make.log
)

# read_source, skip_source and write_output are imports, provided by src/codecs/engine.ts.
EXPORTS='_decode_jpeg,_encode_jpeg,_resize_begin,_resize_first_row,_resize_end_row,_resize_push,_resize_finish,_engine_malloc,_engine_free,_engine_failure_code,_engine_failure_message'
emcc $CFLAGS -Wall -Werror -I"$JPEG_DIR" -Ijpeg \
  "$HERE/src/engine.c" "$HERE/src/resize.c" jpeg/libjpeg.a \
  -o engine.wasm --no-entry -sSTANDALONE_WASM -sEXPORTED_FUNCTIONS="$EXPORTS" \
  -sALLOW_MEMORY_GROWTH=1 -sINITIAL_MEMORY=1MB -sMAXIMUM_MEMORY=128MB -sTOTAL_STACK=256KB \
  -sERROR_ON_UNDEFINED_SYMBOLS=0 -sWARN_ON_UNDEFINED_SYMBOLS=0

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
