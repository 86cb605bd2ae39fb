# libjpeg-turbo (IJG licence, modified BSD, zlib licence for the SIMD parts we do not build).
JPEG_VERSION=1:2.1.5-2
JPEG_DIR=libjpeg-turbo-2.1.5

build_jpeg() {
  is_built jpeg && return 0
  fetch_source libjpeg-turbo "$JPEG_VERSION" "$JPEG_DIR"
  dir=$SRC/$JPEG_DIR
  # wasm has native 64-bit integers, but with a 4-byte size_t libjpeg-turbo would choose a 32-bit
  # Huffman bit buffer: give wasm the 64-bit one it already gives x32. (Idempotent.)
  grep -q '__wasm__' "$dir/jdhuff.h" ||
    sed -i 's/defined(__x86_64__) && defined(__ILP32__)/(defined(__x86_64__) \&\& defined(__ILP32__)) || defined(__wasm__)/' \
      "$dir/jdhuff.h" "$dir/jdhuff.c" "$dir/jchuff.c"
  # A switch for the chroma IDCT scaling jpeg_calc_output_dimensions chooses (see codecs/jpeg.c's
  # jpeg_engine_chroma_idct_scaling): off, each component gets its own 1/8 inverse DCT, as the
  # DC-scan decoder does. On (the default), libjpeg behaves as Debian builds it. (Idempotent.)
  grep -q 'jpeg_engine_chroma_idct_scaling' "$dir/jdmaster.c" || {
    sed -i 's/^    while (ssize < DCTSIZE \&\&$/    while (jpeg_engine_chroma_idct_scaling \&\& ssize < DCTSIZE \&\&/' "$dir/jdmaster.c"
    sed -i 's/^#include "jpegcomp.h"$/#include "jpegcomp.h"\n\nint jpeg_engine_chroma_idct_scaling = 1;/' "$dir/jdmaster.c"
    grep -q 'while (jpeg_engine_chroma_idct_scaling' "$dir/jdmaster.c" || { echo "build.sh: the jdmaster.c patch did not apply" >&2; exit 1; }
  }
  rm -rf "$WORK/jpeg" && mkdir -p "$WORK/jpeg"
  (
    cd "$WORK/jpeg"
    # CMake's type-size probes cannot run under emscripten, so the sizes are given. BUILD would be
    # today's date ("libjpeg-turbo version 2.1.5 (build 20261201)" inside the binary): pin it to
    # the Debian package version, so the engine is the same whenever it is built.
    emcmake cmake "$dir" -DCMAKE_BUILD_TYPE=Release -DENABLE_SHARED=0 -DWITH_TURBOJPEG=0 \
      -DWITH_SIMD=0 -DSIZE_T=4 -DUNSIGNED_LONG=4 -DBUILD=debian-2.1.5-2 \
      -DCMAKE_C_FLAGS="$ENGINE_CFLAGS" >cmake.log
    emmake make -j2 jpeg-static >make.log
  )
  cp "$WORK/jpeg/libjpeg.a" "$PREFIX/lib/"
  cp "$dir/jpeglib.h" "$dir/jerror.h" "$dir/jmorecfg.h" "$WORK/jpeg/jconfig.h" "$PREFIX/include/"
  # The engine reads a few private structures (the decoder's scan state): keep the internal headers.
  mkdir -p "$PREFIX/include/jpeg-private"
  cp "$dir/jpegint.h" "$dir/jdhuff.h" "$dir/jpegcomp.h" "$WORK/jpeg/jconfigint.h" "$PREFIX/include/jpeg-private/" 2>/dev/null || true
  mark_built jpeg
}
