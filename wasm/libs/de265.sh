# libde265 (LGPL-3.0-or-later), the HEVC decoder behind HEIC. The library only: no encoder tool,
# no dec265, no SDL.
DE265_VERSION=1.0.11-1+deb12u2
DE265_DIR=libde265-1.0.11

build_de265() {
  is_built de265 && return 0
  fetch_source libde265 "$DE265_VERSION" "$DE265_DIR"
  dir=$SRC/$DE265_DIR
  # The SSE2/SSE4.1 code compiles to WASM SIMD through emscripten's SSE headers (about 40% faster),
  # but sse.cc asks the CPU with cpuid, which wasm has not: under emscripten, report SSE and SSE4.1,
  # which -msse4.1 compiled in. (Idempotent.)
  grep -q '__EMSCRIPTEN__' "$dir/libde265/x86/sse.cc" ||
    sed -i -e 's/^#ifdef __GNUC__$/#if defined(__GNUC__) \&\& !defined(__EMSCRIPTEN__)/' \
      -e 's/^  __get_cpuid(1, &eax,&ebx,&ecx,&edx);$/#ifdef __EMSCRIPTEN__\n  (void)eax; (void)ebx;\n  ecx = 1 << 19; edx = 1 << 25;\n#else\n&\n#endif/' \
      "$dir/libde265/x86/sse.cc"
  rm -rf "$WORK/de265" && mkdir -p "$WORK/de265"
  (
    cd "$WORK/de265"
    # The SSE probes (check_c_compiler_flag -msse4.1) compile with CMAKE_C_FLAGS, which must hold
    # -msimd128 (ENGINE_CFLAGS does). C++: emscripten's default exception mode, RTTI kept on
    # (libde265 uses dynamic_cast). Threads::Threads adds no flag under emscripten: with no worker
    # threads started (de265_start_worker_threads), pthread calls go to emscripten's stubs.
    # CMakeLists.txt forces -fPIC; wasm-ld resolves it statically (no speed difference measured).
    emcmake cmake "$dir" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DENABLE_SDL=OFF \
      -DENABLE_DECODER=OFF -DENABLE_ENCODER=OFF -DDISABLE_SSE=OFF \
      -DCMAKE_C_FLAGS="$ENGINE_CFLAGS" -DCMAKE_CXX_FLAGS="$ENGINE_CFLAGS" >cmake.log
    emmake make -j2 de265 >make.log
  )
  rm -rf "$PREFIX/include/libde265" && mkdir -p "$PREFIX/include/libde265"
  cp "$dir/libde265/de265.h" "$dir/libde265/en265.h" "$WORK/de265/libde265/de265-version.h" \
    "$PREFIX/include/libde265/"
  cp "$WORK/de265/libde265/libde265.a" "$PREFIX/lib/"
  mark_built de265
}
