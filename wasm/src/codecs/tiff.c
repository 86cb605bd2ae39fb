/*
 * TIFF: not in the engine yet (a placeholder, so the pipeline links; the planner never asks for it).
 */
#include "../pipeline.h"

void tiff_decode(const double *args, Sink *first) {
  (void)args;
  (void)first;
  fail(FAIL_UNSUPPORTED, "TIFF is not built into this engine");
}
