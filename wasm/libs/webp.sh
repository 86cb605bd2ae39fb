# libwebp, libwebpdemux, libwebpmux (BSD-3-Clause, plus Google's PATENTS grant).
WEBP_VERSION=1.2.4-0.2+deb12u1
WEBP_DIR=libwebp-1.2.4

build_webp() {
  is_built webp && return 0
  fetch_source libwebp "$WEBP_VERSION" "$WEBP_DIR"
  # Built from a fresh copy of the Debian source, so that these changes always apply to pristine
  # files (and a change to them here rebuilds the library):
  rm -rf "$WORK/webp" && mkdir -p "$WORK/webp" && cp -R "$SRC/$WEBP_DIR" "$WORK/webp/source"
  dir=$WORK/webp/source
  # 1. cpu.cmake gives the SIMD compile flags (-msse2, -msse4.1) to the SIMD files of src/dsp only,
  #    so sharpyuv's SSE2 file compiles to an empty stub wherever the compiler does not default to
  #    SSE2, as under emscripten: give them to sharpyuv's SIMD files too.
  sed -i 's|"src/dsp/\*${WEBP_SIMD_FILE_EXTENSION}")|&\n  file(GLOB SHARPYUV_SIMD_FILES "sharpyuv/*${WEBP_SIMD_FILE_EXTENSION}")\n  list(APPEND SIMD_FILES ${SHARPYUV_SIMD_FILES})|' \
    "$dir/cmake/cpu.cmake"
  grep -q SHARPYUV_SIMD_FILES "$dir/cmake/cpu.cmake"
  # 2. The lossless decoder writes its rows into a full-frame output buffer, on top of the full
  #    frame of ARGB it keeps for backward references. A hook lets the engine take each batch of
  #    (at most 16) rows instead, from a strip-sized buffer.
  patch -s -p1 -d "$dir" <<'PATCH'
--- a/src/dec/vp8li_dec.h
+++ b/src/dec/vp8li_dec.h
@@ -88,6 +88,13 @@
 
   uint8_t*         rescaler_memory;  // Working memory for rescaling work.
   WebPRescaler*    rescaler;         // Common rescaler for all channels.
+
+  // If set, each batch of output rows (RGB colorspaces only) is written at the
+  // top of the output buffer instead of at its place in the picture, then
+  // handed to emit_rows_(emit_opaque_, first row, number of rows) before the
+  // next batch overwrites it. A zero return stops the decoding.
+  int (*emit_rows_)(void* opaque, int y, int num_rows);
+  void*            emit_opaque_;
 };
 
 //------------------------------------------------------------------------------
--- a/src/dec/vp8l_dec.c
+++ b/src/dec/vp8l_dec.c
@@ -804,8 +804,8 @@
       const WebPDecBuffer* const output = dec->output_;
       if (WebPIsRGBMode(output->colorspace)) {  // convert to RGBA
         const WebPRGBABuffer* const buf = &output->u.RGBA;
-        uint8_t* const rgba =
-            buf->rgba + (int64_t)dec->last_out_row_ * buf->stride;
+        uint8_t* const rgba = buf->rgba + (dec->emit_rows_ != NULL ? 0 :
+            (int64_t)dec->last_out_row_ * buf->stride);
         const int num_rows_out =
 #if !defined(WEBP_REDUCE_SIZE)
          io->use_scaling ?
@@ -816,6 +816,11 @@
                      io->mb_w, io->mb_h, rgba, buf->stride);
         // Update 'last_out_row_'.
         dec->last_out_row_ += num_rows_out;
