/*
 * Pixels already in memory: a decoder that pushes a raster (a watermark's text on its way to be
 * turned), and the sinks that keep a run's pixels (capture: a mark; mean: average-hue).
 */
#include <stdlib.h>
#include <string.h>

#include "../pipeline.h"

/*
 * args: pixels (pointer), w, h; then, for an animation decoded outside the engine (GIF to WebP),
 * the number of frames stored one after another, a pointer to their durations (int32 ms) and the
 * loop count (0 forever, -1 once).
 */
void raster_decode(const double *args, Sink *first) {
  const uint8_t *pixels = (const uint8_t *)(uintptr_t)args[0];
  int w = (int)args[1], h = (int)args[2];
  int frames = args[3] > 1 ? (int)args[3] : 1;
  const int32_t *delays = (const int32_t *)(uintptr_t)args[4];
  if (frames > 1) run_state.loop_count = (int)args[5];
  uint8_t *row = checked_malloc((size_t)w * 4);
  for (int index = 0; index < frames; index++) {
    const uint8_t *frame_pixels = pixels + (size_t)index * w * h * 4;
    Frame frame = {w, h, frames > 1 && delays ? delays[index] : 0, index};
    run_state.wants_rows = 1;
    sink_begin(first, &frame);
    for (int y = 0; y < h && run_wants_rows(); y++) {
      memcpy(row, frame_pixels + (size_t)y * w * 4, (size_t)w * 4);
      sink_rows(first, row, (size_t)w * 4, 1);
    }
    sink_end(first);
  }
  free(row);
  sink_finish(first);
}

typedef struct {
  Sink base;
  uint8_t *pixels;
  int next_row;
} Capture;

static void capture_begin(Sink *sink, const Frame *frame) {
  sink_expect(sink, frame);
  ((Capture *)sink)->next_row = 0;
}

static void capture_rows(Sink *sink, uint8_t *rows, size_t stride, int count) {
  Capture *capture = (Capture *)sink;
  size_t row_bytes = (size_t)sink->in_width * 4;
  for (int i = 0; i < count && capture->next_row < sink->in_height; i++) {
    memcpy(capture->pixels + (size_t)capture->next_row++ * row_bytes, rows + (size_t)i * stride, row_bytes);
  }
}

static void capture_end(Sink *sink) { (void)sink; }

static void capture_finish(Sink *sink) { run_state.result = ((Capture *)sink)->pixels; }

static const SinkOps CAPTURE_OPS = {capture_begin, capture_rows, capture_end, capture_finish, sink_destroy_nothing};

/* args: w, h. The run answers the w x h RGBA pixels; JavaScript frees them. */
Sink *capture_create(const double *args, Sink *next) {
  (void)next;
  int w = (int)args[0], h = (int)args[1];
  Capture *capture = sink_new(sizeof(Capture), &CAPTURE_OPS, NULL, w, h, w, h);
  capture->pixels = checked_calloc((size_t)w * h, 4);
  return &capture->base;
}

typedef struct {
  Sink base;
  double weighted[3], weight; /* colours weighted by alpha, and the alpha */
  double plain[3], pixels;    /* the plain sums, for an image with no visible pixel */
} Mean;

static void mean_begin(Sink *sink, const Frame *frame) { sink_expect(sink, frame); }

static void mean_rows(Sink *sink, uint8_t *rows, size_t stride, int count) {
  Mean *mean = (Mean *)sink;
  for (int i = 0; i < count; i++) {
    const uint8_t *p = rows + (size_t)i * stride;
    uint64_t weighted[3] = {0, 0, 0}, plain[3] = {0, 0, 0}, weight = 0;
    for (int x = 0; x < sink->in_width; x++, p += 4) {
      for (int c = 0; c < 3; c++) {
        weighted[c] += (uint64_t)p[c] * p[3];
        plain[c] += p[c];
      }
      weight += p[3];
    }
    for (int c = 0; c < 3; c++) {
      mean->weighted[c] += (double)weighted[c];
      mean->plain[c] += (double)plain[c];
    }
    mean->weight += (double)weight;
    mean->pixels += sink->in_width;
  }
}

static void mean_finish(Sink *sink) {
  Mean *mean = (Mean *)sink;
  for (int c = 0; c < 3; c++) {
    run_state.result_values[c] = mean->weight > 0 ? mean->weighted[c] / mean->weight
                                 : mean->pixels > 0 ? mean->plain[c] / mean->pixels
                                                    : 0;
  }
}

static const SinkOps MEAN_OPS = {mean_begin, mean_rows, capture_end, mean_finish, sink_destroy_nothing};

/*
 * average-hue: the mean colour weighted by alpha, so that the colour a transparent pixel happens
 * to store does not count (for an opaque image, the plain mean); an image with no visible pixel
 * falls back to the plain mean. In result values 0-2. args: w, h.
 */
Sink *mean_create(const double *args, Sink *next) {
  (void)next;
  return sink_new(sizeof(Mean), &MEAN_OPS, NULL, (int)args[0], (int)args[1], (int)args[0], (int)args[1]);
}
