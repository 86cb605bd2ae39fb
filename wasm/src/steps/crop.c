/*
 * crop (and indexcrop, and the square a circle is cut from, and resize's fill mode): the rows
 * [y, y + h) and columns [x, x + w) of the input, handed on without copying. Once the last row has
 * passed, the decoder is told it may stop.
 *
 * args: in_w, in_h, x, y, w, h.
 */
#include "../pipeline.h"

typedef struct {
  Sink base;
  int x, y;
  int next_row;
} Crop;

static void crop_begin(Sink *sink, const Frame *frame) {
  ((Crop *)sink)->next_row = 0;
  sink_forward_begin(sink, frame);
}

static void crop_rows(Sink *sink, uint8_t *rows, size_t stride, int count) {
  Crop *crop = (Crop *)sink;
  int first = crop->next_row, end = first + count;
  crop->next_row = end;
  int from = first > crop->y ? first : crop->y;
  int to = end < crop->y + sink->out_height ? end : crop->y + sink->out_height;
  if (to > from) sink_rows(sink->next, rows + (size_t)(from - first) * stride + (size_t)crop->x * 4, stride, to - from);
  if (end >= crop->y + sink->out_height) run_state.wants_rows = 0;
}

static const SinkOps CROP_OPS = {crop_begin, crop_rows, sink_forward_end, sink_forward_finish, sink_destroy_nothing};

Sink *crop_create(const double *args, Sink *next) {
  int in_w = (int)args[0], in_h = (int)args[1];
  int x = (int)args[2], y = (int)args[3], w = (int)args[4], h = (int)args[5];
  if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > in_w || y + h > in_h) {
    fail(FAIL_BAD_ARGUMENT, "crop: the rectangle leaves the image");
  }
  Crop *crop = sink_new(sizeof(Crop), &CROP_OPS, next, in_w, in_h, w, h);
  crop->x = x;
  crop->y = y;
  return &crop->base;
}
