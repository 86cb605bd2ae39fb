/*
 * AVIF: AV1 still images in a HEIF container (heif_container.c), decoded by dav1d. The decoder
 * holds the coded item and dav1d's picture at its own size and sample format (1.5 bytes a pixel at
 * 4:2:0 8-bit, 3 at 4:4:4, twice that above 8 bits), which the container code turns into RGBA
 * strips: never a whole RGBA frame. A grid AVIF is decoded a tile row at a time. dav1d runs on one
 * thread with a frame delay of 1: a still image needs no more. The encoder (libaom) is in
 * avif_encode.c.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "../pipeline.h"
#include "dav1d/dav1d.h"
#include "heif_container.h"

typedef struct {
  Dav1dPicture picture;
  int holding;
  uint8_t *data; /* the coded item, while dav1d reads it */
} Av1Codec;

static void no_free(const uint8_t *data, void *cookie) {
  (void)data;
  (void)cookie;
}

static _Noreturn void dav1d_failed(int result, const char *what) {
  if (result == DAV1D_ERR(ENOMEM)) fail(FAIL_OUT_OF_MEMORY, "out of memory");
  failf(FAIL_DAMAGED, "avif: the AV1 data could not be decoded (%s)", what);
}

static void av1_decode(void *state, Heif *heif, const HeifItem *item, const HeifProperty *config, HeifPlanes *out) {
  (void)config; /* av1C repeats the sequence header the item's data carries */
  Av1Codec *codec = state;
  int width, height;
  /* A frame larger than the image's declared size is refused before dav1d allocates for it. */
  const HeifProperty *ispe = heif_property(heif, item, FOURCC('i', 's', 'p', 'e'));
  width = ispe && ispe->size >= 12 ? (int)((ispe->data[4] << 24) | (ispe->data[5] << 16) | (ispe->data[6] << 8) | ispe->data[7]) : 0;
  height = ispe && ispe->size >= 12 ? (int)((ispe->data[8] << 24) | (ispe->data[9] << 16) | (ispe->data[10] << 8) | ispe->data[11]) : 0;

  codec->data = heif_item_bytes(heif, item);
  Dav1dSettings settings;
  dav1d_default_settings(&settings);
  settings.n_threads = 1;
  settings.max_frame_delay = 1;
  settings.all_layers = 0;
  settings.frame_size_limit = width > 0 && height > 0 ? (unsigned)((width + 64) * (height + 64)) : 0;
  Dav1dContext *context = NULL;
  int result = dav1d_open(&context, &settings);
  if (result < 0) dav1d_failed(result, "open");
  Dav1dData data;
  memset(&data, 0, sizeof(data));
  result = dav1d_data_wrap(&data, codec->data, (size_t)item->size, no_free, NULL);
  if (result < 0) dav1d_failed(result, "data");
  memset(&codec->picture, 0, sizeof(codec->picture));
  int got = 0;
  while (!got) {
    if (data.sz > 0) {
      result = dav1d_send_data(context, &data);
      if (result < 0 && result != DAV1D_ERR(EAGAIN)) dav1d_failed(result, "send");
    }
    result = dav1d_get_picture(context, &codec->picture);
    if (result == 0) {
      got = 1;
    } else if (result != DAV1D_ERR(EAGAIN)) {
      dav1d_failed(result, "picture");
    } else if (data.sz == 0) {
      dav1d_failed(result, "no picture in the data");
    }
  }
  dav1d_data_unref(&data);
  /* The picture is reference-counted: it outlives the decoder, whose state goes now. */
  dav1d_close(&context);
  free(codec->data);
  codec->data = NULL;
  codec->holding = 1;

  const Dav1dPicture *p = &codec->picture;
  memset(out, 0, sizeof(*out));
  out->width = p->p.w;
  out->height = p->p.h;
  out->bits = p->p.bpc;
  out->monochrome = p->p.layout == DAV1D_PIXEL_LAYOUT_I400;
  out->ss_x = p->p.layout == DAV1D_PIXEL_LAYOUT_I420 || p->p.layout == DAV1D_PIXEL_LAYOUT_I422;
  out->ss_y = p->p.layout == DAV1D_PIXEL_LAYOUT_I420;
  for (int c = 0; c < 3; c++) {
    out->plane[c] = p->data[c];
    out->stride[c] = p->stride[c ? 1 : 0];
  }
  out->matrix = p->seq_hdr->mtrx;
  out->full_range = p->seq_hdr->color_range;
}

static void av1_release(void *state) {
  Av1Codec *codec = state;
  if (codec->holding) dav1d_picture_unref(&codec->picture);
  codec->holding = 0;
}

/* args: source. Pushes the clean aperture of the primary image at full size, RGBA. */
void avif_decode(const double *args, Sink *first) {
  Heif heif;
  heif_open(&heif, (int)args[0], FOURCC('a', 'v', '0', '1'), "avif");
  Av1Codec colour_state = {0}, alpha_state = {0};
  HeifCodec colour = {av1_decode, av1_release, &colour_state, "avif", FOURCC('a', 'v', '1', 'C')};
  HeifCodec alpha = {av1_decode, av1_release, &alpha_state, "avif", FOURCC('a', 'v', '1', 'C')};
  heif_push_rows(&heif, &colour, &alpha, first);
  heif_close(&heif);
}
