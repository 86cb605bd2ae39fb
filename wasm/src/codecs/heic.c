/*
 * HEIC: not in the engine yet (a placeholder, so the pipeline links; the planner never asks for it).
 */
#include "../pipeline.h"

void heic_decode(const double *args, Sink *first) {
  (void)args;
  (void)first;
  fail(FAIL_UNSUPPORTED, "HEIC is not built into this engine");
}
