/*
 * GIF: not in the engine yet (a placeholder, so the pipeline links; the planner never asks for it).
 */
#include "../pipeline.h"

void gif_decode(const double *args, Sink *first) {
  (void)args;
  (void)first;
  fail(FAIL_UNSUPPORTED, "GIF is not built into this engine");
}

Sink *gif_encoder_create(const double *args, Sink *next) {
  (void)args;
  (void)next;
  fail(FAIL_UNSUPPORTED, "GIF is not built into this engine");
}
