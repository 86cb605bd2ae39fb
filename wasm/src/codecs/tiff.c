/*
 * TIFF through libtiff, read as stored: a striped image a scanline at a time (libtiff decodes each
 * strip's compressed bytes incrementally), a tiled one a row of tiles at a time (one tile decoded,
 * its rows converted into a band of RGBA rows the tiles' height). The source is read from
 * JavaScript where libtiff seeks (its directory, then each strip or tile), so memory holds one
 * compressed strip or tile, never the file.
 *
 * Layouts: grey (1, 2, 4, 8, 16 bits; min-is-white inverted), palette (1-8 bits), RGB and CMYK at
 * 8 or 16 bits, each with an alpha sample (associated alpha is un-premultiplied), JPEG's YCbCr
 * as RGB; compression none, LZW, PackBits, Deflate or JPEG. 16-bit samples keep their high byte.
 * The planner refuses every other variant before the engine runs (src/codecs/tiff.ts names it);
 * the checks here only defend the engine. CMYK inks are pushed as they are for colour management
 * (its profile, or the default CMYK one) when the plan asks; the TIFF's ICC profile goes to the
 * colour step as JPEG's does.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../pipeline.h"
#include "tiffio.h"

#define STRIP_ROWS 16

/* ---- the source, read where libtiff seeks ---- */

typedef struct {
  int source;
  uint64_t size;
  uint64_t offset;
} Handle;

static tmsize_t handle_read(thandle_t opaque, void *target, tmsize_t length) {
  Handle *handle = opaque;
  if (handle->offset >= handle->size || length <= 0) return 0;
  uint64_t left = handle->size - handle->offset;
  int want = (uint64_t)length < left ? (int)length : (int)left;
  int got = source_read(handle->source, (int)handle->offset, target, want);
  handle->offset += (uint64_t)got;
  return got;
}

static tmsize_t handle_write(thandle_t opaque, void *bytes, tmsize_t length) {
  (void)opaque;
  (void)bytes;
  (void)length;
  return -1;
}

static toff_t handle_seek(thandle_t opaque, toff_t offset, int whence) {
  Handle *handle = opaque;
  uint64_t base = whence == SEEK_CUR ? handle->offset : whence == SEEK_END ? handle->size : 0;
  handle->offset = base + offset;
  return handle->offset;
}

static int handle_close(thandle_t opaque) {
  (void)opaque;
  return 0;
}

static toff_t handle_size(thandle_t opaque) { return ((Handle *)opaque)->size; }

static int handle_map(thandle_t opaque, void **base, toff_t *size) {
  (void)opaque;
  (void)base;
  (void)size;
  return 0;
}

static void handle_unmap(thandle_t opaque, void *base, toff_t size) {
  (void)opaque;
  (void)base;
  (void)size;
}

/* libtiff's errors end the call (engine.h); its warnings (unknown tags…) are ignored. */
static void trap_on_error(const char *module, const char *format, va_list args) {
  char message[200];
  vsnprintf(message, sizeof(message), format, args);
  failf(FAIL_DAMAGED, "TIFF: %s%s%s", module ? module : "", module ? ": " : "", message);
}

static void ignore_warning(const char *module, const char *format, va_list args) {
  (void)module;
  (void)format;
  (void)args;
}

/* ---- pixel layouts ---- */

typedef struct {
  int bits;        /* per sample */
  int samples;     /* per pixel, extra samples included */
  int photometric; /* after JPEG's YCbCr is read as RGB */
  int colours;     /* 1 grey or palette, 3 RGB, 4 CMYK */
  int alpha;       /* the first extra sample is alpha: 1 associated, 2 unassociated */
  int raw_cmyk;    /* push inks for colour management */
  uint16_t *map[3]; /* a palette's colour map (16-bit entries) */
} Layout;

