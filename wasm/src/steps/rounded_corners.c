/*
 * rounded-corners (and circle, which is this on the square it cuts, with half its side as the
 * radius): keeps the rounded rectangle that fills the frame and replaces what lies outside it by
 * the fill (transparent where the output keeps alpha, white otherwise). Edge pixels are anti-
 * aliased by coverage: a pixel whose centre lies at distance d from the nearest corner's centre is
 * covered by about radius - d + 0.5 (clamped to [0, 1]), which fades the edge over one pixel. Only
 * the rows and columns of the corner squares can be uncovered, so only they are visited.
 *
 * args: w, h, radius, fill r, g, b, a.
 */
#include <math.h>

#include "../pipeline.h"

typedef struct {
  Sink base;
  double radius;
  int band;
  double fill[4];
  int next_row;
} Rounded;

static void clip_pixel(uint8_t *p, double coverage, const double fill[4]) {
  /* The pixel over the fill, weighted by coverage, in premultiplied alpha. */
  double kept = coverage * p[3];
  double added = (1 - coverage) * fill[3];
  double alpha = kept + added;
  if (alpha > 0) {
    for (int c = 0; c < 3; c++) p[c] = clamp_byte((int)lrint((p[c] * kept + fill[c] * added) / alpha));
  }
  p[3] = clamp_byte((int)lrint(alpha));
}

static void rounded_begin(Sink *sink, const Frame *frame) {
  ((Rounded *)sink)->next_row = 0;
  sink_forward_begin(sink, frame);
}

static void rounded_rows(Sink *sink, uint8_t *rows, size_t stride, int count) {
  Rounded *rounded = (Rounded *)sink;
  const int w = sink->in_width, h = sink->in_height, band = rounded->band;
  const double radius = rounded->radius, right = w - radius, bottom = h - radius;
  for (int i = 0; i < count; i++) {
    int y = rounded->next_row++;
    if (y >= band && y < h - band) continue;
    uint8_t *row = rows + (size_t)i * stride;
    double cy = y + 0.5;
    double dy = cy < radius ? radius - cy : cy > bottom ? cy - bottom : 0;
    for (int x = 0; x < w; x++) {
      if (x == band && w - band > band) x = w - band;
      double cx = x + 0.5;
      double dx = cx < radius ? radius - cx : cx > right ? cx - right : 0;
      double coverage = radius - sqrt(dx * dx + dy * dy) + 0.5;
      if (coverage >= 1) continue;
      clip_pixel(row + (size_t)x * 4, coverage < 0 ? 0 : coverage, rounded->fill);
    }
  }
  sink_rows(sink->next, rows, stride, count);
}

static const SinkOps ROUNDED_OPS = {rounded_begin, rounded_rows, sink_forward_end, sink_forward_finish,
                                    sink_destroy_nothing};

Sink *rounded_corners_create(const double *args, Sink *next) {
  int w = (int)args[0], h = (int)args[1];
  Rounded *rounded = sink_new(sizeof(Rounded), &ROUNDED_OPS, next, w, h, w, h);
  rounded->radius = args[2];
  int band = (int)ceil(args[2]);
  rounded->band = band < w ? (band < h ? band : h) : (w < h ? w : h);
  for (int c = 0; c < 4; c++) rounded->fill[c] = args[3 + c];
  return &rounded->base;
}
