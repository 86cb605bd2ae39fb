#include "resize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "fail.h"

#ifdef __wasm_simd128__
#include <wasm_simd128.h>
#endif

/* Filter weights are 14-bit fixed point; horizontally reduced values keep 6 fractional bits. */
#define WEIGHT_BITS 14
#define WEIGHT_ONE (1 << WEIGHT_BITS)
#define MID_BITS 6
#define LANCZOS_LOBES 3.0

/* One axis of the resampling: which reduced inputs each output reads, with which weights. */
typedef struct {
  int box;        /* integer pre-shrink factor, 1 for none */
  int in_len;     /* input pixels along the axis */
  int box_len;    /* after the box pre-shrink */
  int out_len;
  int max_taps;   /* taps of the widest output, an even number (pairs feed the SIMD dot product) */
  int *start;     /* first reduced input of each output */
  int *count;     /* taps of each output */
  int16_t *weights; /* out_len rows of max_taps, zero beyond count */
} Axis;

struct Resizer {
  Axis h, v;
  int premultiply;
  int column_offset;
  uint8_t *premultiplied; /* one input row, when premultiplying */
  uint32_t *box_sums;     /* h.box_len * 4 sums of the box rows gathered so far */
  int box_rows;           /* input rows summed into box_sums */
  uint8_t *box_row;       /* the averaged box row */
  int16_t *ring;          /* the last v.max_taps horizontally reduced rows */
  int32_t *column_sums;   /* one output row before rounding */
  int next_output_row;
  uint8_t *output;
};

static double lanczos3(double x) {
  if (x == 0.0) return 1.0;
  if (x <= -LANCZOS_LOBES || x >= LANCZOS_LOBES) return 0.0;
  double px = M_PI * x;
  return LANCZOS_LOBES * sin(px) * sin(px / LANCZOS_LOBES) / (px * px);
}

/*
 * Boxes of `box` inputs are averaged first when the reduction is 3x or more; the Lanczos filter
 * then reduces by between 2x and 3x, so its taps stay few while aliasing stays controlled.
 */
static int box_factor(double ratio) {
  return ratio >= 3.0 ? (int)floor(ratio / 2.0) : 1;
}

static void axis_init(Axis *axis, int in_len, double win_start, double win_len, int out_len) {
  double ratio = win_len / out_len;
  axis->box = box_factor(ratio);
  axis->in_len = in_len;
  axis->box_len = (in_len + axis->box - 1) / axis->box;
  axis->out_len = out_len;

  double start = win_start / axis->box;
  double scale = win_len / axis->box / out_len;
  double stretch = scale > 1.0 ? scale : 1.0;
  double support = LANCZOS_LOBES * stretch;
  int taps = (int)ceil(2.0 * support) + 1;
  axis->max_taps = taps + (taps & 1);
  axis->start = checked_malloc(sizeof(int) * out_len);
  axis->count = checked_malloc(sizeof(int) * out_len);
  axis->weights = checked_malloc(sizeof(int16_t) * out_len * axis->max_taps);
  memset(axis->weights, 0, sizeof(int16_t) * out_len * axis->max_taps);

  double *exact = checked_malloc(sizeof(double) * axis->max_taps);
  for (int o = 0; o < out_len; o++) {
    double center = start + (o + 0.5) * scale - 0.5;
    int first = (int)ceil(center - support);
    int last = (int)floor(center + support);
    if (first < 0) first = 0;
    if (last > axis->box_len - 1) last = axis->box_len - 1;
    if (last < first) first = last = center < 0 ? 0 : axis->box_len - 1;
    if (last - first + 1 > axis->max_taps) last = first + axis->max_taps - 1;

    double sum = 0.0;
    for (int i = first; i <= last; i++) sum += exact[i - first] = lanczos3((i - center) / stretch);
    /* Zero-weight taps at either end cost time for nothing: an unscaled axis keeps one tap. */
    while (first < last && fabs(exact[0]) < 1e-9) {
      memmove(exact, exact + 1, sizeof(double) * (last - first));
      first++;
    }
    while (last > first && fabs(exact[last - first]) < 1e-9) last--;
    int count = last - first + 1;

    int16_t *row = axis->weights + (size_t)o * axis->max_taps;
    if (fabs(sum) < 1e-9) {
      row[0] = WEIGHT_ONE; /* a window narrower than the filter's zeros: nearest input */
      count = 1;
    } else {
      int total = 0, largest = 0;
      for (int t = 0; t < count; t++) {
        row[t] = (int16_t)lrint(exact[t] / sum * WEIGHT_ONE);
        total += row[t];
        if (row[t] > row[largest]) largest = t;
      }
      row[largest] += WEIGHT_ONE - total; /* the weights must sum to exactly one */
    }
    axis->start[o] = first;
    axis->count[o] = count;
  }
  free(exact);
}

static void axis_free(Axis *axis) {
  free(axis->start);
  free(axis->count);
  free(axis->weights);
}

