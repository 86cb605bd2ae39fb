/*
 * watermark: marks (an image, text, or both side by side, made before the run by the helpers
 * below) composited into the rows that cross them, source over, straight alpha: at one place, or
 * tiled over the whole image.
 *
 * args: w, h, mark pixels (pointer), mark w, mark h, tile (0 or 1), left, top, pad x, pad y.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../pipeline.h"

typedef struct {
  Sink base;
  const uint8_t *mark;
  int mark_w, mark_h;
  int tile;
  int left, top, pad_x, pad_y;
  int next_row;
} Watermark;

/* Draws `count` pixels of `src` over `dst`, source over, straight alpha. */
static void draw_over(uint8_t *dst, const uint8_t *src, int count) {
  for (int x = 0; x < count; x++, dst += 4, src += 4) {
    int alpha = src[3];
    if (alpha == 255) {
      memcpy(dst, src, 3);
      dst[3] = 255;
    } else if (alpha > 0) {
      double below = dst[3] * (255 - alpha) / 255.0;
      double out = alpha + below;
      for (int c = 0; c < 3; c++) dst[c] = clamp_byte((int)lrint((src[c] * alpha + dst[c] * below) / out));
      dst[3] = clamp_byte((int)lrint(out));
    }
  }
}

/* Draws mark row `mark_y` into `row` with its left edge at column `left`, clipped to the row. */
static void draw_mark_row(const Watermark *mark, uint8_t *row, int width, int mark_y, int left) {
  int from = left < 0 ? -left : 0;
  int to = left + mark->mark_w > width ? width - left : mark->mark_w;
  if (to <= from) return;
  draw_over(row + (size_t)(left + from) * 4, mark->mark + ((size_t)mark_y * mark->mark_w + from) * 4, to - from);
}

static void watermark_begin(Sink *sink, const Frame *frame) {
  ((Watermark *)sink)->next_row = 0;
  sink_forward_begin(sink, frame);
}

static void watermark_rows(Sink *sink, uint8_t *rows, size_t stride, int count) {
  Watermark *mark = (Watermark *)sink;
  const int width = sink->in_width;
  for (int i = 0; i < count; i++) {
    int y = mark->next_row++;
    uint8_t *row = rows + (size_t)i * stride;
    if (!mark->tile) {
      int mark_y = y - mark->top;
      if (mark_y >= 0 && mark_y < mark->mark_h) draw_mark_row(mark, row, width, mark_y, mark->left);
      continue;
    }
    int step_y = mark->mark_h + mark->pad_y;
    int mark_y = y % step_y;
    if (mark_y >= mark->mark_h) continue;
    for (int left = 0; left < width; left += mark->mark_w + mark->pad_x) draw_mark_row(mark, row, width, mark_y, left);
  }
  sink_rows(sink->next, rows, stride, count);
}

static const SinkOps WATERMARK_OPS = {watermark_begin, watermark_rows, sink_forward_end, sink_forward_finish,
                                      sink_destroy_nothing};

Sink *watermark_create(const double *args, Sink *next) {
  int w = (int)args[0], h = (int)args[1];
  Watermark *mark = sink_new(sizeof(Watermark), &WATERMARK_OPS, next, w, h, w, h);
  mark->mark = (const uint8_t *)(uintptr_t)args[2];
  mark->mark_w = (int)args[3];
  mark->mark_h = (int)args[4];
  mark->tile = args[5] != 0;
  mark->left = (int)args[6];
  mark->top = (int)args[7];
  mark->pad_x = (int)args[8];
  mark->pad_y = (int)args[9];
  if (mark->mark_w <= 0 || mark->mark_h <= 0) fail(FAIL_BAD_ARGUMENT, "watermark: an empty mark");
  return &mark->base;
}

/* ---- making marks (called by JavaScript before the run) ---- */

/*
 * Text from its coverage mask (8-bit, w x h): the colour, and when `shadow` (0-100) is set a black
 * shadow of that opacity `offset` pixels down and right, drawn first. Answers a (w + offset) x
 * (h + offset) RGBA mark.
 */
EXPORT uint8_t *mark_text(const uint8_t *coverage, int w, int h, int r, int g, int b, int shadow, int offset) {
  int out_w = w + offset, out_h = h + offset;
  uint8_t *out = checked_calloc((size_t)out_w * out_h, 4);
  uint8_t *layer = checked_malloc((size_t)w * 4);
  for (int pass = shadow > 0 && offset > 0 ? 0 : 1; pass < 2; pass++) {
    const int dx = pass == 0 ? offset : 0;
    const double scale = pass == 0 ? shadow / 100.0 : 1.0;
    const uint8_t colour[3] = {pass == 0 ? 0 : (uint8_t)r, pass == 0 ? 0 : (uint8_t)g, pass == 0 ? 0 : (uint8_t)b};
    for (int y = 0; y < h; y++) {
      for (int x = 0; x < w; x++) {
        memcpy(layer + (size_t)x * 4, colour, 3);
        layer[x * 4 + 3] = clamp_byte((int)lrint(coverage[(size_t)y * w + x] * scale));
      }
      draw_over(out + ((size_t)(y + dx) * out_w + dx) * 4, layer, w);
    }
  }
  free(layer);
  return out;
}

/*
 * An image and a text mark side by side, `interval` pixels apart, aligned vertically by `align`
 * (0 top, 1 middle, 2 bottom). Answers a new mark; the two are left as they are.
 */
EXPORT uint8_t *mark_beside(const uint8_t *first, int first_w, int first_h, const uint8_t *second, int second_w,
                            int second_h, int interval, int align) {
  int h = first_h > second_h ? first_h : second_h;
  int w = first_w + interval + second_w;
  uint8_t *out = checked_calloc((size_t)w * h, 4);
  const uint8_t *parts[2] = {first, second};
  const int widths[2] = {first_w, second_w}, heights[2] = {first_h, second_h};
  const int lefts[2] = {0, first_w + interval};
  for (int part = 0; part < 2; part++) {
    int top = align == 0 ? 0 : align == 1 ? (h - heights[part]) / 2 : h - heights[part];
    for (int y = 0; y < heights[part]; y++) {
      draw_over(out + ((size_t)(top + y) * w + lefts[part]) * 4, parts[part] + (size_t)y * widths[part] * 4,
                widths[part]);
    }
  }
  return out;
}

/* Scales a mark's alpha by opacity / 100, in place. */
EXPORT void mark_opacity(uint8_t *mark, int w, int h, int opacity) {
  if (opacity >= 100) return;
  for (size_t i = 3; i < (size_t)w * h * 4; i += 4) mark[i] = clamp_byte((int)lrint(mark[i] * opacity / 100.0));
}
