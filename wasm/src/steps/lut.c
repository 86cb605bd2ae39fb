#include "lut.h"

#include <string.h>

typedef struct {
  Sink base;
  uint8_t table[256];
} Lut;

static void lut_rows(Sink *sink, uint8_t *rows, size_t stride, int count) {
  const uint8_t *table = ((Lut *)sink)->table;
  for (int i = 0; i < count; i++) {
    uint8_t *p = rows + (size_t)i * stride;
    for (int x = 0; x < sink->in_width; x++, p += 4) {
      p[0] = table[p[0]];
      p[1] = table[p[1]];
      p[2] = table[p[2]];
    }
  }
  sink_rows(sink->next, rows, stride, count);
}

static const SinkOps LUT_OPS = {sink_forward_begin, lut_rows, sink_forward_end, sink_forward_finish, sink_destroy_nothing};

Sink *lut_step_create(Sink *next, int width, int height, const uint8_t table[256]) {
  Lut *lut = sink_new(sizeof(Lut), &LUT_OPS, next, width, height, width, height);
  memcpy(lut->table, table, 256);
  return &lut->base;
}
