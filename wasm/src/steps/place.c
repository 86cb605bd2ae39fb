/*
 * resize's pad mode: the input placed at (x, y) on a canvas of a plain colour. Rows above and below
 * the input are the colour alone; rows across it are the colour, the input row, the colour.
 *
 * args: in_w, in_h, canvas_w, canvas_h, x, y, r, g, b, a.
 */
#include <stdlib.h>
#include <string.h>

#include "../pipeline.h"

typedef struct {
  Sink base;
  int x, y;
  uint8_t colour[4];
  uint8_t *row; /* one canvas row */
  int next_out;
} Place;

static void fill(uint8_t *row, int width, const uint8_t colour[4]) {
  for (int x = 0; x < width; x++) memcpy(row + (size_t)x * 4, colour, 4);
}

/* Hands on canvas rows up to `end` that lie above or below the input. */
static void emit_plain(Place *place, int end) {
  while (place->next_out < end) {
    fill(place->row, place->base.out_width, place->colour);
    sink_rows(place->base.next, place->row, (size_t)place->base.out_width * 4, 1);
    place->next_out++;
  }
}

static void place_begin(Sink *sink, const Frame *frame) {
  Place *place = (Place *)sink;
  place->next_out = 0;
  sink_forward_begin(sink, frame);
  emit_plain(place, place->y);
}

static void place_rows(Sink *sink, uint8_t *rows, size_t stride, int count) {
  Place *place = (Place *)sink;
  int width = sink->out_width;
  for (int i = 0; i < count; i++) {
    fill(place->row, width, place->colour);
    memcpy(place->row + (size_t)place->x * 4, rows + (size_t)i * stride, (size_t)sink->in_width * 4);
    sink_rows(sink->next, place->row, (size_t)width * 4, 1);
    place->next_out++;
  }
}

static void place_end(Sink *sink) {
  Place *place = (Place *)sink;
  emit_plain(place, sink->out_height);
  sink_forward_end(sink);
}

static void place_destroy(Sink *sink) { free(((Place *)sink)->row); }

static const SinkOps PLACE_OPS = {place_begin, place_rows, place_end, sink_forward_finish, place_destroy};

Sink *place_create(const double *args, Sink *next) {
  int in_w = (int)args[0], in_h = (int)args[1], w = (int)args[2], h = (int)args[3];
  int x = (int)args[4], y = (int)args[5];
  if (x < 0 || y < 0 || x + in_w > w || y + in_h > h) fail(FAIL_BAD_ARGUMENT, "place: the image leaves the canvas");
  Place *place = sink_new(sizeof(Place), &PLACE_OPS, next, in_w, in_h, w, h);
  place->x = x;
  place->y = y;
  for (int c = 0; c < 4; c++) place->colour[c] = (uint8_t)args[6 + c];
  place->row = checked_malloc((size_t)w * 4);
  return &place->base;
}
