/*
 * The run: builds the chain a plan describes, drives its decoder (several times for band passes),
 * and destroys every stage afterwards.
 */
#include "pipeline.h"

#include <stdlib.h>
#include <string.h>

Run run_state;

/* Every sink of the run, in creation order, so one place frees them all. */
#define MAX_SINKS 128
static Sink *sinks[MAX_SINKS];
static int sink_count;
/* The op being built, and the time each op's sinks spent (inclusive, summed over passes). */
#define MAX_OPS 64
static int building_op;
static double op_inclusive_ms[MAX_OPS];
static double op_exclusive_ms[MAX_OPS];

void *sink_new(size_t size, const SinkOps *ops, Sink *next, int in_width, int in_height, int out_width,
               int out_height) {
  if (sink_count == MAX_SINKS) fail(FAIL_BAD_ARGUMENT, "pipeline: too many stages");
  if (in_width <= 0 || in_height <= 0 || out_width <= 0 || out_height <= 0) {
    fail(FAIL_BAD_ARGUMENT, "pipeline: a stage with an empty frame");
  }
  Sink *sink = checked_calloc(1, size);
  sink->op_index = building_op;
  sink->ops = ops;
  sink->next = next;
  sink->in_width = in_width;
  sink->in_height = in_height;
  sink->out_width = out_width;
  sink->out_height = out_height;
  sinks[sink_count++] = sink;
  return sink;
}

void sink_expect(const Sink *sink, const Frame *frame) {
  if (frame->width != sink->in_width || frame->height != sink->in_height) {
    failf(FAIL_BAD_ARGUMENT, "pipeline: a stage planned for %dx%d received %dx%d", sink->in_width,
          sink->in_height, frame->width, frame->height);
  }
}

void sink_forward_begin(Sink *sink, const Frame *frame) {
  sink_expect(sink, frame);
  Frame out = *frame;
  out.width = sink->out_width;
  out.height = sink->out_height;
  sink_begin(sink->next, &out);
}

void sink_forward_end(Sink *sink) { sink_end(sink->next); }
void sink_forward_finish(Sink *sink) { sink_finish(sink->next); }
void sink_destroy_nothing(Sink *sink) { (void)sink; }

/* Destroys the sinks created after the first `keep`. */
static void destroy_sinks(int keep) {
  while (sink_count > keep) {
    Sink *sink = sinks[--sink_count];
    op_inclusive_ms[sink->op_index] += sink->inclusive_ms;
    sink->ops->destroy(sink);
    free(sink);
  }
}

void rows_alloc(Rows *rows, int width, int count) {
  rows->width = width;
  rows->rows = count;
  rows->stride = (size_t)width * 4;
  rows->data = checked_malloc(rows->stride * (size_t)count);
}

void rows_free(Rows *rows) {
  free(rows->data);
  rows->data = NULL;
}

static StepCreate step_constructor(int code) {
  switch (code) {
    case OP_RESIZE: return resize_create;
    case OP_CROP: return crop_create;
    case OP_PLACE: return place_create;
    case OP_ORIENT: return orient_create;
    case OP_ROTATE: return rotate_create;
    case OP_BLUR: return blur_create;
    case OP_SHARPEN: return sharpen_create;
    case OP_BRIGHT: return bright_create;
    case OP_CONTRAST: return contrast_create;
    case OP_ROUNDED_CORNERS: return rounded_corners_create;
    case OP_WATERMARK: return watermark_create;
    case OP_RESTRIP: return restrip_create;
    case OP_COLOR: return color_create;
    case OP_ENCODE_JPEG: return jpeg_encoder_create;
    case OP_ENCODE_PNG: return png_encoder_create;
    case OP_ENCODE_WEBP: return webp_encoder_create;
    case OP_ENCODE_GIF: return gif_encoder_create;
    case OP_ENCODE_BMP: return bmp_encoder_create;
    case OP_ENCODE_AVIF: return avif_encoder_create;
    case OP_CAPTURE: return capture_create;
    case OP_MEAN: return mean_create;
    default: return NULL;
  }
}