/* Sample `index` of a row (in samples from its start), scaled to 8 bits. */
static inline unsigned sample_at(const Layout *layout, const uint8_t *row, size_t index) {
  switch (layout->bits) {
    case 8: return row[index];
    case 16: return ((const uint16_t *)row)[index] >> 8;
    default: {
      size_t bit = index * (size_t)layout->bits;
      unsigned byte = row[bit >> 3];
      return (byte >> (8 - layout->bits - (bit & 7))) & ((1u << layout->bits) - 1);
    }
  }
}

static uint8_t scale_to_byte(unsigned value, int bits) {
  return bits >= 8 ? (uint8_t)value : (uint8_t)(value * 255 / ((1u << bits) - 1));
}

static uint8_t unpremultiply(unsigned colour, unsigned alpha) {
  if (alpha == 0) return 0;
  unsigned value = (colour * 255 + alpha / 2) / alpha;
  return value > 255 ? 255 : (uint8_t)value;
}

/* `count` pixels of a stored row into RGBA. */
static void convert(const Layout *layout, const uint8_t *row, int count, uint8_t *out) {
  const int spp = layout->samples;
  for (int x = 0; x < count; x++, out += 4) {
    size_t at = (size_t)x * spp;
    unsigned alpha = layout->alpha ? sample_at(layout, row, at + layout->colours) : 255;
    if (layout->photometric == PHOTOMETRIC_PALETTE) {
      unsigned index = sample_at(layout, row, at);
      for (int c = 0; c < 3; c++) out[c] = (uint8_t)(layout->map[c][index] >> 8);
    } else if (layout->colours == 1) {
      unsigned grey = sample_at(layout, row, at);
      uint8_t value = scale_to_byte(grey, layout->bits);
      if (layout->photometric == PHOTOMETRIC_MINISWHITE) value = (uint8_t)(255 - value);
      out[0] = out[1] = out[2] = value;
    } else if (layout->colours == 3) {
      for (int c = 0; c < 3; c++) out[c] = (uint8_t)sample_at(layout, row, at + c);
    } else {
      unsigned c = sample_at(layout, row, at), m = sample_at(layout, row, at + 1);
      unsigned y = sample_at(layout, row, at + 2), k = sample_at(layout, row, at + 3);
      if (layout->raw_cmyk) {
        out[0] = (uint8_t)c, out[1] = (uint8_t)m, out[2] = (uint8_t)y, out[3] = (uint8_t)k;
        continue;
      }
      /* Without colour management: the device conversion. */
      out[0] = (uint8_t)((255 - c) * (255 - k) / 255);
      out[1] = (uint8_t)((255 - m) * (255 - k) / 255);
      out[2] = (uint8_t)((255 - y) * (255 - k) / 255);
      out[3] = 255;
      continue;
    }
    if (layout->alpha == EXTRASAMPLE_ASSOCALPHA) {
      for (int c = 0; c < 3; c++) out[c] = unpremultiply(out[c], alpha);
    }
    out[3] = (uint8_t)alpha;
  }
}

static uint32_t field32(TIFF *tif, ttag_t tag, uint32_t fallback) {
  uint32_t value = fallback;
  return TIFFGetField(tif, tag, &value) ? value : fallback;
}

static uint16_t field16(TIFF *tif, ttag_t tag, uint16_t fallback) {
  uint16_t value = fallback;
  return TIFFGetFieldDefaulted(tif, tag, &value) ? value : fallback;
}

