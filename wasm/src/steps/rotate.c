/*
 * rotate by any angle other than a quarter turn (those are orient.c's): the image turned clockwise
 * about its centre onto the canvas that bounds it, sampled bilinearly in premultiplied alpha. The
 * corners the turn exposes take the fill: transparent where the output keeps alpha, white otherwise.
 *
 * Rows stream: an output row samples the input along a slanted line, so it needs the band of input
 * rows that line crosses. For turns of less than 90 degrees either way the bands move down the
 * image as the output does, and a ring of input rows as tall as the widest band is held. Beyond
 * that (the image upside down) the first output rows need the last input rows: the frame is held.
 *
 * args: in_w, in_h, out_w, out_h, degrees (clockwise), fill r, g, b, a.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../pipeline.h"

typedef struct {
  Sink base;
  double cos_a, sin_a;
  double centre_x, centre_y, out_centre_x, out_centre_y;
  uint8_t fill[4];
  int capacity;        /* input rows the ring holds */
  uint8_t *ring;       /* input row r at slot r % capacity */
  int rows_in;         /* input rows received */
  int next_out;        /* the next output row */
  uint8_t *out_row;
} Rotate;

/* The input rows [first, last] output row `y` samples (unclamped). */
static void needed_rows(const Rotate *rotate, int y, int *first, int *last) {
  double dy = y - rotate->out_centre_y;
  double left = -(0 - rotate->out_centre_x) * rotate->sin_a + dy * rotate->cos_a + rotate->centre_y;
  double right = -(rotate->base.out_width - 1 - rotate->out_centre_x) * rotate->sin_a + dy * rotate->cos_a + rotate->centre_y;
  double low = left < right ? left : right, high = left < right ? right : left;
  *first = (int)floor(low);
  *last = (int)floor(high) + 1;
}

static void render_row(Rotate *rotate, int y) {
  const int w = rotate->base.in_width, h = rotate->base.in_height, out_w = rotate->base.out_width;
  const double dy = y - rotate->out_centre_y;
  const uint8_t *fill = rotate->fill;
  const int opaque = fill[3] == 255;
  uint8_t *out = rotate->out_row;
  for (int x = 0; x < out_w; x++) {
    const double dx = x - rotate->out_centre_x;
    /* The inverse of a clockwise turn on a y-down grid. */
    const double sx = dx * rotate->cos_a + dy * rotate->sin_a + rotate->centre_x;
    const double sy = -dx * rotate->sin_a + dy * rotate->cos_a + rotate->centre_y;
    uint8_t *o = out + (size_t)x * 4;
    if (sx <= -1 || sy <= -1 || sx >= w || sy >= h) {
      memcpy(o, fill, 4);
      continue;
    }
    const int x0 = (int)floor(sx), y0 = (int)floor(sy);
    const double fx = sx - x0, fy = sy - y0;
    double sum[4] = {0, 0, 0, 0};
    for (int corner = 0; corner < 4; corner++) {
      const int cx = x0 + (corner & 1), cy = y0 + (corner >> 1);
      const double weight = (corner & 1 ? fx : 1 - fx) * (corner >> 1 ? fy : 1 - fy);
      if (weight == 0) continue;
      const uint8_t *p = (cx < 0 || cy < 0 || cx >= w || cy >= h)
                             ? fill
                             : rotate->ring + ((size_t)(cy % rotate->capacity) * w + cx) * 4;
      const double premultiplied = weight * p[3];
      sum[0] += p[0] * premultiplied;
      sum[1] += p[1] * premultiplied;
      sum[2] += p[2] * premultiplied;
      sum[3] += premultiplied;
    }
    if (sum[3] > 0) {
      for (int c = 0; c < 3; c++) o[c] = clamp_byte((int)lrint(sum[c] / sum[3]));
    } else {
      memcpy(o, fill, 3);
    }
    o[3] = opaque ? 255 : clamp_byte((int)lrint(sum[3]));
  }
  sink_rows(rotate->base.next, out, (size_t)out_w * 4, 1);
}

/* Renders every output row whose input band has fully arrived. */
static void emit_ready(Rotate *rotate, int all_arrived) {
  const int h = rotate->base.in_height;
  while (rotate->next_out < rotate->base.out_height) {
    int first, last;
    needed_rows(rotate, rotate->next_out, &first, &last);
    if (last > h - 1) last = h - 1;
    if (!all_arrived && last >= rotate->rows_in) return;
    render_row(rotate, rotate->next_out++);
  }
}

static void rotate_begin(Sink *sink, const Frame *frame) {
  Rotate *rotate = (Rotate *)sink;
  rotate->rows_in = 0;
  rotate->next_out = 0;
  sink_forward_begin(sink, frame);
}

static void rotate_rows(Sink *sink, uint8_t *rows, size_t stride, int count) {
  Rotate *rotate = (Rotate *)sink;
  const size_t row_bytes = (size_t)sink->in_width * 4;
  for (int i = 0; i < count; i++) {
    memcpy(rotate->ring + (size_t)(rotate->rows_in % rotate->capacity) * row_bytes, rows + (size_t)i * stride, row_bytes);
    rotate->rows_in++;
    if (rotate->capacity < sink->in_height) emit_ready(rotate, 0);
  }
}

static void rotate_end(Sink *sink) {
  emit_ready((Rotate *)sink, 1);
  sink_forward_end(sink);
}

static void rotate_destroy(Sink *sink) {
  Rotate *rotate = (Rotate *)sink;
  free(rotate->ring);
  free(rotate->out_row);
}

static const SinkOps ROTATE_OPS = {rotate_begin, rotate_rows, rotate_end, sink_forward_finish, rotate_destroy};

/* The ring a turn needs, in input rows: the widest band plus the row being filled, or the frame. */
EXPORT int rotate_ring_rows(int in_h, int out_w, double degrees) {
  double radians = degrees * M_PI / 180.0;
  if (cos(radians) < 0) return in_h;
  int span = (int)ceil((out_w - 1) * fabs(sin(radians))) + 3;
  return span < in_h ? span : in_h;
}

Sink *rotate_create(const double *args, Sink *next) {
  int in_w = (int)args[0], in_h = (int)args[1], out_w = (int)args[2], out_h = (int)args[3];
  double degrees = args[4];
  Rotate *rotate = sink_new(sizeof(Rotate), &ROTATE_OPS, next, in_w, in_h, out_w, out_h);
  double radians = degrees * M_PI / 180.0;
  rotate->cos_a = cos(radians);
  rotate->sin_a = sin(radians);
  rotate->centre_x = (in_w - 1) / 2.0;
  rotate->centre_y = (in_h - 1) / 2.0;
  rotate->out_centre_x = (out_w - 1) / 2.0;
  rotate->out_centre_y = (out_h - 1) / 2.0;
  for (int c = 0; c < 4; c++) rotate->fill[c] = (uint8_t)args[5 + c];
  rotate->capacity = rotate_ring_rows(in_h, out_w, degrees);
  rotate->ring = checked_malloc((size_t)rotate->capacity * in_w * 4);
  rotate->out_row = checked_malloc((size_t)out_w * 4);
  return &rotate->base;
}
