/*
 * The codec engine's exports: JPEG decode with DCT scaling, crop and streaming resize; resize of
 * RGBA strips; baseline or progressive JPEG encode. Source bytes are pulled from JavaScript and
 * encoded bytes pushed back in chunks, so the WASM heap never holds a whole file.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fail.h"
#include "jpeglib.h"
#include "jerror.h"
#include "resize.h"

#define EXPORT __attribute__((visibility("default"), used))
#define IMPORT(name) __attribute__((import_module("env"), import_name(name)))

/* Copies up to `length` source bytes into `target`; answers how many (0 at the end). */
IMPORT("read_source") extern int read_source(uint8_t *target, int length);
/* Skips `length` source bytes. */
IMPORT("skip_source") extern void skip_source(int length);
/* Takes `length` encoded bytes. */
IMPORT("write_output") extern void write_output(const uint8_t *bytes, int length);

#define IO_CHUNK 65536

static int failure_code;
static char failure_message[JMSG_LENGTH_MAX];

_Noreturn void fail(int code, const char *message) {
  failure_code = code;
  strncpy(failure_message, message, sizeof(failure_message) - 1);
  __builtin_trap();
}

void *checked_malloc(size_t size) {
  void *block = malloc(size);
  if (!block && size) fail(FAIL_OUT_OF_MEMORY, "out of memory");
  return block;
}

EXPORT int engine_failure_code(void) { return failure_code; }
EXPORT const char *engine_failure_message(void) { return failure_message; }
EXPORT void *engine_malloc(int size) { return checked_malloc((size_t)size); }
EXPORT void engine_free(void *block) { free(block); }

/* libjpeg errors end in a trap, like every other failure (see fail.h). */
static void trap_on_error(j_common_ptr cinfo) {
  char message[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, message);
  fail(cinfo->err->msg_code == JERR_OUT_OF_MEMORY ? FAIL_OUT_OF_MEMORY : cinfo->err->msg_code, message);
}

/* Warnings (corrupt entropy data, premature end) are tolerated, as every libjpeg viewer does. */
static void ignore_message(j_common_ptr cinfo, int level) {
  (void)cinfo;
  (void)level;
}

static struct jpeg_error_mgr *error_manager(struct jpeg_error_mgr *manager) {
  jpeg_std_error(manager);
  manager->error_exit = trap_on_error;
  manager->emit_message = ignore_message;
  return manager;
}

/* ---- source: pulled from JavaScript in chunks ---- */

typedef struct {
  struct jpeg_source_mgr base;
  JOCTET buffer[IO_CHUNK];
} Source;

static const JOCTET FAKE_EOI[2] = {0xFF, JPEG_EOI};

static void source_init(j_decompress_ptr cinfo) { (void)cinfo; }

static boolean source_fill(j_decompress_ptr cinfo) {
  Source *source = (Source *)cinfo->src;
  int length = read_source(source->buffer, IO_CHUNK);
  if (length <= 0) {
    /* A truncated file ends as if its EOI were there; libjpeg fills the missing rows. */
    source->base.next_input_byte = FAKE_EOI;
    source->base.bytes_in_buffer = 2;
    return TRUE;
  }
  source->base.next_input_byte = source->buffer;
  source->base.bytes_in_buffer = (size_t)length;
  return TRUE;
}

static void source_skip(j_decompress_ptr cinfo, long length) {
  Source *source = (Source *)cinfo->src;
  if (length <= 0) return;
  if ((size_t)length <= source->base.bytes_in_buffer) {
    source->base.next_input_byte += length;
    source->base.bytes_in_buffer -= (size_t)length;
    return;
  }
  skip_source((int)(length - (long)source->base.bytes_in_buffer));
  source->base.bytes_in_buffer = 0;
}

static void source_term(j_decompress_ptr cinfo) { (void)cinfo; }

