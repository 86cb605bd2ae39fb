/*
 * sharpen,<v>, v in [50, 399]: an unsharp mask, channel + (v / 100) (channel - blurred) on R, G
 * and B, blurred with a Gaussian of sigma 1 reaching 3 pixels, so it acts on fine detail and
 * edges. 100 (OSS's recommended value) adds the detail once, 399 about four times, which overshoots
 * visibly as OSS warns. OSS does not publish its formula (Decision 16). Alpha is kept.
 *
 * args: w, h, amount (v).
 */
#include <math.h>

#include "gaussian.h"

#define MASK_RADIUS 3
#define MASK_SIGMA 1.0

typedef struct {
  GaussianStep base;
  float amount;
} Sharpen;

static void unsharp(Sink *step, const float *blurred, uint8_t *original, int width) {
  const float amount = ((Sharpen *)step)->amount;
  for (int x = 0; x < width; x++) {
    for (int c = 0; c < 3; c++) {
      float value = original[x * 4 + c];
      original[x * 4 + c] = clamp_byte((int)lrintf(value + amount * (value - blurred[x * 4 + c])));
    }
  }
  sink_rows(step->next, original, (size_t)width * 4, 1);
}

static const SinkOps SHARPEN_OPS = {gaussian_step_begin, gaussian_step_rows, gaussian_step_end,
                                    sink_forward_finish, gaussian_step_destroy};

Sink *sharpen_create(const double *args, Sink *next) {
  Sink *sink = gaussian_step_create(sizeof(Sharpen), &SHARPEN_OPS, next, (int)args[0], (int)args[1], MASK_RADIUS, MASK_SIGMA, unsharp);
  ((Sharpen *)sink)->amount = (float)(args[2] / 100.0);
  return sink;
}
