/*
 * auto-orient and rotate's quarter turns: the eight EXIF orientations. 2 (a mirror left to right)
 * works row by row. The others need every input row before their first output row: 3 and 4 turn
 * the image upside down, 5 to 8 turn rows into columns. They hold the frame once, in the output's
 * layout, at 3 bytes a pixel for opaque images (4 with transparency).
 *
 * When that frame would not fit the memory the request may use, the planner asks for band passes:
 * the decoder runs `passes` times, and each pass this step keeps only the output rows of one band
 * (for 5-8, a band of input columns; for 3 and 4, a band of input rows, and the decoder stops
 * after the band's last row). Each pass hands its band on; the steps after see one frame.
 * Passes trade time for memory (the source is decoded once per band); the alternative, a frame
 * held compressed or re-read per strip of columns, would cost far more.
 *
 * args: in_w, in_h, orientation (2..8), bytes per pixel held (3 or 4), passes.
 */
#include <stdlib.h>
#include <string.h>

#include "../pipeline.h"

typedef struct {
  Sink base;
  int orientation;
  int bpp;
  int passes;
  int band_first, band_end; /* the output rows of this pass */
  uint8_t *band;            /* (band_end - band_first) output rows of out_width pixels, bpp each */
  uint8_t *row;             /* one output row, RGBA */
  int next_input_row;
} Orient;

static int swaps(int orientation) { return orientation >= 5; }

int orient_band_passes(const double *args) {
  int passes = (int)args[4];
  return passes > 1 ? passes : 1;
}

static void orient_begin(Sink *sink, const Frame *frame) {
  Orient *orient = (Orient *)sink;
  sink_expect(sink, frame);
  orient->next_input_row = 0;
  if (orient->orientation == 2) {
    sink_forward_begin(sink, frame);
    return;
  }
  int band = (sink->out_height + orient->passes - 1) / orient->passes;
  orient->band_first = run_state.pass * band;
  orient->band_end = orient->band_first + band < sink->out_height ? orient->band_first + band : sink->out_height;
  if (!orient->band) {
    orient->band = checked_malloc((size_t)band * sink->out_width * orient->bpp);
  }
  if (run_state.pass == 0) sink_forward_begin(sink, frame);
}

/* Copies one pixel of the input to the band, dropping alpha when the band holds RGB. */
static inline void put_pixel(uint8_t *to, const uint8_t *from, int bpp) {
  to[0] = from[0];
  to[1] = from[1];
  to[2] = from[2];
  if (bpp == 4) to[3] = from[3];
}

static void mirror_row(uint8_t *row, int width) {
  uint32_t *pixels = (uint32_t *)row;
  for (int a = 0, b = width - 1; a < b; a++, b--) {
    uint32_t swap = pixels[a];
    pixels[a] = pixels[b];
    pixels[b] = swap;
  }
}

static void orient_rows(Sink *sink, uint8_t *rows, size_t stride, int count) {
  Orient *orient = (Orient *)sink;
  const int w = sink->in_width, h = sink->in_height, bpp = orient->bpp, out_w = sink->out_width;
  const int o = orient->orientation;
  if (o == 2) {
    for (int i = 0; i < count; i++) mirror_row(rows + (size_t)i * stride, w);
    sink_rows(sink->next, rows, stride, count);
    return;
  }
  const int first = orient->band_first, end = orient->band_end;
  for (int i = 0; i < count; i++) {
    const int r = orient->next_input_row + i;
    const uint8_t *in = rows + (size_t)i * stride;
    if (!swaps(o)) {
      /* 3 and 4: input row r is output row h - 1 - r; 3 also mirrors it. */
      int y = h - 1 - r;
      if (y < first || y >= end) continue;
      uint8_t *out = orient->band + (size_t)(y - first) * out_w * bpp;
      for (int c = 0; c < w; c++) put_pixel(out + (size_t)(o == 3 ? w - 1 - c : c) * bpp, in + (size_t)c * 4, bpp);
      continue;
    }
    /* 5-8: input column c is output row c (5, 6) or w - 1 - c (7, 8); row r lands at column r (5, 8) or h - 1 - r. */
    int x = (o == 5 || o == 8) ? r : h - 1 - r;
    for (int y = first; y < end; y++) {
      int c = (o == 5 || o == 6) ? y : w - 1 - y;
      put_pixel(orient->band + ((size_t)(y - first) * out_w + x) * bpp, in + (size_t)c * 4, bpp);
    }
  }
  orient->next_input_row += count;
  /* Upside down, a band's last input row is reached before the image's. */
  if (!swaps(o) && orient->next_input_row >= h - first) run_state.wants_rows = 0;
}

static void orient_end(Sink *sink) {
  Orient *orient = (Orient *)sink;
  if (orient->orientation == 2) {
    sink_forward_end(sink);
    return;
  }
  const int out_w = sink->out_width, bpp = orient->bpp;
  for (int y = orient->band_first; y < orient->band_end; y++) {
    const uint8_t *from = orient->band + (size_t)(y - orient->band_first) * out_w * bpp;
    if (bpp == 4) {
      memcpy(orient->row, from, (size_t)out_w * 4);
    } else {
      for (int x = 0; x < out_w; x++) {
        memcpy(orient->row + (size_t)x * 4, from + (size_t)x * 3, 3);
        orient->row[(size_t)x * 4 + 3] = 255;
      }
    }
    sink_rows(sink->next, orient->row, (size_t)out_w * 4, 1);
  }
  if (run_state.pass == orient->passes - 1) sink_forward_end(sink);
}

static void orient_finish(Sink *sink) {
  Orient *orient = (Orient *)sink;
  if (orient->orientation == 2 || run_state.pass == orient->passes - 1) sink_forward_finish(sink);
}

static void orient_destroy(Sink *sink) {
  Orient *orient = (Orient *)sink;
  free(orient->band);
  free(orient->row);
}

static const SinkOps ORIENT_OPS = {orient_begin, orient_rows, orient_end, orient_finish, orient_destroy};

Sink *orient_create(const double *args, Sink *next) {
  int in_w = (int)args[0], in_h = (int)args[1], orientation = (int)args[2], bpp = (int)args[3];
  if (orientation < 2 || orientation > 8 || (bpp != 3 && bpp != 4)) fail(FAIL_BAD_ARGUMENT, "orient: bad arguments");
  int out_w = swaps(orientation) ? in_h : in_w, out_h = swaps(orientation) ? in_w : in_h;
  Orient *orient = sink_new(sizeof(Orient), &ORIENT_OPS, next, in_w, in_h, out_w, out_h);
  orient->orientation = orientation;
  orient->bpp = bpp;
  orient->passes = orient_band_passes(args);
  if (orientation != 2) orient->row = checked_malloc((size_t)out_w * 4);
  return &orient->base;
}
