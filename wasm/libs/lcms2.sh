# Little CMS (MIT). Only the library in src/: its plugins/fast_float and plugins/threaded are GPL-3
# and are neither built nor linked.
LCMS2_VERSION=2.14-2+deb12u1
LCMS2_DIR=lcms2-2.14

build_lcms2() {
  is_built lcms2 && return 0
  fetch_source lcms2 "$LCMS2_VERSION" "$LCMS2_DIR"
  dir=$SRC/$LCMS2_DIR
  rm -rf "$WORK/lcms2" && mkdir -p "$WORK/lcms2"
  (
    cd "$WORK/lcms2"
    # --host: without it configure tries to run what it compiles; wasm32-unknown-none is a triple
    # its config.sub knows. The image readers lcms2 can link (jpeg, tiff, zlib) are for its
    # utilities, which are not built; the thread option is spelt --without-threads (its help says
    # --without-pthreads); it defines HasTHREADS=0, so lcms2's mutexes compile to nothing (the
    # engine runs one thread). No option leaves out the file I/O: cmsCloseProfile can save a
    # profile opened for writing to its file, so fopen/remove (WASI fd_*, __syscall_unlink/rmdir
    # imports) are linked even when profiles only come from memory; built-in profiles
    # (cmsCreate_sRGBProfile) read the clock (clock_time_get) for their creation date.
    CFLAGS="$ENGINE_CFLAGS" emconfigure "$dir/configure" \
      --host=wasm32-unknown-none --disable-shared --enable-static --disable-dependency-tracking \
      --without-jpeg --without-tiff --without-zlib --without-threads \
      --without-fastfloat --without-threaded >configure.log
    emmake make -j2 -C src liblcms2.la >make.log
  )
  cp "$WORK/lcms2/src/.libs/liblcms2.a" "$PREFIX/lib/"
  cp "$dir/include/lcms2.h" "$dir/include/lcms2_plugin.h" "$PREFIX/include/"
  mark_built lcms2
}
