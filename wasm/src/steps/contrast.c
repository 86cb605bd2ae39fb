/*
 * contrast,<v>, v in [-100, 100]: each of R, G and B becomes F (channel - 128) + 128, clamped, with
 * the usual contrast-correction factor F = 259 (c + 255) / (255 (259 - c)) for v scaled to c in
 * [-255, 255]: 0 at -100 (flat grey), 1 at 0, about 130 at 100 (nearly a threshold at mid-grey).
 * OSS does not publish its formula (Decision 16).
 *
 * args: w, h, v.
 */
#include <math.h>

#include "lut.h"

#define MID_GREY 128

Sink *contrast_create(const double *args, Sink *next) {
  double c = args[2] * 255.0 / 100.0;
  double factor = 259.0 * (c + 255.0) / (255.0 * (259.0 - c));
  uint8_t table[256];
  for (int value = 0; value < 256; value++) {
    double mapped = factor * (value - MID_GREY) + MID_GREY;
    table[value] = mapped <= 0 ? 0 : mapped >= 255 ? 255 : (uint8_t)lrint(mapped);
  }
  return lut_step_create(next, (int)args[0], (int)args[1], table);
}
