/*
 * Hands rows on in strips of exactly `rows` rows (the last may be shorter), whatever strips it
 * receives. For tests: the same image through strips of 1, 7 and 64 rows must come out the same.
 *
 * args: w, h, rows.
 */
#include <stdlib.h>
#include <string.h>

#include "../pipeline.h"

typedef struct {
  Sink base;
  Rows strip;
  int held;
} Restrip;

static void restrip_begin(Sink *sink, const Frame *frame) {
  ((Restrip *)sink)->held = 0;
  sink_forward_begin(sink, frame);
}

static void flush(Restrip *restrip) {
  sink_rows(restrip->base.next, restrip->strip.data, restrip->strip.stride, restrip->held);
  restrip->held = 0;
}

static void restrip_rows(Sink *sink, uint8_t *rows, size_t stride, int count) {
  Restrip *restrip = (Restrip *)sink;
  for (int i = 0; i < count; i++) {
    memcpy(rows_at(&restrip->strip, restrip->held++), rows + (size_t)i * stride, restrip->strip.stride);
    if (restrip->held == restrip->strip.rows) flush(restrip);
  }
}

static void restrip_end(Sink *sink) {
  flush((Restrip *)sink);
  sink_forward_end(sink);
}

static void restrip_destroy(Sink *sink) { rows_free(&((Restrip *)sink)->strip); }

static const SinkOps RESTRIP_OPS = {restrip_begin, restrip_rows, restrip_end, sink_forward_finish, restrip_destroy};

Sink *restrip_create(const double *args, Sink *next) {
  int w = (int)args[0], h = (int)args[1], rows = (int)args[2];
  if (rows < 1) fail(FAIL_BAD_ARGUMENT, "restrip: no rows");
  Restrip *restrip = sink_new(sizeof(Restrip), &RESTRIP_OPS, next, w, h, w, h);
  rows_alloc(&restrip->strip, w, rows);
  return &restrip->base;
}
