/*
 * JPEG through libjpeg-turbo: the decoder pushes the rows of a region, DCT-scaled by 1/2, 1/4 or
 * 1/8 when the plan shrinks the image (it skips the rows above the region and decodes only the
 * iMCU columns across it); the encoder takes rows as they come. Baseline output with standard
 * Huffman tables streams in a few rows of memory; optimised tables and progressive output need
 * the whole image's coefficients (libjpeg keeps them, 3 bytes per pixel at 4:2:0), which the
 * planner counts. Source bytes are pulled from JavaScript and encoded bytes pushed back in 64 KiB
 * chunks, so memory never holds a whole file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pipeline.h"
#include "jerror.h"
#include "jpeg_dc.h"
#include "jpeglib.h"

/*
 * A switch patched into libjpeg-turbo (wasm/libs/jpeg.sh): when 0, every component gets its own
 * scaled inverse DCT and subsampled chroma is upsampled, where libjpeg would otherwise scale chroma
 * up with a larger inverse DCT. Off for progressive JPEGs at 1/8, so that a full decode gives the
 * pixels of the DC-scan decoder (codecs/jpeg_dc.c), which has only DC coefficients.
 */
extern int jpeg_engine_chroma_idct_scaling;

#define IO_CHUNK 65536
#define STRIP_ROWS 16

/* libjpeg errors end in a trap, like every other failure (see engine.h). */
static void trap_on_error(j_common_ptr cinfo) {
  char message[JMSG_LENGTH_MAX];
  (*cinfo->err->format_message)(cinfo, message);
  int code = cinfo->err->msg_code;
  fail(code == JERR_OUT_OF_MEMORY ? FAIL_OUT_OF_MEMORY : code, message);
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
  Stream stream;
  JOCTET buffer[IO_CHUNK];
} Source;

static const JOCTET FAKE_EOI[2] = {0xFF, JPEG_EOI};

static int requantize_into(struct jpeg_decompress_struct *source, Sink *sink);

static void source_init(j_decompress_ptr cinfo) { (void)cinfo; }

static boolean source_fill(j_decompress_ptr cinfo) {
  Source *source = (Source *)cinfo->src;
  int length = stream_read(&source->stream, source->buffer, IO_CHUNK);
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
  stream_skip(&source->stream, (int)(length - (long)source->base.bytes_in_buffer));
  source->base.bytes_in_buffer = 0;
}

static void source_term(j_decompress_ptr cinfo) { (void)cinfo; }

static void source_attach(j_decompress_ptr cinfo, int source_id) {
  Source *source = (*cinfo->mem->alloc_large)((j_common_ptr)cinfo, JPOOL_PERMANENT, sizeof(Source));
  source->base.init_source = source_init;
  source->base.fill_input_buffer = source_fill;
  source->base.skip_input_data = source_skip;
  source->base.resync_to_restart = jpeg_resync_to_restart;
  source->base.term_source = source_term;
  source->base.bytes_in_buffer = 0;
  source->base.next_input_byte = NULL;
  stream_open(&source->stream, source_id);
  cinfo->src = &source->base;
}

/*
 * Adobe CMYK/YCCK JPEGs (Photoshop's, which are nearly all of them) store inverted inks: 255 means
 * no ink. Without a colour profile the device conversion is R = C * K / 255 on those values.
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
 * args: source, DCT scale denominator (1, 2, 4, 8), then the region of the scaled image to push:
 * x, y, w, h (scaled pixels; the planner computes them as libjpeg scales: ceil(side / scale)),
 * then 1 to read a progressive JPEG's DC scans alone (at 1/8 only; see codecs/jpeg_dc.c), then 1
 * to push CMYK inks as they are for colour management to convert (0: converted here, without a
 * profile, as R = C x K on Adobe's inverted inks).
 */
