# libaom (BSD-2-Clause and the AOMedia Patent License 1.0), the AV1 encoder only, for AVIF stills.
# Debian also lists 3.6.0-1+deb12u3 (SVC layer and lookahead fixes, code a one-frame all-intra
# encode does not run), but its .dsc and orig tarball are not on the archive: pin u2 until they are.
AOM_VERSION=3.6.0-1+deb12u2
AOM_DIR=aom-3.6.0

# The encoder's inner loops (transforms, quantizer, coefficient RD and coding, entropy coder, intra
# prediction and the speed-6 CNN), compiled at -O3; everything else at -Os. Measured on all-intra
# speeds 6-9: the time of -O3 throughout for a third of its code.
AOM_HOT_SOURCES="av1/encoder/txb_rdopt.c av1/common/av1_inv_txfm1d.c av1/encoder/av1_fwd_txfm1d.c
  av1/common/av1_txfm.c av1/encoder/encodetxb.c av1/encoder/av1_fwd_txfm2d.c
  av1/common/av1_inv_txfm2d.c av1/encoder/encodemb.c av1/encoder/av1_quantize.c av1/encoder/cnn.c
  aom_dsp/avg.c aom_dsp/entenc.c av1/common/reconintra.c aom_dsp/quantize.c aom_dsp/subtract.c
  av1/encoder/hybrid_fwd_txfm.c av1/common/idct.c av1/encoder/tx_search.c
  av1/encoder/nonrd_pickmode.c av1/encoder/intra_mode_search.c"

build_aom() {
  is_built aom && return 0
  fetch_source aom "$AOM_VERSION" "$AOM_DIR"
  dir=$SRC/$AOM_DIR
  rm -rf "$WORK/aom" && mkdir -p "$WORK/aom"
  # Source-file flags come after the configuration's, so -O3 here overrides the -Os below; emcc
  # turns any -Os into -Os -fno-inline-functions, which -finline-functions undoes.
  # shellcheck disable=SC2086
  printf 'set_source_files_properties(%s PROPERTIES COMPILE_OPTIONS "-O3;-finline-functions")\n' \
    "$(printf '%s ' $AOM_HOT_SOURCES)" >"$WORK/aom/hot-sources.cmake"
  (
    cd "$WORK/aom"
    # Generic C (aom has no WASM SIMD code; its x86 paths need yasm/nasm), no CPU detection, no
    # threads, 8-bit only (AVIF from 8-bit sources), no decoder, tools, tests, docs or examples, no
    # WebM/libyuv, no butteraugli/VMAF tuning, no film-grain denoiser. The version comes from the
    # tarball's CHANGELOG: there is no git to ask (and no .git for it to describe). Its configure
    # step reports every compiler probe on stderr, so that goes to the log too.
    emcmake cmake "$dir" -DCMAKE_BUILD_TYPE=Release -DCMAKE_C_FLAGS="$ENGINE_CFLAGS" \
      -DCMAKE_C_FLAGS_RELEASE=-Os -DCMAKE_PROJECT_INCLUDE="$WORK/aom/hot-sources.cmake" \
      -DAOM_TARGET_CPU=generic -DCONFIG_RUNTIME_CPU_DETECT=0 -DCONFIG_MULTITHREAD=0 \
      -DCONFIG_AV1_DECODER=0 -DCONFIG_AV1_HIGHBITDEPTH=0 -DCONFIG_DENOISE=0 -DCONFIG_WEBM_IO=0 \
      -DCONFIG_LIBYUV=0 -DCONFIG_TUNE_BUTTERAUGLI=0 -DCONFIG_TUNE_VMAF=0 -DENABLE_DOCS=0 \
      -DENABLE_EXAMPLES=0 -DENABLE_TESTS=0 -DENABLE_TOOLS=0 -DGIT_EXECUTABLE=/nonexistent >cmake.log 2>&1 ||
      { echo "build.sh: configuring aom failed (see $WORK/aom/cmake.log)" >&2; exit 1; }
    # aom_codec_build_config() returns the cmake command line, which names the toolchain file by its
    # path relative to this directory: name it without one, so the build directory does not show.
    sed -i 's|-DCMAKE_TOOLCHAIN_FILE=\\"[^"\\]*/\([^/"\\]*\)\\"|-DCMAKE_TOOLCHAIN_FILE=\\"\1\\"|' config/aom_config.c
    emmake make -j2 aom >make.log
  )
  mkdir -p "$PREFIX/include/aom"
  for header in aom.h aom_codec.h aom_encoder.h aom_external_partition.h aom_frame_buffer.h \
    aom_image.h aom_integer.h aomcx.h; do
    cp "$dir/aom/$header" "$PREFIX/include/aom/"
  done
  cp "$WORK/aom/libaom.a" "$PREFIX/lib/libaom.a.$$" && mv "$PREFIX/lib/libaom.a.$$" "$PREFIX/lib/libaom.a"
  mark_built aom
}
