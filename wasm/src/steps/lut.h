#ifndef ENGINE_LUT_H
#define ENGINE_LUT_H
/* A point operation on R, G and B through a 256-entry table (bright, contrast); alpha is kept. */
#include "../pipeline.h"

Sink *lut_step_create(Sink *next, int width, int height, const uint8_t table[256]);

#endif