void jpeg_decode(const double *args, Sink *first) {
  if (args[6] != 0) {
    if (args[1] != 8) fail(FAIL_BAD_ARGUMENT, "jpeg: the DC scans alone give a 1/8 scale only");
    jpeg_dc_decode(args, first);
    return;
  }
  struct jpeg_decompress_struct cinfo;
  struct jpeg_error_mgr errors;
  cinfo.err = error_manager(&errors);
  jpeg_create_decompress(&cinfo);
  source_attach(&cinfo, (int)args[0]);
  jpeg_save_markers(&cinfo, JPEG_APP0 + 2, 0xFFFF); /* ICC profile chunks */
  jpeg_read_header(&cinfo, TRUE);
  if (args[8] != 0 && requantize_into(&cinfo, first)) {
    jpeg_destroy_decompress(&cinfo);
    return;
  }

  /* The embedded profile, for colour management (steps/color.c), which converts CMYK too. */
  JOCTET *icc = NULL;
  unsigned int icc_size = 0;
  if (jpeg_read_icc_profile(&cinfo, &icc, &icc_size)) {
    run_state.icc = icc;
    run_state.icc_size = (int)icc_size;
  }
  int cmyk = cinfo.jpeg_color_space == JCS_CMYK || cinfo.jpeg_color_space == JCS_YCCK;
  const int raw_cmyk = cmyk && args[7] != 0;
  if (raw_cmyk) {
    run_state.cmyk = 1;
    run_state.cmyk_inverted = cinfo.saw_Adobe_marker;
  }
  cinfo.out_color_space = cmyk ? JCS_CMYK : JCS_EXT_RGBA;
  cinfo.scale_num = 1;
  cinfo.scale_denom = (unsigned int)args[1];
  jpeg_engine_chroma_idct_scaling = !(cinfo.progressive_mode && cinfo.scale_denom == 8);
  jpeg_start_decompress(&cinfo);
  jpeg_engine_chroma_idct_scaling = 1;

  int x = (int)args[2], y = (int)args[3], w = (int)args[4], h = (int)args[5];
  if (x < 0 || y < 0 || w <= 0 || h <= 0 || (JDIMENSION)(x + w) > cinfo.output_width ||
      (JDIMENSION)(y + h) > cinfo.output_height) {
    failf(FAIL_BAD_ARGUMENT, "jpeg: region %d,%d %dx%d outside the %ux%u scaled image", x, y, w, h,
          cinfo.output_width, cinfo.output_height);
  }
  /* libjpeg widens a column crop to whole iMCU columns and says where it starts. */
  JDIMENSION column_offset = 0, columns = cinfo.output_width;
  if ((JDIMENSION)w < cinfo.output_width) {
    column_offset = (JDIMENSION)x;
    columns = (JDIMENSION)w;
    jpeg_crop_scanline(&cinfo, &column_offset, &columns);
  }
  const int skip = x - (int)column_offset;

  Rows strip;
  rows_alloc(&strip, (int)columns, STRIP_ROWS);
  JSAMPROW pointers[STRIP_ROWS];
  for (int i = 0; i < STRIP_ROWS; i++) pointers[i] = rows_at(&strip, i);

  Frame frame = {w, h, 0, 0};
  sink_begin(first, &frame);
  if (y > 0) jpeg_skip_scanlines(&cinfo, (JDIMENSION)y);
  for (int row = 0; row < h && run_wants_rows();) {
    int want = h - row < STRIP_ROWS ? h - row : STRIP_ROWS;
    int got = (int)jpeg_read_scanlines(&cinfo, pointers, (JDIMENSION)want);
    if (got <= 0) fail(FAIL_DAMAGED, "jpeg: the decoder returned no rows");
    if (cmyk && !raw_cmyk) {
      for (int i = 0; i < got; i++) cmyk_to_rgba(pointers[i], (int)columns, cinfo.saw_Adobe_marker);
    }
    sink_rows(first, rows_at(&strip, 0) + (size_t)skip * 4, strip.stride, got);
    row += got;
  }
  rows_free(&strip);
  /* Rows below the region are never decoded: destroying without finishing is allowed. */
  jpeg_destroy_decompress(&cinfo);
  sink_end(first);
  sink_finish(first);
  if (icc) {
    run_state.icc = NULL;
    run_state.icc_size = 0;
    free(icc);
  }
}