+        if (dec->emit_rows_ != NULL && num_rows_out > 0 &&
+            !dec->emit_rows_(dec->emit_opaque_,
+                             dec->last_out_row_ - num_rows_out, num_rows_out)) {
+          dec->br_.eos_ = 1;   // stops DecodeImageData()
+        }
       } else {                              // convert to YUVA
         dec->last_out_row_ = io->use_scaling ?
             EmitRescaledRowsYUVA(dec, rows_data, in_stride, io->mb_h) :
PATCH
  # 3. With an alpha channel, the lossy decoder reserved width x height bytes for an alpha plane that
  #    alpha_dec.c then allocates again (and uses instead): don't reserve them.
  patch -s -p1 -d "$dir" <<'PATCH'
--- a/src/dec/frame_dec.c
+++ b/src/dec/frame_dec.c
@@ -696,9 +696,10 @@
   const size_t cache_height = (16 * num_caches
                             + kFilterExtraRows[dec->filter_type_]) * 3 / 2;
   const size_t cache_size = top_size * cache_height;
-  // alpha_size is the only one that scales as width x height.
-  const uint64_t alpha_size = (dec->alpha_data_ != NULL) ?
-      (uint64_t)dec->pic_hdr_.width_ * dec->pic_hdr_.height_ : 0ULL;
+  // The alpha plane is allocated by alpha_dec.c's AllocateAlphaPlane(), which
+  // replaces dec->alpha_plane_: reserving width x height bytes here too would
+  // only waste them.
+  const uint64_t alpha_size = 0ULL;
   const uint64_t needed = (uint64_t)intra_pred_mode_size
                         + top_size + mb_info_size + f_info_size
                         + yuv_size + mb_data_size
PATCH
  (
    cd "$WORK/webp"
    # SIMD is off by default under emscripten: switch it on, and libwebp's SSE2/SSE4.1 code compiles
    # to WASM SIMD (cpu.c's EMSCRIPTEN branch reports what was compiled in). No threads, no tools.
    # The image-library probes (only the tools use them) are disabled so that nothing found on the
    # machine can change the build.
    emcmake cmake "$dir" -DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF \
      -DWEBP_ENABLE_SIMD=ON -DWEBP_USE_THREAD=OFF -DWEBP_BUILD_LIBWEBPMUX=ON \
      -DWEBP_BUILD_ANIM_UTILS=OFF -DWEBP_BUILD_CWEBP=OFF -DWEBP_BUILD_DWEBP=OFF \
      -DWEBP_BUILD_GIF2WEBP=OFF -DWEBP_BUILD_IMG2WEBP=OFF -DWEBP_BUILD_VWEBP=OFF \
      -DWEBP_BUILD_WEBPINFO=OFF -DWEBP_BUILD_WEBPMUX=OFF -DWEBP_BUILD_EXTRAS=OFF \
      -DCMAKE_DISABLE_FIND_PACKAGE_PNG=ON -DCMAKE_DISABLE_FIND_PACKAGE_JPEG=ON \
      -DCMAKE_DISABLE_FIND_PACKAGE_GIF=ON -DCMAKE_DISABLE_FIND_PACKAGE_OpenGL=ON \
      -DCMAKE_C_FLAGS="$ENGINE_CFLAGS" >cmake.log
    emmake make -j2 webp webpdemux libwebpmux >make.log
  )
  cp "$WORK/webp/libwebp.a" "$WORK/webp/libwebpdemux.a" "$WORK/webp/libwebpmux.a" "$PREFIX/lib/"
  mkdir -p "$PREFIX/include/webp"
  for header in decode encode types demux mux mux_types; do
    cp "$dir/src/webp/$header.h" "$PREFIX/include/webp/"
  done
  # The engine drives the decoders through libwebp's internal API (VP8Io hooks, the dsp and rescaler
  # functions, the hook of patch 2): keep every header of the patched source tree, and the generated
  # config.h, at its path relative to the source root, so that their own includes ("src/dsp/dsp.h",
  # "sharpyuv/sharpyuv.h") resolve with -I"$PREFIX/include/webp-private".
  rm -rf "$PREFIX/include/webp-private"
  (cd "$dir" && find src sharpyuv -name '*.h' | sort | while read -r header; do
    mkdir -p "$PREFIX/include/webp-private/${header%/*}"
    cp "$header" "$PREFIX/include/webp-private/$header"
  done)
  cp "$WORK/webp/src/webp/config.h" "$PREFIX/include/webp-private/src/webp/config.h"
  mark_built webp
}
