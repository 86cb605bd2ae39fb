/*
 * resize: a separable Lanczos3 resampler over streamed rows. Each input row is reduced
 * horizontally as it arrives, so only the taps of the vertical filter are held (a ring of reduced
 * rows), and every output row is handed on as soon as its last input row has arrived: memory
 * follows the output width, never the frame. Reductions of 3x and more first average integer boxes
 * of pixels, which leaves the Lanczos filter at most a 2-3x reduction (few taps, no aliasing).
 *
 * args: in_w, in_h, window x, y, w, h (input pixels, fractions allowed: the part of the input that
 * becomes the output), out_w, out_h, premultiply (1 when the image has transparency: colours are
 * weighted by alpha so transparent pixels' RGB cannot bleed in).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../pipeline.h"

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
  int box;          /* integer pre-shrink factor, 1 for none */
  int in_len;       /* input pixels along the axis */
  int box_len;      /* after the box pre-shrink */
  int out_len;
  int max_taps;     /* taps of the widest output, an even number (pairs feed the SIMD dot product) */
  int *start;       /* first reduced input of each output */
  int *count;       /* taps of each output */
  int16_t *weights; /* out_len rows of max_taps, zero beyond count */
} Axis;

typedef struct {
  Sink base;
  Axis h, v;
  int premultiply;
  int row_first, row_end;       /* the input rows the output needs */
  int column_first, column_end; /* the input columns */
  int next_input_row;
  uint8_t *premultiplied; /* one input row, when premultiplying */
  uint32_t *box_sums;     /* h.box_len * 4 sums of the box rows gathered so far */
  int box_rows;           /* input rows summed into box_sums */
  uint8_t *box_row;       /* the averaged box row */
  int16_t *ring;          /* the last v.max_taps horizontally reduced rows */
  int32_t *column_sums;   /* one output row before rounding */
  uint8_t *out_row;
  int next_output_row;
  Frame frame;
} Resize;

static double lanczos3(double x) {
  if (x == 0.0) return 1.0;
  if (x <= -LANCZOS_LOBES || x >= LANCZOS_LOBES) return 0.0;
  double px = M_PI * x;
  return LANCZOS_LOBES * sin(px) * sin(px / LANCZOS_LOBES) / (px * px);
}

static int box_factor(double ratio) { return ratio >= 3.0 ? (int)floor(ratio / 2.0) : 1; }

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
  axis->weights = checked_calloc((size_t)out_len * axis->max_taps, sizeof(int16_t));

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
  *first = axis->start[0] * axis->box;
  *end = box_end * axis->box < axis->in_len ? box_end * axis->box : axis->in_len;
}

