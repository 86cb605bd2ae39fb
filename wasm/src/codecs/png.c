/*
 * PNG through libpng. The decoder is libpng's progressive reader: the source is pulled from
 * JavaScript in 64 KiB chunks and fed to png_process_data, and rows are pushed into the pipeline
 * as they inflate, a strip at a time; nothing is read past the last row. Every pixel layout
 * becomes 8-bit RGBA (palette and low bit depths expanded, tRNS made alpha, grey replicated,
 * 16-bit reduced to its high byte as sharp/libvips do). An Adam7-interlaced image is complete only
 * after its last pass, so it is assembled in a frame (the planner counts it); its rows are pushed
 * as the seventh pass finishes each one. Thumbnails need no decoder-side shrink: the resize step
 * box-averages rows as they arrive (steps/resize.c), so a 12 MP PNG costs a few rows of memory.
 *
 * The encoder takes rows as they come and writes grey, grey+alpha, RGB, RGBA or the source's
 * palette, as the planner decided before the first row (src/codecs/png.ts says how), at a zlib
 * level and filter chosen for speed.
 */
#include <stdlib.h>
#include <string.h>

#include "../pipeline.h"
#include "png.h"

#define IO_CHUNK 65536
#define STRIP_ROWS 16

/* libpng's errors end the call like every other failure (engine.h); it never longjmps. */
static void trap_on_error(png_structp png, png_const_charp message) {
  (void)png;
  failf(FAIL_DAMAGED, "png: %s", message);
}

/* Warnings (a bad CRC on an ancillary chunk, an unusable colour profile) drop what they name. */
static void ignore_warning(png_structp png, png_const_charp message) {
  (void)png;
  (void)message;
}

/* libpng's allocations through the engine's counted allocator; running out is ImageTooLarge. */
static png_voidp allocate(png_structp png, png_alloc_size_t size) {
  (void)png;
  return checked_malloc(size);
}

static void release(png_structp png, png_voidp block) {
  (void)png;
  free(block);
}

/* ---- decoder ---- */

typedef struct {
  png_structp png;
  png_infop info;
  Sink *first;
  int width, height;
  int interlaced;
  int began;
  int pushed;        /* rows handed to the pipeline */
  Rows strip;        /* rows gathered for the next push (non-interlaced) */
  int strip_count;
  uint8_t *frame;    /* the whole image while Adam7 passes fill it */
  uint8_t palette[256 * 4];
} PngDecoder;

static void flush_strip(PngDecoder *decoder) {
  if (decoder->strip_count > 0) {
    sink_rows(decoder->first, decoder->strip.data, decoder->strip.stride, decoder->strip_count);
    decoder->pushed += decoder->strip_count;
    decoder->strip_count = 0;
  }
}

static void on_info(png_structp png, png_infop info) {
  PngDecoder *decoder = png_get_progressive_ptr(png);
  png_uint_32 width, height;
  int depth, colour, interlace;
  png_get_IHDR(png, info, &width, &height, &depth, &colour, &interlace, NULL, NULL);
  if ((int)width != decoder->width || (int)height != decoder->height) {
    failf(FAIL_DAMAGED, "png: the header says %ux%u, the plan %dx%d", width, height, decoder->width,
          decoder->height);
  }

  /* The palette as RGBA, for an encoder that may keep it (run_state.palette). */
  png_colorp entries;
  int count;
  if (colour == PNG_COLOR_TYPE_PALETTE && png_get_PLTE(png, info, &entries, &count) && count > 0) {
    png_bytep alphas = NULL;
    int transparent = 0;
    png_get_tRNS(png, info, &alphas, &transparent, NULL);
    for (int i = 0; i < count && i < 256; i++) {
      decoder->palette[i * 4] = entries[i].red;
      decoder->palette[i * 4 + 1] = entries[i].green;
      decoder->palette[i * 4 + 2] = entries[i].blue;
      decoder->palette[i * 4 + 3] = alphas && i < transparent ? alphas[i] : 255;
    }
    run_state.palette = decoder->palette;
    run_state.palette_size = count < 256 ? count : 256;
  }

  /* The embedded profile, for colour management (steps/color.c); libpng owns the bytes. */
  png_charp name;
  int compression;
  png_bytep profile;
  png_uint_32 profile_size;
  if (png_get_iCCP(png, info, &name, &compression, &profile, &profile_size) && profile_size > 0) {
    run_state.icc = profile;
    run_state.icc_size = (int)profile_size;
  }

  png_set_expand(png); /* palette to RGB, grey below 8 bits to 8, tRNS to alpha */
  png_set_strip_16(png);
  if (!(colour & PNG_COLOR_MASK_COLOR)) png_set_gray_to_rgb(png);
  if (!(colour & PNG_COLOR_MASK_ALPHA) && !png_get_valid(png, info, PNG_INFO_tRNS)) {
    png_set_add_alpha(png, 0xFF, PNG_FILLER_AFTER);
  }
  decoder->interlaced = interlace != PNG_INTERLACE_NONE;
  if (decoder->interlaced) png_set_interlace_handling(png);
  png_read_update_info(png, info);
  if (png_get_rowbytes(png, info) != (size_t)width * 4) fail(FAIL_DAMAGED, "png: unexpected row layout");

  if (decoder->interlaced) {
    decoder->frame = checked_calloc((size_t)width * height, 4);
  } else {
    rows_alloc(&decoder->strip, decoder->width, STRIP_ROWS);
  }
  Frame frame = {decoder->width, decoder->height, 0, 0};
  sink_begin(decoder->first, &frame);
  decoder->began = 1;
}