static Decode decoder_for(int code) {
  switch (code) {
    case OP_DECODE_JPEG: return jpeg_decode;
    case OP_DECODE_PNG: return png_decode;
    case OP_DECODE_WEBP: return webp_decode;
    case OP_DECODE_GIF: return gif_decode;
    case OP_DECODE_BMP: return bmp_decode;
    case OP_DECODE_AVIF: return avif_decode;
    case OP_DECODE_HEIC: return heic_decode;
    case OP_DECODE_TIFF: return tiff_decode;
    case OP_DECODE_RASTER: return raster_decode;
    default: return NULL;
  }
}

/* Builds ops [from, to) in front of `tail`, last first: each stage is created knowing its next. */
static Sink *build(const Op *ops, int from, int to, Sink *tail) {
  for (int i = to - 1; i >= from; i--) {
    StepCreate create = step_constructor((int)ops[i].code);
    if (!create) failf(FAIL_BAD_ARGUMENT, "pipeline: op %d is not a step", (int)ops[i].code);
    building_op = i;
    tail = create(ops[i].args, tail);
  }
  return tail;
}

/*
 * Runs a plan of `count` ops: ops[0] the decoder, ops[count - 1] the sink, steps between. Answers
 * the sink's result pointer (a capture's pixels), or 0; the sink may also set result_values.
 */
EXPORT void *pipeline_run(const Op *ops, int count) {
  if (count < 2 || count > MAX_OPS) fail(FAIL_BAD_ARGUMENT, "pipeline: a plan needs a decoder and a sink");
  Decode decode = decoder_for((int)ops[0].code);
  if (!decode) failf(FAIL_BAD_ARGUMENT, "pipeline: op %d is not a decoder", (int)ops[0].code);
  memset(&run_state, 0, sizeof(run_state));
  run_state.loop_count = -1;
  memset(op_inclusive_ms, 0, sizeof(op_inclusive_ms));
  sink_count = 0;
  double started = engine_now();

  /* The first step that asks for band passes splits the chain: what follows it is built once. */
  int banded = 0, passes = 1;
  for (int i = 1; i < count - 1 && !banded; i++) {
    if ((int)ops[i].code == OP_ORIENT && orient_band_passes(ops[i].args) > 1) {
      banded = i;
      passes = orient_band_passes(ops[i].args);
    }
  }
  run_state.passes = passes;
  if (!banded) {
    Sink *first = build(ops, 1, count, NULL);
    run_state.wants_rows = 1;
    decode(ops[0].args, first);
  } else {
    Sink *band = build(ops, banded, count, NULL);
    int kept = sink_count;
    for (int pass = 0; pass < passes; pass++) {
      run_state.pass = pass;
      run_state.wants_rows = 1;
      Sink *first = build(ops, 1, banded, band);
      decode(ops[0].args, first);
      destroy_sinks(kept); /* the decoder's side of the chain is rebuilt every pass */
    }
  }
  void *result = run_state.result;
  destroy_sinks(0);
  /* What each op spent itself: its sinks' time less the time of the calls they made onwards. */
  op_exclusive_ms[0] = engine_now() - started - op_inclusive_ms[1];
  for (int i = 1; i < count; i++) {
    op_exclusive_ms[i] = op_inclusive_ms[i] - (i + 1 < count ? op_inclusive_ms[i + 1] : 0);
  }
  return result;
}

/* Milliseconds op `index` of the last run spent on its own work. */
EXPORT double pipeline_stage_ms(int index) { return index >= 0 && index < MAX_OPS ? op_exclusive_ms[index] : 0; }

EXPORT double pipeline_result_value(int index) { return index >= 0 && index < 4 ? run_state.result_values[index] : 0; }
