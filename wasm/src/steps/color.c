/*
 * colour management: not in the engine yet (a placeholder, so the pipeline links; the planner never asks for it).
 */
#include "../pipeline.h"

Sink *color_create(const double *args, Sink *next) {
  (void)args;
  (void)next;
  fail(FAIL_UNSUPPORTED, "colour management is not built into this engine");
}