static void on_row(png_structp png, png_bytep row, png_uint_32 number, int pass) {
  PngDecoder *decoder = png_get_progressive_ptr(png);
  if ((int)number >= decoder->height || decoder->pushed >= decoder->height || !run_wants_rows()) return;
  const size_t row_bytes = (size_t)decoder->width * 4;
  if (!decoder->interlaced) {
    if (!row) return;
    memcpy(rows_at(&decoder->strip, decoder->strip_count++), row, row_bytes);
    if (decoder->strip_count == STRIP_ROWS || decoder->pushed + decoder->strip_count == decoder->height) {
      flush_strip(decoder);
    }
    return;
  }
  uint8_t *target = decoder->frame + (size_t)number * row_bytes;
  png_progressive_combine_row(png, target, row);
  /* The seventh pass visits every row in order (libpng's NULL for the rows it leaves alone). */
  if (pass == 6 && (int)number == decoder->pushed) {
    sink_rows(decoder->first, target, row_bytes, 1);
    decoder->pushed++;
  }
}

static void on_end(png_structp png, png_infop info) {
  (void)info;
  PngDecoder *decoder = png_get_progressive_ptr(png);
  /* An image one row high (or narrow enough) has no seventh pass: its rows are final now. */
  if (decoder->interlaced && decoder->began) {
    const size_t row_bytes = (size_t)decoder->width * 4;
    while (decoder->pushed < decoder->height && run_wants_rows()) {
      sink_rows(decoder->first, decoder->frame + (size_t)decoder->pushed * row_bytes, row_bytes, 1);
      decoder->pushed++;
    }
  }
}

/*
 * args: source, w, h (the header's: checked), largest chunk libpng may allocate (the colour
 * profile's bound; src/codecs/png.ts).
 */
void png_decode(const double *args, Sink *first) {
  PngDecoder decoder;
  memset(&decoder, 0, sizeof(decoder));
  decoder.first = first;
  decoder.width = (int)args[1];
  decoder.height = (int)args[2];
  decoder.png = png_create_read_struct_2(PNG_LIBPNG_VER_STRING, NULL, trap_on_error, ignore_warning, NULL,
                                         allocate, release);
  if (!decoder.png) fail(FAIL_OUT_OF_MEMORY, "png: out of memory");
  decoder.info = png_create_info_struct(decoder.png);
  if (!decoder.info) fail(FAIL_OUT_OF_MEMORY, "png: out of memory");
  /* A chunk larger than planned (a profile, text) is dropped with a warning, never allocated. */
  png_set_chunk_malloc_max(decoder.png, (png_alloc_size_t)args[3]);
  png_set_crc_action(decoder.png, PNG_CRC_DEFAULT, PNG_CRC_WARN_DISCARD);
  png_set_progressive_read_fn(decoder.png, &decoder, on_info, on_row, on_end);

  Stream stream;
  stream_open(&stream, (int)args[0]);
  uint8_t *chunk = checked_malloc(IO_CHUNK);
  while (decoder.pushed < decoder.height && run_wants_rows()) {
    int length = stream_read(&stream, chunk, IO_CHUNK);
    if (length <= 0) break;
    png_process_data(decoder.png, decoder.info, chunk, (size_t)length);
  }
  free(chunk);
  if (decoder.pushed < decoder.height && run_wants_rows()) {
    fail(FAIL_DAMAGED, decoder.began ? "png: the file ends before its last row" : "png: the file ends in its header");
  }
  sink_end(first);
  sink_finish(first);
  run_state.palette = NULL;
  run_state.palette_size = 0;
  run_state.icc = NULL;
  run_state.icc_size = 0;
  rows_free(&decoder.strip);
  free(decoder.frame);
  png_destroy_read_struct(&decoder.png, &decoder.info, NULL);
}

/* ---- encoder ---- */

enum { PNG_OUT_GREY = 0, PNG_OUT_RGB = 2, PNG_OUT_PALETTE = 3, PNG_OUT_GREY_ALPHA = 4, PNG_OUT_RGBA = 6 };