/* The original inputs [first, end) the outputs read, whole boxes included. */
static void axis_needed(const Axis *axis, int *first, int *end) {
  int last_output = axis->out_len - 1;
  int box_end = axis->start[last_output] + axis->count[last_output];
  int lowest = axis->start[0];
  *first = lowest * axis->box;
  *end = box_end * axis->box < axis->in_len ? box_end * axis->box : axis->in_len;
}

Resizer *resizer_create(int in_w, int in_h, double x, double y, double w, double h, int dst_w, int dst_h,
                        int premultiply) {
  if (in_w <= 0 || in_h <= 0 || dst_w <= 0 || dst_h <= 0 || w <= 0 || h <= 0) {
    fail(FAIL_BAD_ARGUMENT, "resize: empty input, window or output");
  }
  Resizer *resizer = checked_malloc(sizeof(Resizer));
  memset(resizer, 0, sizeof(Resizer));
  axis_init(&resizer->h, in_w, x, w, dst_w);
  axis_init(&resizer->v, in_h, y, h, dst_h);
  resizer->premultiply = premultiply;
  if (premultiply) resizer->premultiplied = checked_malloc((size_t)in_w * 4);
  if (resizer->h.box > 1 || resizer->v.box > 1) {
    resizer->box_sums = checked_malloc(sizeof(uint32_t) * resizer->h.box_len * 4);
    memset(resizer->box_sums, 0, sizeof(uint32_t) * resizer->h.box_len * 4);
    resizer->box_row = checked_malloc((size_t)resizer->h.box_len * 4);
  }
  resizer->ring = checked_malloc(sizeof(int16_t) * resizer->v.max_taps * dst_w * 4);
  resizer->column_sums = checked_malloc(sizeof(int32_t) * dst_w * 4);
  resizer->output = checked_malloc((size_t)dst_w * dst_h * 4);
  return resizer;
}

void resizer_needed_columns(const Resizer *resizer, int *first, int *end) {
  axis_needed(&resizer->h, first, end);
}

void resizer_needed_rows(const Resizer *resizer, int *first, int *end) {
  axis_needed(&resizer->v, first, end);
}

void resizer_set_column_offset(Resizer *resizer, int column_offset) {
  resizer->column_offset = column_offset;
}

/*
 * Horizontal pass: one (box-reduced) row of RGBA into out_len x 4 values with MID_BITS fractions.
 * The row's first pixel is column `offset`.
 */
static void reduce_row(const Axis *axis, const uint8_t *row, int offset, int16_t *out) {
  const int shift = WEIGHT_BITS - MID_BITS;
  const int32_t round = 1 << (shift - 1);
  for (int o = 0; o < axis->out_len; o++) {
    const uint8_t *pixel = row + (size_t)(axis->start[o] - offset) * 4;
    const int16_t *weight = axis->weights + (size_t)o * axis->max_taps;
    int count = axis->count[o];
#ifdef __wasm_simd128__
    /* Two taps at a time: bytes regrouped as r0 r1 g0 g1 b0 b1 a0 a1, one dot product per pair. */
    v128_t sums = wasm_i32x4_splat(0);
    int t = 0;
    for (; t + 1 < count; t += 2) {
      v128_t pair = wasm_v128_load64_zero(pixel + t * 4);
      v128_t grouped = wasm_i8x16_shuffle(pair, pair, 0, 4, 1, 5, 2, 6, 3, 7, 8, 8, 8, 8, 8, 8, 8, 8);
      v128_t wide = wasm_u16x8_extend_low_u8x16(grouped);
      v128_t weights = wasm_i32x4_splat((uint16_t)weight[t] | ((uint32_t)(uint16_t)weight[t + 1] << 16));
      sums = wasm_i32x4_add(sums, wasm_i32x4_dot_i16x8(wide, weights));
    }
    if (t < count) {
      v128_t single = wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(pixel + t * 4)));
      sums = wasm_i32x4_add(sums, wasm_i32x4_mul(single, wasm_i32x4_splat(weight[t])));
    }
    sums = wasm_i32x4_shr(wasm_i32x4_add(sums, wasm_i32x4_splat(round)), shift);
    wasm_v128_store64_lane(out + (size_t)o * 4, wasm_i16x8_narrow_i32x4(sums, sums), 0);
#else
    int32_t r = 0, g = 0, b = 0, a = 0;
    for (int t = 0; t < count; t++) {
      r += pixel[t * 4] * weight[t];
      g += pixel[t * 4 + 1] * weight[t];
      b += pixel[t * 4 + 2] * weight[t];
      a += pixel[t * 4 + 3] * weight[t];
    }
    int16_t *target = out + (size_t)o * 4;
    target[0] = (int16_t)((r + round) >> shift);
    target[1] = (int16_t)((g + round) >> shift);
    target[2] = (int16_t)((b + round) >> shift);
    target[3] = (int16_t)((a + round) >> shift);
#endif
  }
}

static inline uint8_t clamp_byte(int32_t value) {
  return value < 0 ? 0 : value > 255 ? 255 : (uint8_t)value;
}

