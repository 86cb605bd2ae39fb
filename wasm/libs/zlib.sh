# zlib (zlib licence). libpng and libtiff's deflate codec link it.
# The archive's newest bookworm-security upload, 1:1.2.13.dfsg-1+deb12u1, answers 404 from the package
# mirror (.dsc and .debian.tar.xz), so the newest version apt-get source can fetch is pinned.
ZLIB_VERSION=1:1.2.13.dfsg-1
ZLIB_DIR=zlib-1.2.13.dfsg

build_zlib() {
  is_built zlib && return 0
  fetch_source zlib "$ZLIB_VERSION" "$ZLIB_DIR"
  dir=$SRC/$ZLIB_DIR
  rm -rf "$WORK/zlib" && mkdir -p "$WORK/zlib"
  (
    cd "$WORK/zlib"
    # zlib's own configure builds out of tree (it writes zconf.h here and force-includes it).
    # Not --solo: that drops the default allocator, which libtiff's deflate codec relies on; the
    # gz* file functions it would remove are never linked, as nothing calls them.
    CFLAGS="$ENGINE_CFLAGS" emconfigure "$dir/configure" --static >configure.log
    emmake make -j2 libz.a >make.log
  )
  cp "$WORK/zlib/libz.a" "$PREFIX/lib/"
  cp "$dir/zlib.h" "$WORK/zlib/zconf.h" "$PREFIX/include/"
  mark_built zlib
}