/* An open-addressed table from RGBA to palette index: 512 slots for at most 256 colours. */
#define LOOKUP_SLOTS 512

typedef struct {
  Sink base;
  png_structp png;
  png_infop info;
  int colour;       /* one of PNG_OUT_* */
  int level, filters, strategy;
  int depth;        /* bits per sample (a small palette packs several pixels per byte) */
  uint8_t *row;     /* one row in the output layout */
  uint8_t buffer[IO_CHUNK];
  int buffered;
  uint32_t keys[LOOKUP_SLOTS];
  int16_t values[LOOKUP_SLOTS]; /* -1: empty */
  uint8_t palette[256 * 4];
  int palette_size;
  int started;
} PngEncoder;

static void write_bytes(png_structp png, png_bytep bytes, size_t length) {
  PngEncoder *encoder = png_get_io_ptr(png);
  while (length > 0) {
    size_t room = IO_CHUNK - (size_t)encoder->buffered;
    size_t take = length < room ? length : room;
    memcpy(encoder->buffer + encoder->buffered, bytes, take);
    encoder->buffered += (int)take;
    bytes += take;
    length -= take;
    if (encoder->buffered == IO_CHUNK) {
      output_write(encoder->buffer, IO_CHUNK);
      encoder->buffered = 0;
    }
  }
}

static void flush_bytes(png_structp png) { (void)png; }

static uint32_t pack(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }

static unsigned slot_of(uint32_t key) { return (key * 2654435761u) >> 23; /* 9 bits */ }

static void lookup_add(PngEncoder *encoder, uint32_t key, int index) {
  unsigned slot = slot_of(key);
  while (encoder->values[slot] >= 0) {
    if (encoder->keys[slot] == key) return; /* a repeated entry: the first index serves */
    slot = (slot + 1) % LOOKUP_SLOTS;
  }
  encoder->keys[slot] = key;
  encoder->values[slot] = (int16_t)index;
}

/*
 * The palette index of a pixel. The planner keeps the palette only when no step can make a new
 * colour, so every pixel is found; should one not be, the nearest entry serves (a wrong plan
 * costs a colour, never a failed request).
 */
static int palette_index(PngEncoder *encoder, const uint8_t *p) {
  uint32_t key = pack(p);
  unsigned slot = slot_of(key);
  while (encoder->values[slot] >= 0) {
    if (encoder->keys[slot] == key) return encoder->values[slot];
    slot = (slot + 1) % LOOKUP_SLOTS;
  }
  int best = 0, best_distance = 1 << 30;
  for (int i = 0; i < encoder->palette_size; i++) {
    const uint8_t *e = encoder->palette + i * 4;
    int distance = 0;
    for (int c = 0; c < 4; c++) distance += (e[c] - p[c]) * (e[c] - p[c]);
    if (distance < best_distance) best_distance = distance, best = i;
  }
  if (encoder->palette_size < 256) lookup_add(encoder, key, best);
  return best;
}

