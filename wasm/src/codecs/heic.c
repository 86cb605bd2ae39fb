/*
 * HEIC: HEVC still images in a HEIF container (heif_container.c), decoded by libde265. iPhones
 * store a grid of 512x512 tiles: each tile is decoded on its own by a fresh decoder (its hvcC
 * parameter sets, then its data), copied into the tile row and released, so a 12 MP photo never
 * needs more than one tile row of samples and one tile's decoder. libde265 is single-threaded here
 * (no worker threads are started) and its SSE code runs as WASM SIMD (wasm/libs/de265.sh).
 */
#include <stdlib.h>
#include <string.h>

#include "../pipeline.h"
#include "heif_container.h"
#include "libde265/de265.h"

typedef struct {
  de265_decoder_context *decoder;
  const struct de265_image *image;
} HevcCodec;

static void push(de265_decoder_context *decoder, const uint8_t *nal, uint32_t length) {
  de265_error error = de265_push_NAL(decoder, nal, (int)length, 0, NULL);
  if (error == DE265_ERROR_OUT_OF_MEMORY) fail(FAIL_OUT_OF_MEMORY, "out of memory");
  if (!de265_isOK(error)) failf(FAIL_DAMAGED, "heic: %s", de265_get_error_text(error));
}

/* hvcC's parameter sets (VPS, SPS, PPS, SEI), each a NAL unit; answers the NAL length size. */
static int push_config(de265_decoder_context *decoder, const HeifProperty *hvcC) {
  const uint8_t *p = hvcC->data;
  uint32_t size = hvcC->size, at = 23;
  if (size < 23) fail(FAIL_DAMAGED, "heic: an hvcC box too short");
  int length_size = (p[21] & 3) + 1;
  int arrays = p[22];
  for (int a = 0; a < arrays; a++) {
    if (at + 3 > size) fail(FAIL_DAMAGED, "heic: an hvcC box ends early");
    int count = (p[at + 1] << 8) | p[at + 2];
    at += 3;
    for (int n = 0; n < count; n++) {
      if (at + 2 > size) fail(FAIL_DAMAGED, "heic: an hvcC box ends early");
      uint32_t length = ((uint32_t)p[at] << 8) | p[at + 1];
      at += 2;
      if (length > size - at) fail(FAIL_DAMAGED, "heic: an hvcC box ends early");
      push(decoder, p + at, length);
      at += length;
    }
  }
  return length_size;
}

static void hevc_decode(void *state, Heif *heif, const HeifItem *item, const HeifProperty *config, HeifPlanes *out) {
  HevcCodec *codec = state;
  /* A trap inside libde265 (its allocation failing in C++) is damage or memory, never a bug of ours. */
  fail_pending(FAIL_DAMAGED, "heic: the HEVC decoder stopped");
  codec->decoder = de265_new_decoder();
  if (!codec->decoder) fail(FAIL_OUT_OF_MEMORY, "out of memory");
  de265_set_parameter_bool(codec->decoder, DE265_DECODER_PARAM_BOOL_SEI_CHECK_HASH, 0);
  int length_size = push_config(codec->decoder, config);

  /* The item's data: NAL units, each after its length. libde265 copies what it is given. */
  uint8_t *data = heif_item_bytes(heif, item);
  size_t size = (size_t)item->size, at = 0;
  while (at < size) {
    if (size - at < (size_t)length_size) fail(FAIL_DAMAGED, "heic: the coded data ends inside a NAL length");
    uint32_t length = 0;
    for (int i = 0; i < length_size; i++) length = (length << 8) | data[at + i];
    at += (size_t)length_size;
    if (length > size - at) fail(FAIL_DAMAGED, "heic: the coded data ends inside a NAL unit");
    push(codec->decoder, data + at, length);
    at += length;
  }
  free(data);
  de265_error error = de265_flush_data(codec->decoder);
  if (!de265_isOK(error)) failf(FAIL_DAMAGED, "heic: %s", de265_get_error_text(error));

  /* Pictures must be taken inside the loop, or de265_decode keeps waiting for them. */
  const struct de265_image *image = NULL;
  int more = 1;
  while (more && !image) {
    error = de265_decode(codec->decoder, &more);
    if (error == DE265_ERROR_OUT_OF_MEMORY) fail(FAIL_OUT_OF_MEMORY, "out of memory");
    if (!de265_isOK(error) && error != DE265_ERROR_WAITING_FOR_INPUT_DATA) {
      failf(FAIL_DAMAGED, "heic: %s", de265_get_error_text(error));
    }
    image = de265_get_next_picture(codec->decoder);
    if (error == DE265_ERROR_WAITING_FOR_INPUT_DATA && !image) break;
  }
  if (!image) fail(FAIL_DAMAGED, "heic: no picture in the HEVC data");
  fail_pending(0, "");
  codec->image = image;

  memset(out, 0, sizeof(*out));
  enum de265_chroma chroma = de265_get_chroma_format(image);
  out->width = de265_get_image_width(image, 0);
  out->height = de265_get_image_height(image, 0);
  out->bits = de265_get_bits_per_pixel(image, 0);
  out->monochrome = chroma == de265_chroma_mono;
  out->ss_x = chroma == de265_chroma_420 || chroma == de265_chroma_422;
  out->ss_y = chroma == de265_chroma_420;
  if (out->bits < 8 || out->bits > 16) fail(FAIL_UNSUPPORTED, "heic: a sample depth out of range");
  for (int c = 0; c < (out->monochrome ? 1 : 3); c++) {
    int stride = 0;
    out->plane[c] = de265_get_image_plane(image, c, &stride);
    out->stride[c] = stride;
    if (!out->plane[c]) fail(FAIL_DAMAGED, "heic: a picture without its planes");
    if (c && de265_get_bits_per_pixel(image, c) != out->bits) fail(FAIL_UNSUPPORTED, "heic: chroma of another depth");
  }
  out->matrix = de265_get_image_matrix_coefficients(image);
  out->full_range = de265_get_image_full_range_flag(image);
}

static void hevc_release(void *state) {
  HevcCodec *codec = state;
  if (codec->decoder) de265_free_decoder(codec->decoder);
  codec->decoder = NULL;
  codec->image = NULL;
}

/* args: source. Pushes the clean aperture of the primary image at full size, RGBA. */
void heic_decode(const double *args, Sink *first) {
  Heif heif;
  heif_open(&heif, (int)args[0], FOURCC('h', 'v', 'c', '1'), "heic");
  HevcCodec colour_state = {0}, alpha_state = {0};
  HeifCodec colour = {hevc_decode, hevc_release, &colour_state, "heic", FOURCC('h', 'v', 'c', 'C')};
  HeifCodec alpha = {hevc_decode, hevc_release, &alpha_state, "heic", FOURCC('h', 'v', 'c', 'C')};
  heif_push_rows(&heif, &colour, &alpha, first);
  heif_close(&heif);
}
