#include "gaussian.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

struct Gaussian {
  int reach;
  float *kernel;      /* 2 * reach + 1 weights, centred on index reach */
  int capacity;       /* 2 * reach + 1 rows */
  float *blurred;     /* ring of horizontally blurred rows, premultiplied RGBA floats */
  uint8_t *originals; /* ring of input rows */
  float *padded;      /* one premultiplied row with reach border pixels each side */
  float *sums;        /* one output row of vertical sums */
  int rows_in;        /* input rows received this frame */
  int next_out;
  GaussianCombine combine;
};

int gaussian_reach(int radius, double sigma) {
  int limit = (int)ceil(3.0 * sigma);
  return radius < limit ? radius : limit;
}

size_t gaussian_bytes(int width, int radius, double sigma) {
  size_t reach = (size_t)gaussian_reach(radius, sigma), rows = 2 * reach + 1;
  return rows * (size_t)width * (16 + 4) + (size_t)(width + 2 * reach) * 16 + (size_t)width * 16;
}

static void blur_row_horizontally(Gaussian *g, const uint8_t *row, int width, float *out) {
  const int reach = g->reach;
  float *padded = g->padded;
  for (int px = 0; px < width + 2 * reach; px++) {
    int x = px - reach < 0 ? 0 : px - reach >= width ? width - 1 : px - reach;
    const uint8_t *s = row + (size_t)x * 4;
    float a = s[3];
    padded[px * 4] = s[0] * a;
    padded[px * 4 + 1] = s[1] * a;
    padded[px * 4 + 2] = s[2] * a;
    padded[px * 4 + 3] = a;
  }
  const float *kernel = g->kernel;
  for (int x = 0; x < width; x++) {
    const float *centre = padded + (size_t)(x + reach) * 4;
#ifdef __wasm_simd128__
    v128_t sum = wasm_f32x4_mul(wasm_v128_load(centre), wasm_f32x4_splat(kernel[reach]));
    for (int k = 1; k <= reach; k++) {
      v128_t pair = wasm_f32x4_add(wasm_v128_load(centre - k * 4), wasm_v128_load(centre + k * 4));
      sum = wasm_f32x4_add(sum, wasm_f32x4_mul(pair, wasm_f32x4_splat(kernel[reach + k])));
    }
    wasm_v128_store(out + (size_t)x * 4, sum);
#else
    for (int c = 0; c < 4; c++) {
      float sum = centre[c] * kernel[reach];
      for (int k = 1; k <= reach; k++) sum += (centre[c - k * 4] + centre[c + k * 4]) * kernel[reach + k];
      out[x * 4 + c] = sum;
    }
#endif
  }
}

static const float *blurred_row(const Gaussian *g, int row, int last, int width) {
  if (row < 0) row = 0;
  if (row > last) row = last;
  return g->blurred + (size_t)(row % g->capacity) * width * 4;
}

/* Output row y from blurred rows y - reach .. y + reach, clamped to the rows [0, last] that exist. */
static void emit_row(Sink *step, Gaussian *g, int y, int last) {
  const int width = step->in_width, reach = g->reach, values = width * 4;
  float *sums = g->sums;
  const float *centre = blurred_row(g, y, last, width);
  for (int i = 0; i < values; i++) sums[i] = centre[i] * g->kernel[reach];
  for (int k = 1; k <= reach; k++) {
    const float *above = blurred_row(g, y - k, last, width), *below = blurred_row(g, y + k, last, width);
    const float weight = g->kernel[reach + k];
#ifdef __wasm_simd128__
    v128_t w = wasm_f32x4_splat(weight);
    for (int i = 0; i < values; i += 4) {
      v128_t pair = wasm_f32x4_add(wasm_v128_load(above + i), wasm_v128_load(below + i));
      wasm_v128_store(sums + i, wasm_f32x4_add(wasm_v128_load(sums + i), wasm_f32x4_mul(pair, w)));
    }
#else
    for (int i = 0; i < values; i++) sums[i] += (above[i] + below[i]) * weight;
#endif
  }
  /* Back from premultiplied: colour = blurred(colour x alpha) / blurred(alpha). */
  uint8_t *original = g->originals + (size_t)(y % g->capacity) * values;
  for (int x = 0; x < width; x++) {
    float *p = sums + (size_t)x * 4;
    float coverage = p[3];
    if (coverage > 0) {
      p[0] /= coverage;
      p[1] /= coverage;
      p[2] /= coverage;
    } else {
      /* Nothing visible nearby: keep the pixel's own colour. */
      p[0] = original[x * 4];
      p[1] = original[x * 4 + 1];
      p[2] = original[x * 4 + 2];
    }
  }
  g->combine(step, sums, original, width);
}

Sink *gaussian_step_create(size_t size, const SinkOps *ops, Sink *next, int width, int height, int radius,
                           double sigma, GaussianCombine combine) {
  GaussianStep *step = sink_new(size, ops, next, width, height, width, height);
  Gaussian *g = checked_calloc(1, sizeof(Gaussian));
  step->gaussian = g;
  g->combine = combine;
  g->reach = gaussian_reach(radius, sigma);
  int reach = g->reach;
  g->kernel = checked_malloc(sizeof(float) * (2 * reach + 1));
  double sum = 0, *exact = checked_malloc(sizeof(double) * (2 * reach + 1));
  for (int i = -reach; i <= reach; i++) sum += exact[i + reach] = exp(-(double)(i * i) / (2 * sigma * sigma));
  for (int i = 0; i < 2 * reach + 1; i++) g->kernel[i] = (float)(exact[i] / sum);
  free(exact);
  g->capacity = 2 * reach + 1;
  g->blurred = checked_malloc(sizeof(float) * 4 * (size_t)width * g->capacity);
  g->originals = checked_malloc((size_t)4 * width * g->capacity);
  g->padded = checked_malloc(sizeof(float) * 4 * (size_t)(width + 2 * reach));
  g->sums = checked_malloc(sizeof(float) * 4 * (size_t)width);
  return &step->base;
}

void gaussian_step_begin(Sink *sink, const Frame *frame) {
  Gaussian *g = ((GaussianStep *)sink)->gaussian;
  g->rows_in = 0;
  g->next_out = 0;
  sink_forward_begin(sink, frame);
}

void gaussian_step_rows(Sink *sink, uint8_t *rows, size_t stride, int count) {
  Gaussian *g = ((GaussianStep *)sink)->gaussian;
  const int width = sink->in_width;
  for (int i = 0; i < count; i++) {
    const uint8_t *row = rows + (size_t)i * stride;
    int slot = g->rows_in % g->capacity;
    memcpy(g->originals + (size_t)slot * width * 4, row, (size_t)width * 4);
    blur_row_horizontally(g, row, width, g->blurred + (size_t)slot * width * 4);
    g->rows_in++;
    while (g->next_out + g->reach < g->rows_in && g->next_out < sink->in_height) {
      emit_row(sink, g, g->next_out++, g->rows_in - 1);
    }
  }
}

void gaussian_step_end(Sink *sink) {
  Gaussian *g = ((GaussianStep *)sink)->gaussian;
  /* The rows left repeat the last row that arrived (the image's, or where the decoder stopped). */
  while (g->next_out < g->rows_in) emit_row(sink, g, g->next_out++, g->rows_in - 1);
  sink_forward_end(sink);
}

void gaussian_step_destroy(Sink *sink) {
  Gaussian *g = ((GaussianStep *)sink)->gaussian;
  if (!g) return;
  free(g->kernel);
  free(g->blurred);
  free(g->originals);
  free(g->padded);
  free(g->sums);
  free(g);
}
