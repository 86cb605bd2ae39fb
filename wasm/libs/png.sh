# libpng (PNG Reference Library License v2), on our zlib (build_zlib first).
# The archive's newest bookworm-security upload, 1.6.39-2+deb12u6, answers 404 from the package
# mirror (.dsc and .debian.tar.xz), so the newest version apt-get source can fetch is pinned.
PNG_VERSION=1.6.39-2+deb12u5
PNG_DIR=libpng1.6-1.6.39

build_png() {
  is_built png && return 0
  [ -f "$PREFIX/lib/libz.a" ] || { echo "build.sh: libpng needs zlib: build_zlib first" >&2; exit 1; }
  fetch_source libpng1.6 "$PNG_VERSION" "$PNG_DIR"
  dir=$SRC/$PNG_DIR
  rm -rf "$WORK/png" && mkdir -p "$WORK/png/zlib"
  # libpng's CMake puts zlib's include directory before its own build directory, so with
  # $PREFIX/include there a pnglibconf.h left in the prefix would win over the one this build
  # generates: give it zlib's two headers alone.
  cp "$PREFIX/include/zlib.h" "$PREFIX/include/zconf.h" "$WORK/png/zlib/"
  # Build options (pnglibconf.dfa syntax). Everything else keeps libpng's defaults: sequential and
  # progressive (png_process_data) reading, writing, transforms, 16-bit, palette, tRNS, interlace,
  # iCCP. setjmp stays (png_error longjmps out; -sSUPPORT_LONGJMP=wasm). No stdio: no png_init_io,
  # no default read/write/flush through FILE, no messages printed to stderr. No simplified
  # png_image_* API.
  cat >"$WORK/png/engine.dfa" <<'EOF'
option STDIO off
option SIMPLIFIED_READ off
option SIMPLIFIED_WRITE off
EOF
  (
    cd "$WORK/png"
    # Emscripten tells CMake the processor is "x86", which libpng's CMake matches to no
    # architecture; as x86_64 it builds intel/*.c, the SSE2 versions of the Sub, Avg and Paeth
    # unfiltering for 3- and 4-byte pixels, which emscripten translates to WASM SIMD (-msse2;
    # -mssse3 and -msse4.1 compile to the same code). Decoding adaptively filtered 12 MP RGB and
    # RGBA PNGs takes about a third less CPU time with it (27-45% over several runs).
    emcmake cmake "$dir" -DCMAKE_BUILD_TYPE=Release -DEMSCRIPTEN_SYSTEM_PROCESSOR=x86_64 \
      -DPNG_SHARED=OFF -DPNG_STATIC=ON -DPNG_EXECUTABLES=OFF -DPNG_TESTS=OFF \
      -Dld-version-script=OFF -DPNG_HARDWARE_OPTIMIZATIONS=ON -DPNG_INTEL_SSE=on \
      -DDFA_XTRA="$WORK/png/engine.dfa" \
      -DZLIB_INCLUDE_DIR="$WORK/png/zlib" -DZLIB_LIBRARY="$PREFIX/lib/libz.a" \
      -DCMAKE_C_FLAGS="$ENGINE_CFLAGS -msse2" >cmake.log
    emmake make -j2 png_static >make.log
  )
  cp "$WORK/png/libpng16.a" "$PREFIX/lib/"
  cp "$dir/png.h" "$dir/pngconf.h" "$WORK/png/pnglibconf.h" "$PREFIX/include/"
  mark_built png
}