/* Reads the layout, refusing what the planner should already have refused. */
static void read_layout(TIFF *tif, Layout *layout) {
  uint16_t compression = field16(tif, TIFFTAG_COMPRESSION, COMPRESSION_NONE);
  if (!TIFFIsCODECConfigured(compression)) failf(FAIL_UNSUPPORTED, "TIFF compression %u is not supported", compression);
  if (field16(tif, TIFFTAG_PLANARCONFIG, PLANARCONFIG_CONTIG) != PLANARCONFIG_CONTIG) {
    fail(FAIL_UNSUPPORTED, "TIFF with separate colour planes is not supported");
  }
  uint16_t format = field16(tif, TIFFTAG_SAMPLEFORMAT, SAMPLEFORMAT_UINT);
  if (format != SAMPLEFORMAT_UINT) fail(FAIL_UNSUPPORTED, "TIFF samples other than unsigned integers are not supported");
  layout->bits = field16(tif, TIFFTAG_BITSPERSAMPLE, 1);
  layout->samples = field16(tif, TIFFTAG_SAMPLESPERPIXEL, 1);
  uint16_t photometric = 0;
  if (!TIFFGetField(tif, TIFFTAG_PHOTOMETRIC, &photometric)) {
    photometric = layout->samples >= 3 ? PHOTOMETRIC_RGB : PHOTOMETRIC_MINISBLACK;
  }
  if (photometric == PHOTOMETRIC_YCBCR) {
    if (compression != COMPRESSION_JPEG) fail(FAIL_UNSUPPORTED, "YCbCr TIFF without JPEG compression is not supported");
    /* libjpeg converts to RGB; libtiff then reports RGB scanlines. */
    TIFFSetField(tif, TIFFTAG_JPEGCOLORMODE, JPEGCOLORMODE_RGB);
    photometric = PHOTOMETRIC_RGB;
  }
  layout->photometric = photometric;
  switch (photometric) {
    case PHOTOMETRIC_MINISWHITE:
    case PHOTOMETRIC_MINISBLACK:
    case PHOTOMETRIC_PALETTE: layout->colours = 1; break;
    case PHOTOMETRIC_RGB: layout->colours = 3; break;
    case PHOTOMETRIC_SEPARATED:
      if (field16(tif, TIFFTAG_INKSET, INKSET_CMYK) != INKSET_CMYK) fail(FAIL_UNSUPPORTED, "TIFF inks other than CMYK are not supported");
      layout->colours = 4;
      break;
    default: failf(FAIL_UNSUPPORTED, "TIFF photometric interpretation %u is not supported", photometric);
  }
  int low_bits_allowed = layout->colours == 1 && layout->samples == 1;
  if (!(layout->bits == 8 || layout->bits == 16 || (low_bits_allowed && (layout->bits == 1 || layout->bits == 2 || layout->bits == 4)))) {
    failf(FAIL_UNSUPPORTED, "TIFF with %d bits per sample is not supported", layout->bits);
  }
  if (photometric == PHOTOMETRIC_PALETTE && layout->bits == 16) fail(FAIL_UNSUPPORTED, "16-bit palette TIFF is not supported");
  if (layout->samples < layout->colours) fail(FAIL_DAMAGED, "TIFF: fewer samples than colours");
  if (layout->samples > layout->colours) {
    uint16_t count = 0;
    uint16_t *kinds = NULL;
    layout->alpha = EXTRASAMPLE_UNASSALPHA; /* an unspecified extra sample is taken as alpha, as libvips does */
    if (TIFFGetField(tif, TIFFTAG_EXTRASAMPLES, &count, &kinds) && count > 0 && kinds[0] == EXTRASAMPLE_ASSOCALPHA) {
      layout->alpha = EXTRASAMPLE_ASSOCALPHA;
    }
    if (layout->colours == 4) layout->alpha = 0; /* CMYK's extra samples are dropped */
  }
  if (photometric == PHOTOMETRIC_PALETTE &&
      !TIFFGetField(tif, TIFFTAG_COLORMAP, &layout->map[0], &layout->map[1], &layout->map[2])) {
    fail(FAIL_DAMAGED, "TIFF: a palette image without a colour map");
  }
}

/*
 * args: source, w, h (the header's: checked), 1 to push CMYK inks as they are for colour
 * management (0: converted here without a profile).
 */
