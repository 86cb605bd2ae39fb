# dav1d (BSD-2-Clause), the AV1 decoder behind AVIF: 8- and 16-bit pixels (10- and 12-bit AVIF).
DAV1D_VERSION=1.0.0-2+deb12u1
DAV1D_DIR=dav1d-1.0.0

build_dav1d() {
  is_built dav1d && return 0
  fetch_source dav1d "$DAV1D_VERSION" "$DAV1D_DIR"
  # Meson's threads dependency compiles every file with -pthread under emscripten: atomics and
  # shared memory the engine does not have. Without it the pthread calls resolve to emscripten's
  # single-threaded stubs. (Idempotent.)
  sed -i "s/^    thread_dependency = dependency('threads')\$/    thread_dependency = host_machine.system() == 'emscripten' ? declare_dependency() : dependency('threads')/" \
    "$SRC/$DAV1D_DIR/meson.build"
  rm -rf "$WORK/dav1d" && mkdir -p "$WORK/dav1d"
  (
    cd "$WORK/dav1d"
    # Meson cross-compiles with emscripten through a cross file; the flags go in as a list.
    args=
    for flag in $ENGINE_CFLAGS; do args="$args'$flag', "; done
    cat >cross.txt <<EOF
[binaries]
c = 'emcc'
ar = 'emar'

[built-in options]
c_args = [${args}]
c_link_args = [${args}]

[host_machine]
system = 'emscripten'
cpu_family = 'wasm32'
cpu = 'wasm32'
endian = 'little'
EOF
    # No asm exists for wasm (the C is vectorised by -msimd128). Logging off: no log callback
    # (API misuse checks still write to stderr). b_ndebug drops assert(); b_staticpic=false: the
    # engine is not a relocatable module. dav1d 1.0.0 has no option to build without threads:
    # its pthread calls go to emscripten's stubs, and none start with n_threads=1,
    # max_frame_delay=1. DAV1D_VERSION comes from 'git describe' of the source's own .git, which
    # a source package has not: it is meson's project version, 1.0.0.
    meson setup --cross-file cross.txt --buildtype=release -Db_ndebug=true -Db_staticpic=false \
      -Ddefault_library=static -Dbitdepths=8,16 -Denable_asm=false -Denable_tools=false \
      -Denable_tests=false -Denable_examples=false -Denable_docs=false -Dlogging=false \
      -Dxxhash_muxer=disabled build "$SRC/$DAV1D_DIR" >meson.log
    ninja -C build -j2 src/libdav1d.a >ninja.log
  )
  rm -rf "$PREFIX/include/dav1d" && mkdir -p "$PREFIX/include/dav1d"
  for header in common data dav1d headers picture; do
    cp "$SRC/$DAV1D_DIR/include/dav1d/$header.h" "$PREFIX/include/dav1d/"
  done
  cp "$WORK/dav1d/build/include/dav1d/version.h" "$PREFIX/include/dav1d/"
  cp "$WORK/dav1d/build/src/libdav1d.a" "$PREFIX/lib/"
  mark_built dav1d
}