/* Horizontal pass: one (box-reduced) row of RGBA into out_len x 4 values with MID_BITS fractions. */
static void reduce_row(const Axis *axis, const uint8_t *row, int16_t *out) {
  const int shift = WEIGHT_BITS - MID_BITS;
  const int32_t round = 1 << (shift - 1);
  for (int o = 0; o < axis->out_len; o++) {
    const uint8_t *pixel = row + (size_t)axis->start[o] * 4;
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
      v128_t single =
          wasm_u32x4_extend_low_u16x8(wasm_u16x8_extend_low_u8x16(wasm_v128_load32_zero(pixel + t * 4)));
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

/* Vertical pass for every output row whose inputs have all arrived, up to reduced row `newest`. */
static void emit_rows(Resize *resize, int newest) {
  const Axis *v = &resize->v;
  const int values = resize->h.out_len * 4;
  const int shift = WEIGHT_BITS + MID_BITS;
  const int32_t round = 1 << (shift - 1);
  int32_t *sums = resize->column_sums;
  uint8_t *out = resize->out_row;
  while (resize->next_output_row < v->out_len) {
    int o = resize->next_output_row;
    if (v->start[o] + v->count[o] - 1 > newest) return;
    const int16_t *weight = v->weights + (size_t)o * v->max_taps;
    memset(sums, 0, sizeof(int32_t) * values);
    for (int t = 0; t < v->count[o]; t++) {
      const int16_t *row = resize->ring + (size_t)((v->start[o] + t) % v->max_taps) * values;
      const int32_t w = weight[t];
      for (int i = 0; i < values; i++) sums[i] += row[i] * w;
    }
    for (int i = 0; i < values; i++) out[i] = clamp_byte((sums[i] + round) >> shift);
    if (resize->premultiply) {
      for (int i = 0; i < values; i += 4) {
        int alpha = out[i + 3];
        if (alpha == 0 || alpha == 255) continue;
        for (int c = 0; c < 3; c++) out[i + c] = clamp_byte((out[i + c] * 255 + alpha / 2) / alpha);
      }
    }
    resize->next_output_row++;
    sink_rows(resize->base.next, out, (size_t)values, 1);
  }
}

static void reduce_and_store(Resize *resize, int reduced_y, const uint8_t *row) {
  int16_t *slot = resize->ring + (size_t)(reduced_y % resize->v.max_taps) * resize->h.out_len * 4;
  reduce_row(&resize->h, row, slot);
  emit_rows(resize, reduced_y);
}

/* Averages the gathered box rows into box_row and starts the next box. */
static void flush_box(Resize *resize) {
  const Axis *h = &resize->h;
  for (int j = 0; j < h->box_len; j++) {
    int columns = j == h->box_len - 1 ? h->in_len - j * h->box : h->box;
    uint32_t cells = (uint32_t)columns * resize->box_rows;
    uint32_t *sum = resize->box_sums + (size_t)j * 4;
    for (int c = 0; c < 4; c++) resize->box_row[j * 4 + c] = (uint8_t)((sum[c] + cells / 2) / cells);
  }
  memset(resize->box_sums, 0, sizeof(uint32_t) * h->box_len * 4);
  resize->box_rows = 0;
}

static void push_row(Resize *resize, int y, const uint8_t *row) {
  if (y < resize->row_first || y >= resize->row_end) return;
  if (resize->premultiply) {
    uint8_t *target = resize->premultiplied;
    for (int x = resize->column_first; x < resize->column_end; x++) {
      const uint8_t *p = row + (size_t)x * 4;
      uint8_t *q = target + (size_t)x * 4;
      int alpha = p[3];
      for (int c = 0; c < 3; c++) q[c] = (uint8_t)((p[c] * alpha + 127) / 255);
      q[3] = (uint8_t)alpha;
    }
    row = target;
  }
  if (!resize->box_sums) {
    reduce_and_store(resize, y, row);
    return;
  }
  const Axis *h = &resize->h;
  int box = h->box;
  for (int j = resize->column_first / box; j < h->box_len && j * box < resize->column_end; j++) {
    uint32_t *sum = resize->box_sums + (size_t)j * 4;
    int stop = (j + 1) * box < h->in_len ? (j + 1) * box : h->in_len;
    for (int x = j * box; x < stop; x++) {
      const uint8_t *p = row + (size_t)x * 4;
      sum[0] += p[0];
      sum[1] += p[1];
      sum[2] += p[2];
      sum[3] += p[3];
    }
  }
  resize->box_rows++;
  if (resize->box_rows == resize->v.box || y == resize->row_end - 1) {
    flush_box(resize);
    reduce_and_store(resize, y / resize->v.box, resize->box_row);
  }
}

static void resize_begin(Sink *sink, const Frame *frame) {
  Resize *resize = (Resize *)sink;
  resize->next_input_row = 0;
  resize->next_output_row = 0;
  resize->box_rows = 0;
  if (resize->box_sums) memset(resize->box_sums, 0, sizeof(uint32_t) * resize->h.box_len * 4);
  sink_forward_begin(sink, frame);
}

static void resize_rows(Sink *sink, uint8_t *rows, size_t stride, int count) {
  Resize *resize = (Resize *)sink;
  for (int i = 0; i < count; i++) push_row(resize, resize->next_input_row++, rows + (size_t)i * stride);
  if (resize->next_input_row >= resize->row_end) run_state.wants_rows = 0;
}

static void resize_end(Sink *sink) {
  Resize *resize = (Resize *)sink;
  /*
   * Rows missing at the end mean the source ended early, unless a later step (a crop, circle's
   * square) had all it needed and stopped the run: then the rows below it are not wanted.
   */
  if (resize->next_output_row != resize->v.out_len && run_wants_rows()) {
    fail(FAIL_DAMAGED, "resize: the image ended early");
  }
  sink_forward_end(sink);
}

static void resize_destroy(Sink *sink) {
  Resize *resize = (Resize *)sink;
  axis_free(&resize->h);
  axis_free(&resize->v);
  free(resize->premultiplied);
  free(resize->box_sums);
  free(resize->box_row);
  free(resize->ring);
  free(resize->column_sums);
  free(resize->out_row);
}

static const SinkOps RESIZE_OPS = {resize_begin, resize_rows, resize_end, sink_forward_finish, resize_destroy};

Sink *resize_create(const double *args, Sink *next) {
  int in_w = (int)args[0], in_h = (int)args[1];
  double x = args[2], y = args[3], w = args[4], h = args[5];
  int out_w = (int)args[6], out_h = (int)args[7];
  if (w <= 0 || h <= 0) fail(FAIL_BAD_ARGUMENT, "resize: empty window");
  Resize *resize = sink_new(sizeof(Resize), &RESIZE_OPS, next, in_w, in_h, out_w, out_h);
  axis_init(&resize->h, in_w, x, w, out_w);
  axis_init(&resize->v, in_h, y, h, out_h);
  resize->premultiply = args[8] != 0;
  axis_needed(&resize->v, &resize->row_first, &resize->row_end);
  axis_needed(&resize->h, &resize->column_first, &resize->column_end);
  if (resize->premultiply) resize->premultiplied = checked_malloc((size_t)in_w * 4);
  if (resize->h.box > 1 || resize->v.box > 1) {
    resize->box_sums = checked_calloc((size_t)resize->h.box_len * 4, sizeof(uint32_t));
    resize->box_row = checked_malloc((size_t)resize->h.box_len * 4);
  }
  resize->ring = checked_malloc(sizeof(int16_t) * resize->v.max_taps * out_w * 4);
  resize->column_sums = checked_malloc(sizeof(int32_t) * out_w * 4);
  resize->out_row = checked_malloc((size_t)out_w * 4);
  return &resize->base;
}