/* ---- encoder ---- */

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
  output_write(destination->buffer, IO_CHUNK);
  destination_init(cinfo);
  return TRUE;
}

static void destination_term(j_compress_ptr cinfo) {
  Destination *destination = (Destination *)cinfo->dest;
  output_write(destination->buffer, IO_CHUNK - (int)destination->base.free_in_buffer);
}

typedef struct {
  Sink base;
  struct jpeg_compress_struct cinfo;
  struct jpeg_error_mgr errors;
  int started;
  int quality, progressive;
  int flatten;  /* composite transparent pixels on white (JPEG has no alpha) */
  uint8_t *rgb; /* one row, when flattening */
} JpegEncoder;

static void encoder_begin(Sink *sink, const Frame *frame) {
  JpegEncoder *encoder = (JpegEncoder *)sink;
  sink_expect(sink, frame);
  if (encoder->started) fail(FAIL_BAD_ARGUMENT, "jpeg: one frame only");
  jpeg_start_compress(&encoder->cinfo, TRUE);
  encoder->started = 1;
}

static void encoder_rows(Sink *sink, uint8_t *rows, size_t stride, int count) {
  JpegEncoder *encoder = (JpegEncoder *)sink;
  for (int i = 0; i < count; i++) {
    JSAMPROW row = rows + (size_t)i * stride;
    if (encoder->flatten) {
      const uint8_t *p = row;
      for (int x = 0; x < sink->in_width; x++, p += 4) {
        int alpha = p[3], white = 255 * (255 - alpha);
        for (int c = 0; c < 3; c++) encoder->rgb[x * 3 + c] = (uint8_t)((p[c] * alpha + white + 127) / 255);
      }
      row = encoder->rgb;
    }
    jpeg_write_scanlines(&encoder->cinfo, &row, 1);
  }
}

static void encoder_end(Sink *sink) { (void)sink; }

static void encoder_finish(Sink *sink) {
  JpegEncoder *encoder = (JpegEncoder *)sink;
  jpeg_finish_compress(&encoder->cinfo);
}

static void encoder_destroy(Sink *sink) {
  JpegEncoder *encoder = (JpegEncoder *)sink;
  jpeg_destroy_compress(&encoder->cinfo);
  free(encoder->rgb);
}

static const SinkOps ENCODER_OPS = {encoder_begin, encoder_rows, encoder_end, encoder_finish, encoder_destroy};

/*
 * args: w, h, quality, progressive, optimise Huffman tables, flatten alpha. Annex K tables at the
 * quality, 4:2:0 chroma, no JFIF segment (it would only say "1:1 pixels, no density": 18 bytes
 * nothing reads, which sharp omits too).
 */
Sink *jpeg_encoder_create(const double *args, Sink *next) {
  (void)next;
  int w = (int)args[0], h = (int)args[1];
  JpegEncoder *encoder = sink_new(sizeof(JpegEncoder), &ENCODER_OPS, NULL, w, h, w, h);
  struct jpeg_compress_struct *cinfo = &encoder->cinfo;
  cinfo->err = error_manager(&encoder->errors);
  jpeg_create_compress(cinfo);
  Destination *destination = (*cinfo->mem->alloc_large)((j_common_ptr)cinfo, JPOOL_PERMANENT, sizeof(Destination));
  destination->base.init_destination = destination_init;
  destination->base.empty_output_buffer = destination_flush;
  destination->base.term_destination = destination_term;
  cinfo->dest = &destination->base;
  cinfo->image_width = (JDIMENSION)w;
  cinfo->image_height = (JDIMENSION)h;
  encoder->flatten = args[5] != 0;
  cinfo->input_components = encoder->flatten ? 3 : 4;
  cinfo->in_color_space = encoder->flatten ? JCS_RGB : JCS_EXT_RGBX;
  jpeg_set_defaults(cinfo);
  encoder->quality = (int)args[2];
  encoder->progressive = args[3] != 0;
  jpeg_set_quality(cinfo, encoder->quality, TRUE);
  cinfo->optimize_coding = args[4] != 0;
  cinfo->write_JFIF_header = FALSE;
  if (args[3] != 0) jpeg_simple_progression(cinfo);
  if (encoder->flatten) encoder->rgb = checked_malloc((size_t)w * 3);
  return &encoder->base;
}

