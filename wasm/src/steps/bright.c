/*
 * bright,<v>, v in [-100, 100]: adds round(v * 255 / 100) to R, G and B, so +-100 is the whole
 * 8-bit range (white or black), clamped to 0..255. OSS does not publish its formula (Decision 16).
 *
 * args: w, h, v.
 */
#include <math.h>

#include "lut.h"

Sink *bright_create(const double *args, Sink *next) {
  int offset = (int)lrint(args[2] * 255.0 / 100.0);
  uint8_t table[256];
  for (int value = 0; value < 256; value++) table[value] = clamp_byte(value + offset);
  return lut_step_create(next, (int)args[0], (int)args[1], table);
}