void tiff_decode(const double *args, Sink *first) {
  Handle handle = {(int)args[0], 0, 0};
  handle.size = (uint64_t)source_size(handle.source);
  TIFFSetErrorHandler(trap_on_error);
  TIFFSetWarningHandler(ignore_warning);
  /* "m": no memory mapping (libtiff reads through handle_read). */
  TIFF *tif = TIFFClientOpen("source", "rm", &handle, handle_read, handle_write, handle_seek, handle_close,
                             handle_size, handle_map, handle_unmap);
  if (!tif) fail(FAIL_DAMAGED, "TIFF: the file cannot be opened");
  uint32_t width = field32(tif, TIFFTAG_IMAGEWIDTH, 0), height = field32(tif, TIFFTAG_IMAGELENGTH, 0);
  if ((int)width != (int)args[1] || (int)height != (int)args[2]) {
    failf(FAIL_DAMAGED, "TIFF: the directory says %ux%u, the plan %dx%d", width, height, (int)args[1], (int)args[2]);
  }
  Layout layout;
  memset(&layout, 0, sizeof(layout));
  read_layout(tif, &layout);
  layout.raw_cmyk = layout.colours == 4 && args[3] != 0;
  if (layout.raw_cmyk) {
    run_state.cmyk = 1;
    run_state.cmyk_inverted = 0; /* TIFF's inks: 0 is none */
  }
  uint32_t icc_size = 0;
  void *icc = NULL;
  if (TIFFGetField(tif, TIFFTAG_ICCPROFILE, &icc_size, &icc) && icc_size > 0) {
    run_state.icc = icc; /* libtiff's copy, alive until TIFFClose */
    run_state.icc_size = (int)icc_size;
  }

  const int w = (int)width, h = (int)height;
  Frame frame = {w, h, 0, 0};
  Rows band;
  if (TIFFIsTiled(tif)) {
    uint32_t tile_width = field32(tif, TIFFTAG_TILEWIDTH, 0), tile_height = field32(tif, TIFFTAG_TILELENGTH, 0);
    if (tile_width == 0 || tile_height == 0 || tile_height > 65536) fail(FAIL_DAMAGED, "TIFF: bad tile size");
    tmsize_t tile_size = TIFFTileSize(tif);
    tmsize_t tile_row_size = TIFFTileRowSize(tif);
    if (tile_size <= 0 || tile_row_size <= 0) fail(FAIL_DAMAGED, "TIFF: bad tile size");
    uint8_t *tile = checked_malloc((size_t)tile_size);
    rows_alloc(&band, w, (int)tile_height);
    sink_begin(first, &frame);
    for (uint32_t y = 0; y < height && run_wants_rows(); y += tile_height) {
      int rows = height - y < tile_height ? (int)(height - y) : (int)tile_height;
      for (uint32_t x = 0; x < width; x += tile_width) {
        if (TIFFReadTile(tif, tile, x, y, 0, 0) < 0) fail(FAIL_DAMAGED, "TIFF: a tile cannot be read");
        int columns = width - x < tile_width ? (int)(width - x) : (int)tile_width;
        for (int r = 0; r < rows; r++) {
          convert(&layout, tile + (size_t)r * (size_t)tile_row_size, columns, rows_at(&band, r) + (size_t)x * 4);
        }
      }
      sink_rows(first, band.data, band.stride, rows);
    }
    free(tile);
  } else {
    tmsize_t line_size = TIFFScanlineSize(tif);
    if (line_size <= 0) fail(FAIL_DAMAGED, "TIFF: bad scanline size");
    uint8_t *line = checked_malloc((size_t)line_size);
    rows_alloc(&band, w, STRIP_ROWS);
    sink_begin(first, &frame);
    int gathered = 0;
    for (int y = 0; y < h && run_wants_rows(); y++) {
      if (TIFFReadScanline(tif, line, (uint32_t)y, 0) < 0) fail(FAIL_DAMAGED, "TIFF: a row cannot be read");
      convert(&layout, line, w, rows_at(&band, gathered++));
      if (gathered == STRIP_ROWS || y == h - 1) {
        sink_rows(first, band.data, band.stride, gathered);
        gathered = 0;
      }
    }
    free(line);
  }
  rows_free(&band);
  sink_end(first);
  sink_finish(first);
  run_state.icc = NULL;
  run_state.icc_size = 0;
  TIFFClose(tif);
}
