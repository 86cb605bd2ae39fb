# libtiff (libtiff licence), on our zlib and libjpeg-turbo (build_zlib and build_jpeg first).
# Codecs: none, LZW, PackBits, Deflate (zlib), JPEG (new-style, libjpeg-turbo); all others off.
TIFF_VERSION=4.5.0-6+deb12u4
TIFF_DIR=tiff-4.5.0

build_tiff() {
  is_built tiff && return 0
  for lib in libz.a libjpeg.a; do
    [ -f "$PREFIX/lib/$lib" ] || { echo "build.sh: libtiff needs $lib: build_zlib and build_jpeg first" >&2; exit 1; }
  done
  fetch_source tiff "$TIFF_VERSION" "$TIFF_DIR"
  dir=$SRC/$TIFF_DIR
  rm -rf "$WORK/tiff" && mkdir -p "$WORK/tiff/deps"
  # zlib's and libjpeg's headers alone, not all of $PREFIX/include, where a tiffconf.h left by an
  # earlier build could be found before this build's.
  (cd "$PREFIX/include" && cp zlib.h zconf.h jpeglib.h jerror.h jmorecfg.h jconfig.h "$WORK/tiff/deps/")
  (
    cd "$WORK/tiff"
    # CMake's size_t probe cannot read emscripten's output ("Unsupported size_t size 9"): the size
    # is given, and HAVE_SIZEOF_SIZE_T skips the probe (CMake reports it unused; it is not). No C++
    # stream API, tools, tests, contrib or docs; old-style JPEG (compression 6) off too. There is
    # no option to leave out tif_unix.c's file I/O (TIFFOpen): with TIFFClientOpen it is not
    # linked. Its default warning and error handlers print to stderr (WASI fd_write) until
    # TIFFSetWarningHandler/TIFFSetErrorHandler replace them.
    emcmake cmake "$dir" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
      -DSIZEOF_SIZE_T=4 -DHAVE_SIZEOF_SIZE_T=TRUE \
      -Dtiff-tools=OFF -Dtiff-tests=OFF -Dtiff-contrib=OFF -Dtiff-docs=OFF -Dtiff-deprecated=OFF \
      -Dcxx=OFF -Dld-version-script=OFF -Dtiff-opengl=OFF \
      -Dlzw=ON -Dpackbits=ON -Dzlib=ON -Djpeg=ON \
      -Dccitt=OFF -Dthunder=OFF -Dnext=OFF -Dlogluv=OFF -Dmdi=OFF -Dpixarlog=OFF -Dold-jpeg=OFF \
      -Djpeg12=OFF -Dlibdeflate=OFF -Djbig=OFF -Dlerc=OFF -Dlzma=OFF -Dzstd=OFF -Dwebp=OFF \
      -DZLIB_INCLUDE_DIR="$WORK/tiff/deps" -DZLIB_LIBRARY="$PREFIX/lib/libz.a" \
      -DJPEG_INCLUDE_DIR="$WORK/tiff/deps" -DJPEG_LIBRARY="$PREFIX/lib/libjpeg.a" \
      -DCMAKE_C_FLAGS="$ENGINE_CFLAGS" >cmake.log
    emmake make -j2 tiff >make.log
  )
  cp "$WORK/tiff/libtiff/libtiff.a" "$PREFIX/lib/"
  cp "$dir/libtiff/tiff.h" "$dir/libtiff/tiffio.h" "$dir/libtiff/tiffvers.h" \
    "$WORK/tiff/libtiff/tiffconf.h" "$PREFIX/include/"
  mark_built tiff
}
