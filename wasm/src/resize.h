#ifndef ENGINE_RESIZE_H
#define ENGINE_RESIZE_H

#include <stdint.h>

/*
 * A streaming, separable Lanczos3 resampler for RGBA rows. Input rows arrive one at a time, in
 * order; each is reduced horizontally at once, so only `taps` reduced rows are held for the
 * vertical pass and memory follows the output width, not the input size. Large reductions first
 * average integer boxes of pixels, which leaves the Lanczos filter at most a 2-4x reduction.
 */
typedef struct Resizer Resizer;

/*
 * in_w x in_h: the input's row length and row count. The window (x, y, w, h, in input pixels,
 * fractions allowed) is the part of the input that becomes the dst_w x dst_h output.
 * Input columns start at `column_offset`: a row pushed holds pixels column_offset, column_offset+1...
 */
Resizer *resizer_create(int in_w, int in_h, double x, double y, double w, double h, int dst_w, int dst_h,
                        int premultiply);
/* The input columns [first, end) and rows [first, end) the output depends on; others may be skipped. */
void resizer_needed_columns(const Resizer *resizer, int *first, int *end);
void resizer_needed_rows(const Resizer *resizer, int *first, int *end);
void resizer_set_column_offset(Resizer *resizer, int column_offset);
/* Feeds input row y (rows outside the needed range are ignored). */
void resizer_push(Resizer *resizer, int y, const uint8_t *row);
/* The dst_w x dst_h RGBA result once every needed row was pushed; the caller frees it. */
uint8_t *resizer_take_output(Resizer *resizer);
void resizer_destroy(Resizer *resizer);

#endif