static Source *source_attach(j_decompress_ptr cinfo) {
  Source *source = (*cinfo->mem->alloc_small)((j_common_ptr)cinfo, JPOOL_PERMANENT, sizeof(Source));
  source->base.init_source = source_init;
  source->base.fill_input_buffer = source_fill;
  source->base.skip_input_data = source_skip;
  source->base.resync_to_restart = jpeg_resync_to_restart;
  source->base.term_source = source_term;
  source->base.bytes_in_buffer = 0;
  source->base.next_input_byte = NULL;
  cinfo->src = &source->base;
  return source;
}

/* ---- destination: pushed to JavaScript in chunks ---- */

typedef struct {
  struct jpeg_destination_mgr base;
  JOCTET buffer[IO_CHUNK];
} Destination;

static void destination_init(j_compress_ptr cinfo) {
  Destination *destination = (Destination *)cinfo->dest;
  destination->base.next_output_byte = destination->buffer;
  destination->base.free_in_buffer = IO_CHUNK;
}

static boolean destination_flush(j_compress_ptr cinfo) {
  Destination *destination = (Destination *)cinfo->dest;
  write_output(destination->buffer, IO_CHUNK);
  destination_init(cinfo);
  return TRUE;
}

static void destination_term(j_compress_ptr cinfo) {
  Destination *destination = (Destination *)cinfo->dest;
  write_output(destination->buffer, IO_CHUNK - (int)destination->base.free_in_buffer);
}

static void destination_attach(j_compress_ptr cinfo) {
  Destination *destination =
      (*cinfo->mem->alloc_small)((j_common_ptr)cinfo, JPOOL_PERMANENT, sizeof(Destination));
  destination->base.init_destination = destination_init;
  destination->base.empty_output_buffer = destination_flush;
  destination->base.term_destination = destination_term;
  cinfo->dest = &destination->base;
}

/* ---- decode ---- */

/*
 * Adobe CMYK/YCCK JPEGs (Photoshop's, which are nearly all of them) store inverted inks:
 * 255 means no ink. Without a colour profile the device conversion is R = C*K/255 on those values.
 */
static void cmyk_to_rgba(uint8_t *row, int width, int inverted) {
  for (int x = 0; x < width; x++) {
    uint8_t *p = row + (size_t)x * 4;
    int c = p[0], m = p[1], y = p[2], k = p[3];
    if (!inverted) {
      c = 255 - c;
      m = 255 - m;
      y = 255 - y;
      k = 255 - k;
    }
    p[0] = (uint8_t)((c * k + 127) / 255);
    p[1] = (uint8_t)((m * k + 127) / 255);
    p[2] = (uint8_t)((y * k + 127) / 255);
    p[3] = 255;
  }
}

/*
 * Decodes the window (x, y, w, h, in stored full-size pixels) of the JPEG the source imports
 * provide, DCT-scaled by 1/scale_denom, into a dst_w x dst_h RGBA image resampled on the fly.
 * Only the rows and iMCU columns the window needs are decoded. Returns the image; free it.
 */
EXPORT uint8_t *decode_jpeg(int scale_denom, double x, double y, double w, double h, int dst_w, int dst_h) {
  struct jpeg_decompress_struct cinfo;
  struct jpeg_error_mgr errors;
  cinfo.err = error_manager(&errors);
  jpeg_create_decompress(&cinfo);
  source_attach(&cinfo);
  jpeg_read_header(&cinfo, TRUE);

  int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_EXT_RGBA;
  cinfo.scale_num = 1;
  cinfo.scale_denom = (unsigned int)scale_denom;
  jpeg_start_decompress(&cinfo);

  double factor = (double)cinfo.output_width / cinfo.image_width;
  Resizer *resizer = resizer_create((int)cinfo.output_width, (int)cinfo.output_height, x * factor, y * factor,
                                    w * factor, h * factor, dst_w, dst_h, 0);
  int column_first, column_end, row_first, row_end;
  resizer_needed_columns(resizer, &column_first, &column_end);
  resizer_needed_rows(resizer, &row_first, &row_end);

  /* libjpeg widens the crop to whole iMCU columns and says where it starts. */
  JDIMENSION column_offset = 0;
  JDIMENSION columns = cinfo.output_width;
  if ((JDIMENSION)(column_end - column_first) < cinfo.output_width) {
    column_offset = (JDIMENSION)column_first;
    columns = (JDIMENSION)(column_end - column_first);
    jpeg_crop_scanline(&cinfo, &column_offset, &columns);
  }
  resizer_set_column_offset(resizer, (int)column_offset);

  JSAMPROW row = checked_malloc((size_t)columns * 4);
  if (row_first > 0) jpeg_skip_scanlines(&cinfo, (JDIMENSION)row_first);
  for (int line = row_first; line < row_end; line++) {
    jpeg_read_scanlines(&cinfo, &row, 1);
    if (cmyk) cmyk_to_rgba(row, (int)columns, cinfo.saw_Adobe_marker);
    resizer_push(resizer, line, row);
  }
  free(row);
  uint8_t *image = resizer_take_output(resizer);
  resizer_destroy(resizer);
  /* Rows below the window are never decoded: destroying without finishing is allowed. */
  jpeg_destroy_decompress(&cinfo);
  return image;
}

