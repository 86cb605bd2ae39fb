/*
 * blur,r_<radius>,s_<sigma>: a Gaussian with standard deviation s whose kernel reaches at most r
 * pixels each side (and at most 3 s, past which it adds nothing visible). OSS does not publish its
 * formula (Decision 16). Alpha is kept as it is.
 *
 * args: w, h, radius, sigma.
 */
#include <math.h>

#include "gaussian.h"

static void keep_blurred(Sink *step, const float *blurred, uint8_t *original, int width) {
  for (int x = 0; x < width; x++) {
    for (int c = 0; c < 3; c++) original[x * 4 + c] = clamp_byte((int)lrintf(blurred[x * 4 + c]));
  }
  sink_rows(step->next, original, (size_t)width * 4, 1);
}

static const SinkOps BLUR_OPS = {gaussian_step_begin, gaussian_step_rows, gaussian_step_end, sink_forward_finish,
                                 gaussian_step_destroy};

Sink *blur_create(const double *args, Sink *next) {
  return gaussian_step_create(sizeof(GaussianStep), &BLUR_OPS, next, (int)args[0], (int)args[1], (int)args[2], args[3], keep_blurred);
}
