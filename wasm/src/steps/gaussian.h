#ifndef ENGINE_GAUSSIAN_H
#define ENGINE_GAUSSIAN_H
/*
 * A separable Gaussian over streamed rows, shared by blur and sharpen. Colours are averaged
 * weighted by alpha, so the arbitrary RGB stored under transparent pixels cannot bleed into
 * visible ones (on an opaque image this is the plain blur); alpha itself is not blurred. Edges
 * repeat the border pixel, so borders do not darken.
 *
 * Each input row is blurred horizontally as it arrives into a ring of 2 * reach + 1 rows (float
 * RGBA, premultiplied); output row y is made once row y + reach has arrived. `combine` turns the
 * blurred row and the original row into the output row the step hands on.
 */
#include "../pipeline.h"

typedef struct Gaussian Gaussian;

/* blurred: the row's blurred colours (straight alpha, RGB only meaningful); original: the input row. */
typedef void (*GaussianCombine)(Sink *step, const float *blurred, uint8_t *original, int width);

typedef struct {
  Sink base;
  Gaussian *gaussian;
} GaussianStep;

/* Taps beyond 3 sigma carry under 0.3% of the weight, too little to move an 8-bit value. */
int gaussian_reach(int radius, double sigma);
/* Bytes a Gaussian over rows `width` wide holds. */
size_t gaussian_bytes(int width, int radius, double sigma);

/* `size`: the step's struct, which starts with a GaussianStep. */
Sink *gaussian_step_create(size_t size, const SinkOps *ops, Sink *next, int width, int height, int radius,
                           double sigma, GaussianCombine combine);
void gaussian_step_begin(Sink *sink, const Frame *frame);
void gaussian_step_rows(Sink *sink, uint8_t *rows, size_t stride, int count);
void gaussian_step_end(Sink *sink);
void gaussian_step_destroy(Sink *sink);

#endif