static void png_encoder_begin(Sink *sink, const Frame *frame) {
  PngEncoder *encoder = (PngEncoder *)sink;
  sink_expect(sink, frame);
  if (encoder->started) fail(FAIL_BAD_ARGUMENT, "png: one frame only");
  encoder->started = 1;
  png_structp png = encoder->png;
  png_infop info = encoder->info;
  int w = sink->in_width, h = sink->in_height;
  encoder->depth = 8;
  if (encoder->colour == PNG_OUT_PALETTE) {
    if (!run_state.palette || run_state.palette_size <= 0) fail(FAIL_BAD_ARGUMENT, "png: no palette to keep");
    encoder->palette_size = run_state.palette_size;
    memcpy(encoder->palette, run_state.palette, (size_t)encoder->palette_size * 4);
    for (int i = 0; i < LOOKUP_SLOTS; i++) encoder->values[i] = -1;
    png_color entries[256];
    png_byte alphas[256];
    int transparent = 0;
    for (int i = 0; i < encoder->palette_size; i++) {
      const uint8_t *e = encoder->palette + i * 4;
      entries[i].red = e[0];
      entries[i].green = e[1];
      entries[i].blue = e[2];
      alphas[i] = e[3];
      if (e[3] != 255) transparent = i + 1;
      lookup_add(encoder, pack(e), i);
    }
    int n = encoder->palette_size;
    encoder->depth = n <= 2 ? 1 : n <= 4 ? 2 : n <= 16 ? 4 : 8;
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, encoder->depth, PNG_COLOR_TYPE_PALETTE,
                 PNG_INTERLACE_NONE, PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    png_set_PLTE(png, info, entries, n);
    if (transparent > 0) png_set_tRNS(png, info, alphas, transparent, NULL);
  } else {
    png_set_IHDR(png, info, (png_uint_32)w, (png_uint_32)h, 8, encoder->colour, PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
  }
  png_write_info(png, info);
}

/* Grey from RGB: the planner asks for grey only where R = G = B, but a stray colour gets its luma. */
static uint8_t grey_of(const uint8_t *p) {
  if (p[0] == p[1] && p[1] == p[2]) return p[0];
  return (uint8_t)((p[0] * 77 + p[1] * 150 + p[2] * 29 + 128) >> 8);
}

static void png_encoder_rows(Sink *sink, uint8_t *rows, size_t stride, int count) {
  PngEncoder *encoder = (PngEncoder *)sink;
  const int w = sink->in_width;
  for (int i = 0; i < count; i++) {
    const uint8_t *p = rows + (size_t)i * stride;
    uint8_t *out = encoder->row;
    switch (encoder->colour) {
      case PNG_OUT_RGBA:
        out = (uint8_t *)p;
        break;
      case PNG_OUT_RGB:
        for (int x = 0; x < w; x++, p += 4, out += 3) out[0] = p[0], out[1] = p[1], out[2] = p[2];
        out = encoder->row;
        break;
      case PNG_OUT_GREY:
        for (int x = 0; x < w; x++, p += 4) out[x] = grey_of(p);
        break;
      case PNG_OUT_GREY_ALPHA:
        for (int x = 0; x < w; x++, p += 4) out[2 * x] = grey_of(p), out[2 * x + 1] = p[3];
        break;
      case PNG_OUT_PALETTE: {
        const int depth = encoder->depth, per_byte = 8 / depth;
        memset(out, 0, ((size_t)w * depth + 7) / 8);
        for (int x = 0; x < w; x++, p += 4) {
          int index = palette_index(encoder, p);
          out[x / per_byte] |= (uint8_t)(index << (8 - depth * (x % per_byte + 1)));
        }
        break;
      }
    }
    png_write_row(encoder->png, out);
  }
}

static void png_encoder_end(Sink *sink) { (void)sink; }

static void png_encoder_finish(Sink *sink) {
  PngEncoder *encoder = (PngEncoder *)sink;
  png_write_end(encoder->png, NULL);
  if (encoder->buffered > 0) output_write(encoder->buffer, encoder->buffered);
  encoder->buffered = 0;
}

static void png_encoder_destroy(Sink *sink) {
  PngEncoder *encoder = (PngEncoder *)sink;
  png_destroy_write_struct(&encoder->png, &encoder->info);
  free(encoder->row);
}

static const SinkOps PNG_ENCODER_OPS = {png_encoder_begin, png_encoder_rows, png_encoder_end, png_encoder_finish,
                                        png_encoder_destroy};

/*
 * args: w, h, colour type (0 grey, 2 RGB, 3 the source's palette, 4 grey+alpha, 6 RGBA), zlib
 * level, filters (libpng's PNG_FILTER_* bits; palette output is never filtered), zlib strategy.
 */
Sink *png_encoder_create(const double *args, Sink *next) {
  (void)next;
  int w = (int)args[0], h = (int)args[1];
  PngEncoder *encoder = sink_new(sizeof(PngEncoder), &PNG_ENCODER_OPS, NULL, w, h, w, h);
  encoder->colour = (int)args[2];
  encoder->level = (int)args[3];
  encoder->filters = (int)args[4];
  encoder->strategy = (int)args[5];
  if (encoder->colour != PNG_OUT_GREY && encoder->colour != PNG_OUT_RGB && encoder->colour != PNG_OUT_PALETTE &&
      encoder->colour != PNG_OUT_GREY_ALPHA && encoder->colour != PNG_OUT_RGBA) {
    fail(FAIL_BAD_ARGUMENT, "png: unknown colour type");
  }
  encoder->png = png_create_write_struct_2(PNG_LIBPNG_VER_STRING, NULL, trap_on_error, ignore_warning, NULL,
                                           allocate, release);
  if (!encoder->png) fail(FAIL_OUT_OF_MEMORY, "png: out of memory");
  encoder->info = png_create_info_struct(encoder->png);
  if (!encoder->info) fail(FAIL_OUT_OF_MEMORY, "png: out of memory");
  png_set_write_fn(encoder->png, encoder, write_bytes, flush_bytes);
  png_set_compression_level(encoder->png, encoder->level);
  png_set_compression_strategy(encoder->png, encoder->strategy);
  png_set_filter(encoder->png, PNG_FILTER_TYPE_BASE,
                 encoder->colour == PNG_OUT_PALETTE ? PNG_FILTER_NONE : encoder->filters);
  if (encoder->colour != PNG_OUT_RGBA) encoder->row = checked_malloc((size_t)w * 4);
  return &encoder->base;
}