/* ---- resize of an image held by JavaScript, pushed in strips ---- */

EXPORT Resizer *resize_begin(int in_w, int in_h, double x, double y, double w, double h, int dst_w, int dst_h,
                             int premultiply) {
  return resizer_create(in_w, in_h, x, y, w, h, dst_w, dst_h, premultiply);
}

/* The input rows [first, end) the result needs: JavaScript copies only those into the heap. */
EXPORT int resize_first_row(Resizer *resizer) {
  int first, end;
  resizer_needed_rows(resizer, &first, &end);
  return first;
}

EXPORT int resize_end_row(Resizer *resizer) {
  int first, end;
  resizer_needed_rows(resizer, &first, &end);
  return end;
}

/* Pushes `count` rows starting at row y, stored one after another in `rows`. */
EXPORT void resize_push(Resizer *resizer, int y, const uint8_t *rows, int count, int in_w) {
  for (int i = 0; i < count; i++) resizer_push(resizer, y + i, rows + (size_t)i * in_w * 4);
}

/* Ends the resize: returns the output (free it) and releases everything else. */
EXPORT uint8_t *resize_finish(Resizer *resizer) {
  uint8_t *image = resizer_take_output(resizer);
  resizer_destroy(resizer);
  return image;
}

/* ---- encode ---- */

/*
 * Encodes a w x h RGBA image as JPEG with Annex K tables at `quality`, optimised Huffman tables,
 * 4:2:0 chroma, and the standard progressive scan script when asked. Transparent pixels are
 * composited on white: JPEG has no alpha.
 */
EXPORT void encode_jpeg(const uint8_t *rgba, int w, int h, int quality, int progressive) {
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr errors;
  cinfo.err = error_manager(&errors);
  jpeg_create_compress(&cinfo);
  destination_attach(&cinfo);
  cinfo.image_width = (JDIMENSION)w;
  cinfo.image_height = (JDIMENSION)h;
  cinfo.input_components = 3;
  cinfo.in_color_space = JCS_RGB;
  jpeg_set_defaults(&cinfo);
  jpeg_set_quality(&cinfo, quality, TRUE);
  cinfo.optimize_coding = TRUE;
  /* The JFIF segment says only "1:1 pixels, no density": 18 bytes nothing reads (sharp omits it too). */
  cinfo.write_JFIF_header = FALSE;
  if (progressive) jpeg_simple_progression(&cinfo);
  jpeg_start_compress(&cinfo, TRUE);

  JSAMPROW row = checked_malloc((size_t)w * 3);
  for (int line = 0; line < h; line++) {
    const uint8_t *p = rgba + (size_t)line * w * 4;
    for (int x = 0; x < w; x++, p += 4) {
      int alpha = p[3], white = 255 * (255 - alpha);
      for (int c = 0; c < 3; c++) row[x * 3 + c] = (uint8_t)((p[c] * alpha + white + 127) / 255);
    }
    jpeg_write_scanlines(&cinfo, &row, 1);
  }
  free(row);
  jpeg_finish_compress(&cinfo);
  jpeg_destroy_compress(&cinfo);
}