/* ---- requantisation: JPEG to JPEG through the DCT coefficients ---- */

/* What the encoder writes: three components, YCbCr, luma 2x2 and chroma 1x1 (4:2:0). */
static int sampled_as_encoder_writes(const struct jpeg_decompress_struct *cinfo) {
  const jpeg_component_info *c = cinfo->comp_info;
  return cinfo->num_components == 3 && cinfo->jpeg_color_space == JCS_YCbCr && c[0].h_samp_factor == 2 &&
         c[0].v_samp_factor == 2 && c[1].h_samp_factor == 1 && c[1].v_samp_factor == 1 &&
         c[2].h_samp_factor == 1 && c[2].v_samp_factor == 1;
}

/* round(value / divisor), halves away from zero, within a coefficient's range. */
static JCOEF divide_rounding(int value, int divisor) {
  int quotient = value >= 0 ? (value + divisor / 2) / divisor : -((-value + divisor / 2) / divisor);
  return (JCOEF)(quotient > 32767 ? 32767 : quotient < -32767 ? -32767 : quotient);
}

/*
 * Reads every DCT coefficient of the source, requantises each from the source's table to the
 * encoder's (its Annex K tables at its quality, as for pixels: luma table 0, chroma table 1) and
 * writes them with optimised Huffman tables, progressive when the encoder is. Answers 0, having
 * read nothing but the header, when the sink is not a JPEG encoder of the same size or the source
 * is not sampled as the encoder writes: the caller then decodes pixels as usual.
 */
static int requantize_into(struct jpeg_decompress_struct *source, Sink *sink) {
  if (sink->ops != &ENCODER_OPS || !sampled_as_encoder_writes(source)) return 0;
  JpegEncoder *encoder = (JpegEncoder *)sink;
  if (encoder->flatten || (JDIMENSION)sink->in_width != source->image_width ||
      (JDIMENSION)sink->in_height != source->image_height) {
    return 0;
  }
  jvirt_barray_ptr *coefficients = jpeg_read_coefficients(source);
  struct jpeg_compress_struct *target = &encoder->cinfo;
  jpeg_copy_critical_parameters(source, target);
  target->write_JFIF_header = FALSE;
  target->write_Adobe_marker = FALSE;
  jpeg_set_quality(target, encoder->quality, TRUE);
  for (int ci = 0; ci < 3; ci++) target->comp_info[ci].quant_tbl_no = ci == 0 ? 0 : 1;
  target->optimize_coding = TRUE;
  if (encoder->progressive) jpeg_simple_progression(target);

  for (int ci = 0; ci < 3; ci++) {
    const jpeg_component_info *component = &source->comp_info[ci];
    const JQUANT_TBL *from = component->quant_table;
    if (!from) fail(FAIL_DAMAGED, "jpeg: a component has no quantisation table");
    const JQUANT_TBL *to = target->quant_tbl_ptrs[target->comp_info[ci].quant_tbl_no];
    int scale[DCTSIZE2];
    for (int k = 0; k < DCTSIZE2; k++) scale[k] = from->quantval[k];
    for (JDIMENSION row = 0; row < component->height_in_blocks; row++) {
      JBLOCKARRAY blocks =
          (*source->mem->access_virt_barray)((j_common_ptr)source, coefficients[ci], row, 1, TRUE);
      JCOEFPTR block = blocks[0][0];
      for (JDIMENSION column = 0; column < component->width_in_blocks; column++, block += DCTSIZE2) {
        for (int k = 0; k < DCTSIZE2; k++) {
          if (block[k] != 0) block[k] = divide_rounding(block[k] * scale[k], to->quantval[k]);
        }
      }
    }
  }
  encoder->started = 1;
  jpeg_write_coefficients(target, coefficients);
  jpeg_finish_compress(target);
  return 1;
}