/* Vertical pass for every output row whose inputs have all arrived, up to reduced row `newest`. */
static void emit_rows(Resizer *resizer, int newest) {
  const Axis *v = &resizer->v;
  const int values = resizer->h.out_len * 4;
  const int shift = WEIGHT_BITS + MID_BITS;
  const int32_t round = 1 << (shift - 1);
  int32_t *sums = resizer->column_sums;
  while (resizer->next_output_row < v->out_len) {
    int o = resizer->next_output_row;
    if (v->start[o] + v->count[o] - 1 > newest) return;
    const int16_t *weight = v->weights + (size_t)o * v->max_taps;
    memset(sums, 0, sizeof(int32_t) * values);
    for (int t = 0; t < v->count[o]; t++) {
      const int16_t *row = resizer->ring + (size_t)((v->start[o] + t) % v->max_taps) * values;
      const int32_t w = weight[t];
      for (int i = 0; i < values; i++) sums[i] += row[i] * w;
    }
    uint8_t *out = resizer->output + (size_t)o * values;
    for (int i = 0; i < values; i++) out[i] = clamp_byte((sums[i] + round) >> shift);
    if (resizer->premultiply) {
      for (int i = 0; i < values; i += 4) {
        int alpha = out[i + 3];
        if (alpha == 0 || alpha == 255) continue;
        for (int c = 0; c < 3; c++) out[i + c] = clamp_byte((out[i + c] * 255 + alpha / 2) / alpha);
      }
    }
    resizer->next_output_row++;
  }
}

static void reduce_and_store(Resizer *resizer, int reduced_y, const uint8_t *row, int offset) {
  int16_t *slot = resizer->ring + (size_t)(reduced_y % resizer->v.max_taps) * resizer->h.out_len * 4;
  reduce_row(&resizer->h, row, offset, slot);
  emit_rows(resizer, reduced_y);
}

/* Averages the gathered box rows into box_row and starts the next box. */
static void flush_box(Resizer *resizer) {
  const Axis *h = &resizer->h;
  for (int j = 0; j < h->box_len; j++) {
    int columns = j == h->box_len - 1 ? h->in_len - j * h->box : h->box;
    uint32_t cells = (uint32_t)columns * resizer->box_rows;
    uint32_t *sum = resizer->box_sums + (size_t)j * 4;
    for (int c = 0; c < 4; c++) resizer->box_row[j * 4 + c] = (uint8_t)((sum[c] + cells / 2) / cells);
  }
  memset(resizer->box_sums, 0, sizeof(uint32_t) * h->box_len * 4);
  resizer->box_rows = 0;
}

void resizer_push(Resizer *resizer, int y, const uint8_t *row) {
  int first, end;
  resizer_needed_rows(resizer, &first, &end);
  if (y < first || y >= end) return;
  const Axis *h = &resizer->h;
  const int offset = resizer->column_offset;
  int columns_first, columns_end;
  resizer_needed_columns(resizer, &columns_first, &columns_end);

  if (resizer->premultiply) {
    uint8_t *target = resizer->premultiplied;
    for (int x = columns_first - offset; x < columns_end - offset; x++) {
      const uint8_t *p = row + (size_t)x * 4;
      uint8_t *q = target + (size_t)x * 4;
      int alpha = p[3];
      for (int c = 0; c < 3; c++) q[c] = (uint8_t)((p[c] * alpha + 127) / 255);
      q[3] = (uint8_t)alpha;
    }
    row = target;
  }

  if (!resizer->box_sums) {
    reduce_and_store(resizer, y, row, offset);
    return;
  }
  int box = h->box;
  for (int j = columns_first / box; j < h->box_len && j * box < columns_end; j++) {
    uint32_t *sum = resizer->box_sums + (size_t)j * 4;
    int stop = (j + 1) * box < h->in_len ? (j + 1) * box : h->in_len;
    for (int x = j * box; x < stop; x++) {
      const uint8_t *p = row + (size_t)(x - offset) * 4;
      sum[0] += p[0];
      sum[1] += p[1];
      sum[2] += p[2];
      sum[3] += p[3];
    }
  }
  resizer->box_rows++;
  int vbox = resizer->v.box;
  if (resizer->box_rows == vbox || y == end - 1) {
    flush_box(resizer);
    reduce_and_store(resizer, y / vbox, resizer->box_row, 0);
  }
}

uint8_t *resizer_take_output(Resizer *resizer) {
  if (resizer->next_output_row != resizer->v.out_len) fail(FAIL_BAD_ARGUMENT, "resize: input rows missing");
  uint8_t *output = resizer->output;
  resizer->output = NULL;
  return output;
}

void resizer_destroy(Resizer *resizer) {
  if (!resizer) return;
  axis_free(&resizer->h);
  axis_free(&resizer->v);
  free(resizer->premultiplied);
  free(resizer->box_sums);
  free(resizer->box_row);
  free(resizer->ring);
  free(resizer->column_sums);
  free(resizer->output);
  free(resizer);
}
