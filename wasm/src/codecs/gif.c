/*
 * GIF, decoded and encoded here (the format is small enough that a library would add more than it
 * saves).
 *
 * The decoder composites frame after frame onto the logical screen, as viewers show them (the
 * disposal methods, transparency, local and global colour tables, interlaced frames), and pushes
 * each composited screen as rows: memory holds the screen (and a second copy only when a frame
 * asks to be restored to the previous one), never the whole animation. LZW codes are drawn
 * straight onto the screen as they are decoded; the source is pulled in 64 KiB chunks.
 *
 * The encoder (below) writes only what changed from frame to frame.
 */
#include <stdlib.h>
#include <string.h>

#include "../pipeline.h"

#define IO_CHUNK 65536
#define STRIP_ROWS 16
#define MAX_CODE_BITS 12
#define MAX_CODES (1 << MAX_CODE_BITS)

#define BLOCK_IMAGE 0x2c
#define BLOCK_EXTENSION 0x21
#define BLOCK_TRAILER 0x3b
#define LABEL_GRAPHIC_CONTROL 0xf9
#define LABEL_APPLICATION 0xff

/* Disposal methods of the Graphic Control Extension. */
#define DISPOSE_NONE 1
#define DISPOSE_BACKGROUND 2
#define DISPOSE_PREVIOUS 3

/* ---- reading: the source in chunks ---- */

typedef struct {
  Stream stream;
  int length, pos;
  uint8_t buffer[IO_CHUNK];
} Reader;

static int reader_refill(Reader *reader) {
  reader->length = stream_read(&reader->stream, reader->buffer, IO_CHUNK);
  reader->pos = 0;
  return reader->length > 0;
}

static int reader_at_end(Reader *reader) { return reader->pos >= reader->length && !reader_refill(reader); }

static int read_byte(Reader *reader) {
  if (reader->pos >= reader->length && !reader_refill(reader)) fail(FAIL_DAMAGED, "GIF data is truncated");
  return reader->buffer[reader->pos++];
}

static void read_bytes(Reader *reader, uint8_t *target, int length) {
  for (int i = 0; i < length; i++) target[i] = (uint8_t)read_byte(reader);
}

static void skip_bytes(Reader *reader, int length) {
  while (length > 0) {
    if (reader->pos >= reader->length && !reader_refill(reader)) fail(FAIL_DAMAGED, "GIF data is truncated");
    int available = reader->length - reader->pos;
    int step = available < length ? available : length;
    reader->pos += step;
    length -= step;
  }
}

/* Data sub-blocks: length-prefixed, ended by a zero length. */
static void skip_sub_blocks(Reader *reader) {
  for (int length = read_byte(reader); length != 0; length = read_byte(reader)) skip_bytes(reader, length);
}

/* The first `capacity` bytes of a run of sub-blocks; the rest skipped. Answers the whole length. */
static int read_sub_blocks(Reader *reader, uint8_t *target, int capacity) {
  int total = 0;
  for (int length = read_byte(reader); length != 0; length = read_byte(reader)) {
    for (int i = 0; i < length; i++, total++) {
      int byte = read_byte(reader);
      if (total < capacity) target[total] = (uint8_t)byte;
    }
  }
  return total;
}

/* ---- the frame being drawn ---- */

typedef struct {
  uint8_t *screen; /* RGBA, the logical screen as a viewer shows it */
  int width, height;
  /* The frame's rectangle, its colours and where the next pixel lands. */
  int left, top, frame_width, frame_height;
  const uint8_t *palette;
  int colours, transparent;
  int interlaced, pass, row, column; /* row: of the frame, in the order rows are stored */
  long long left_to_draw;            /* pixels of the frame not drawn yet */
} Canvas;

/* Interlaced frames store every 8th row from 0, every 8th from 4, every 4th from 2, every 2nd from 1. */
static const int PASS_START[4] = {0, 4, 2, 1};
static const int PASS_STEP[4] = {8, 8, 4, 2};

static void canvas_next_row(Canvas *canvas) {
  canvas->column = 0;
  if (!canvas->interlaced) {
    canvas->row++;
    return;
  }
  canvas->row += PASS_STEP[canvas->pass];
  while (canvas->row >= canvas->frame_height && canvas->pass < 3) {
    canvas->pass++;
    canvas->row = PASS_START[canvas->pass];
  }
}

/* Draws `count` indices of the frame, in stored order; transparent and undefined ones leave the screen. */
static void canvas_draw(Canvas *canvas, const uint8_t *indices, int count) {
  for (int i = 0; i < count; i++) {
    int index = indices[i];
    int x = canvas->left + canvas->column, y = canvas->top + canvas->row;
    if (index != canvas->transparent && index < canvas->colours && x < canvas->width && y < canvas->height) {
      uint8_t *p = canvas->screen + ((size_t)y * canvas->width + x) * 4;
      const uint8_t *c = canvas->palette + index * 3;
      p[0] = c[0];
      p[1] = c[1];
      p[2] = c[2];
      p[3] = 255;
    }
    if (++canvas->column == canvas->frame_width) canvas_next_row(canvas);
  }
  canvas->left_to_draw -= count;
}

/* ---- LZW, as GIF uses it: variable-width codes, least significant bit first ---- */

typedef struct {
  uint16_t prefix[MAX_CODES];
  uint16_t length[MAX_CODES];
  uint8_t suffix[MAX_CODES];
  uint8_t first[MAX_CODES];
  uint8_t string[MAX_CODES];
} Lzw;

/* The bytes of an image's sub-blocks, one at a time: -1 after the terminating empty block. */
typedef struct {
  Reader *reader;
  int left_in_block, ended;
} BlockBytes;

static int block_byte(BlockBytes *blocks) {
  if (blocks->ended) return -1;
  while (blocks->left_in_block == 0) {
    blocks->left_in_block = read_byte(blocks->reader);
    if (blocks->left_in_block == 0) {
      blocks->ended = 1;
      return -1;
    }
  }
  blocks->left_in_block--;
  return read_byte(blocks->reader);
}

/*
 * Decodes an image's LZW data onto the canvas, until its pixels are all drawn or the data ends
 * (missing pixels are index 0, as most viewers draw them). Corrupt codes fail the call.
 */
static void lzw_decode(Lzw *lzw, BlockBytes *blocks, int min_code_size, Canvas *canvas) {
  if (min_code_size < 2 || min_code_size > 8) fail(FAIL_DAMAGED, "GIF has an invalid LZW code size");
  const int clear = 1 << min_code_size, end = clear + 1;
  for (int code = 0; code < clear; code++) {
    lzw->prefix[code] = 0xffff;
    lzw->suffix[code] = (uint8_t)code;
    lzw->first[code] = (uint8_t)code;
    lzw->length[code] = 1;
  }
  int code_size = min_code_size + 1, next = end + 1, previous = -1;
  uint32_t buffer = 0;
  int bits = 0;
  while (canvas->left_to_draw > 0) {
    while (bits < code_size) {
      int byte = block_byte(blocks);
      if (byte < 0) break;
      buffer |= (uint32_t)byte << bits;
      bits += 8;
    }
    if (bits < code_size) break;
    int code = (int)(buffer & ((1u << code_size) - 1));
    buffer >>= code_size;
    bits -= code_size;
    if (code == clear) {
      code_size = min_code_size + 1;
      next = end + 1;
      previous = -1;
      continue;
    }
    if (code == end) break;
    if (previous < 0) {
      if (code >= clear) fail(FAIL_DAMAGED, "GIF LZW data is corrupt");
      uint8_t index = (uint8_t)code;
      canvas_draw(canvas, &index, 1);
      previous = code;
      continue;
    }
    int known = code < next;
    if (!known && code != next) fail(FAIL_DAMAGED, "GIF LZW data is corrupt");
    if (next < MAX_CODES) {
      lzw->prefix[next] = (uint16_t)previous;
      lzw->first[next] = lzw->first[previous];
      lzw->suffix[next] = known ? lzw->first[code] : lzw->first[previous];
      lzw->length[next] = (uint16_t)(lzw->length[previous] + 1);
      next++;
      if (next == 1 << code_size && code_size < MAX_CODE_BITS) code_size++;
    }
    int length = lzw->length[code];
    int walk = code;
    for (int i = length - 1; i >= 0; i--) {
      lzw->string[i] = lzw->suffix[walk];
      walk = lzw->prefix[walk];
    }
    canvas_draw(canvas, lzw->string, length < canvas->left_to_draw ? length : (int)canvas->left_to_draw);
    previous = code;
  }
  /* The data ended early: what is left is index 0, drawn row by row on the screen's rows only. */
  static const uint8_t ZEROS[256];
  while (canvas->left_to_draw > 0) {
    if (canvas->top + canvas->row >= canvas->height && !canvas->interlaced) break;
    int in_row = canvas->frame_width - canvas->column;
    int step = in_row < 256 ? in_row : 256;
    if ((long long)step > canvas->left_to_draw) step = (int)canvas->left_to_draw;
    canvas_draw(canvas, ZEROS, step);
  }
  /* Whatever follows the pixels (an end code, padding) up to the terminating block. */
  while (block_byte(blocks) >= 0) {
    if (blocks->left_in_block > 0) {
      skip_bytes(blocks->reader, blocks->left_in_block);
      blocks->left_in_block = 0;
    }
  }
}

/* ---- the decoder ---- */

typedef struct {
  Reader *reader;
  Lzw *lzw;
  uint8_t *screen, *saved, *strip;
} Decoding;

static Decoding decoding;

static void push_screen(Sink *first, const uint8_t *screen, int width, int height, int delay_ms, int index) {
  Frame frame = {width, height, delay_ms, index};
  run_state.wants_rows = 1;
  sink_begin(first, &frame);
  size_t row_bytes = (size_t)width * 4;
  for (int y = 0; y < height && run_wants_rows(); y += STRIP_ROWS) {
    int count = height - y < STRIP_ROWS ? height - y : STRIP_ROWS;
    memcpy(decoding.strip, screen + (size_t)y * row_bytes, row_bytes * count);
    sink_rows(first, decoding.strip, row_bytes, count);
  }
  sink_end(first);
}

/*
 * args: source, the most frames to push (1: the first frame alone, for static output; 0: all),
 * 1 if some frame is to be restored to the previous screen (header.ts found disposal method 3:
 * the saved screen is then allocated, and counted by the planner).
 */
void gif_decode(const double *args, Sink *first) {
  const int limit = (int)args[1];
  const int may_restore = args[2] != 0 && limit != 1;
  Reader *reader = decoding.reader = checked_malloc(sizeof(Reader));
  stream_open(&reader->stream, (int)args[0]);
  reader->length = reader->pos = 0;
  uint8_t header[13];
  read_bytes(reader, header, 13);
  if (memcmp(header, "GIF87a", 6) != 0 && memcmp(header, "GIF89a", 6) != 0) fail(FAIL_DAMAGED, "GIF signature is missing");
  const int width = header[6] | header[7] << 8, height = header[8] | header[9] << 8;
  if (width == 0 || height == 0) fail(FAIL_DAMAGED, "GIF screen is empty");
  uint8_t global[256 * 3], local[256 * 3];
  int global_colours = 0;
  if (header[10] & 0x80) {
    global_colours = 2 << (header[10] & 7);
    read_bytes(reader, global, global_colours * 3);
  }
  const size_t screen_bytes = (size_t)width * height * 4;
  uint8_t *screen = decoding.screen = checked_calloc(screen_bytes, 1);
  decoding.saved = may_restore ? checked_malloc(screen_bytes) : NULL;
  decoding.strip = checked_malloc((size_t)width * 4 * STRIP_ROWS);
  decoding.lzw = checked_malloc(sizeof(Lzw));

  int disposal = 0, delay_ms = 0, transparent = -1, frames = 0;
  long long pixel_budget = 1 << 20;
  for (;;) {
    if ((limit > 0 && frames >= limit) || reader_at_end(reader)) break;
    int block = read_byte(reader);
    if (block == BLOCK_TRAILER) break;
    if (block == BLOCK_EXTENSION) {
      int label = read_byte(reader);
      uint8_t data[14];
      if (label == LABEL_GRAPHIC_CONTROL) {
        if (read_sub_blocks(reader, data, 4) >= 4) {
          disposal = data[0] >> 2 & 7;
          delay_ms = (data[1] | data[2] << 8) * 10;
          transparent = data[0] & 1 ? data[3] : -1;
        }
      } else if (label == LABEL_APPLICATION) {
        int length = read_sub_blocks(reader, data, 14);
        /* Only before the first frame, where viewers look for it. */
        if (frames == 0 && length >= 14 && data[11] == 1 &&
            (memcmp(data, "NETSCAPE2.0", 11) == 0 || memcmp(data, "ANIMEXTS1.0", 11) == 0)) {
          run_state.loop_count = data[12] | data[13] << 8;
        }
      } else {
        skip_sub_blocks(reader);
      }
      continue;
    }
    if (block != BLOCK_IMAGE) failf(FAIL_DAMAGED, "GIF has an unknown block 0x%x", block);

    uint8_t descriptor[9];
    read_bytes(reader, descriptor, 9);
    Canvas canvas;
    memset(&canvas, 0, sizeof(canvas));
    canvas.screen = screen;
    canvas.width = width;
    canvas.height = height;
    canvas.left = descriptor[0] | descriptor[1] << 8;
    canvas.top = descriptor[2] | descriptor[3] << 8;
    canvas.frame_width = descriptor[4] | descriptor[5] << 8;
    canvas.frame_height = descriptor[6] | descriptor[7] << 8;
    const int flags = descriptor[8];
    canvas.interlaced = (flags & 0x40) != 0;
    if (flags & 0x80) {
      canvas.colours = 2 << (flags & 7);
      read_bytes(reader, local, canvas.colours * 3);
      canvas.palette = local;
    } else {
      if (!global_colours) fail(FAIL_DAMAGED, "GIF frame has no colour table");
      canvas.colours = global_colours;
      canvas.palette = global;
    }
    canvas.transparent = transparent;
    canvas.left_to_draw = (long long)canvas.frame_width * canvas.frame_height;
    /*
     * Pixels off the screen still cost decoding time: frames far larger than their screen are a
     * decompression bomb, not a picture (encoders keep frames within the screen). The pixels
     * decoded may be twice the screen's per frame, so the work stays within what the planner
     * admitted (screen x frames).
     */
    pixel_budget += 2 * (long long)width * height;
    if (canvas.left_to_draw > pixel_budget) fail(FAIL_DAMAGED, "GIF frame is far larger than its screen");
    pixel_budget -= canvas.left_to_draw;
    const int min_code_size = read_byte(reader);
    if (disposal == DISPOSE_PREVIOUS && decoding.saved) memcpy(decoding.saved, screen, screen_bytes);
    BlockBytes blocks = {reader, 0, 0};
    lzw_decode(decoding.lzw, &blocks, min_code_size, &canvas);

    push_screen(first, screen, width, height, delay_ms, frames);
    frames++;

    if (disposal == DISPOSE_BACKGROUND) {
      /* Browsers restore to transparent, not to the background colour: so does this. */
      int x1 = canvas.left + canvas.frame_width < width ? canvas.left + canvas.frame_width : width;
      int y1 = canvas.top + canvas.frame_height < height ? canvas.top + canvas.frame_height : height;
      for (int y = canvas.top; y < y1 && canvas.left < x1; y++) {
        memset(screen + ((size_t)y * width + canvas.left) * 4, 0, (size_t)(x1 - canvas.left) * 4);
      }
    } else if (disposal == DISPOSE_PREVIOUS && decoding.saved) {
      memcpy(screen, decoding.saved, screen_bytes);
    }
    disposal = 0;
    delay_ms = 0;
    transparent = -1;
  }
  if (frames == 0) fail(FAIL_DAMAGED, "GIF has no frames");
  sink_finish(first);
  free(decoding.lzw);
  free(decoding.strip);
  free(decoding.saved);
  free(decoding.screen);
  free(decoding.reader);
  memset(&decoding, 0, sizeof(decoding));
}

/* ---- the encoder ----
 *
 * Every frame is compared with what a viewer shows before it: only the bounding box of the
 * pixels that changed is written, and inside it the unchanged pixels are the transparent index
 * (long runs of one index, which LZW packs into a few codes). A pixel that turns transparent
 * cannot be drawn over: the frame before it is then disposed to the background (transparent in
 * every browser) over a box that covers those pixels, and what must stay is drawn again. That is
 * why a frame is written only once the next one has arrived: animations hold three frames at the
 * output's size (what is shown, the frame waiting, the frame arriving), a still image one.
 *
 * Colours: when a frame's changed pixels have at most 256 colours (an unchanged re-encode, flat
 * art) they are its palette exactly; otherwise a median cut over a 15-bit histogram chooses 256,
 * without dithering (error diffusion costs LZW far more bytes than it saves in looks at the sizes
 * thumbnails are). The first frame's palette is the global table, which later frames reuse when
 * it holds their colours, or nearly (see choose_palette).
 */

#define HASH_SIZE 8191 /* a prime about twice the LZW codes: short probes */
#define BIN_BITS 5
#define BINS (1 << (3 * BIN_BITS))
/* A quantised frame uses the global palette when its error is at most this much above its own's. */
#define GLOBAL_TOLERANCE 1.25

typedef struct {
  uint8_t buffer[IO_CHUNK];
  int used;
} Output;

static void out_flush(Output *out) {
  if (out->used) output_write(out->buffer, out->used);
  out->used = 0;
}

static void out_byte(Output *out, int byte) {
  if (out->used == IO_CHUNK) out_flush(out);
  out->buffer[out->used++] = (uint8_t)byte;
}

static void out_bytes(Output *out, const uint8_t *bytes, int length) {
  for (int i = 0; i < length; i++) out_byte(out, bytes[i]);
}

static void out_u16(Output *out, int value) {
  out_byte(out, value & 255);
  out_byte(out, value >> 8 & 255);
}

typedef struct {
  int32_t keys[HASH_SIZE]; /* (prefix code << 8 | index) + 1; 0 is empty */
  uint16_t codes[HASH_SIZE];
  Output *out;
  uint8_t block[255];
  int block_used;
  uint32_t buffer;
  int bits, code_size;
} LzwWriter;

static void lzw_put_byte(LzwWriter *lzw, int byte) {
  lzw->block[lzw->block_used++] = (uint8_t)byte;
  if (lzw->block_used == 255) {
    out_byte(lzw->out, 255);
    out_bytes(lzw->out, lzw->block, 255);
    lzw->block_used = 0;
  }
}

static void lzw_emit(LzwWriter *lzw, int code) {
  lzw->buffer |= (uint32_t)code << lzw->bits;
  lzw->bits += lzw->code_size;
  while (lzw->bits >= 8) {
    lzw_put_byte(lzw, (int)(lzw->buffer & 255));
    lzw->buffer >>= 8;
    lzw->bits -= 8;
  }
}

/* The image data: the minimum code size, then the codes in sub-blocks, then the empty block. */
static void lzw_encode(LzwWriter *lzw, const uint8_t *indices, size_t count, int min_code_size) {
  const int clear = 1 << min_code_size, end = clear + 1;
  out_byte(lzw->out, min_code_size);
  lzw->block_used = 0;
  lzw->buffer = 0;
  lzw->bits = 0;
  lzw->code_size = min_code_size + 1;
  memset(lzw->keys, 0, sizeof(lzw->keys));
  int next = end + 1;
  lzw_emit(lzw, clear);
  int current = indices[0];
  for (size_t i = 1; i < count; i++) {
    int key = (current << 8 | indices[i]) + 1;
    unsigned slot = (unsigned)key % HASH_SIZE;
    while (lzw->keys[slot] && lzw->keys[slot] != key) slot = slot + 1 == HASH_SIZE ? 0 : slot + 1;
    if (lzw->keys[slot]) {
      current = lzw->codes[slot];
      continue;
    }
    lzw_emit(lzw, current);
    if (next < MAX_CODES) {
      lzw->keys[slot] = key;
      lzw->codes[slot] = (uint16_t)next++;
      if (next > 1 << lzw->code_size && lzw->code_size < MAX_CODE_BITS) lzw->code_size++;
    } else {
      /* The table is full: start afresh, as the decoder will at this clear code. */
      lzw_emit(lzw, clear);
      memset(lzw->keys, 0, sizeof(lzw->keys));
      next = end + 1;
      lzw->code_size = min_code_size + 1;
    }
    current = indices[i];
  }
  lzw_emit(lzw, current);
  lzw_emit(lzw, end);
  if (lzw->bits > 0) lzw_put_byte(lzw, (int)(lzw->buffer & 255));
  if (lzw->block_used) {
    out_byte(lzw->out, lzw->block_used);
    out_bytes(lzw->out, lzw->block, lzw->block_used);
  }
  out_byte(lzw->out, 0);
}

/* ---- palettes ---- */

typedef struct {
  uint8_t rgb[256 * 3];
  int colours;
} Palette;

typedef struct {
  uint64_t r, g, b;
  uint32_t count;
} Bin;

/* A non-empty bin: its mean colour and weight, for the median cut. */
typedef struct {
  uint8_t c[3];
  uint32_t count;
  int bin;
} Entry;

static inline int bin_of(uint32_t pixel) {
  return (int)((pixel & 0xf8) << 7 | (pixel >> 8 & 0xf8) << 2 | (pixel >> 19 & 0x1f));
}

/* Perceptual weights (green counts most), as the old encoder used. */
static inline int distance(const uint8_t *a, const uint8_t *b) {
  int dr = a[0] - b[0], dg = a[1] - b[1], db = a[2] - b[2];
  return 2 * dr * dr + 4 * dg * dg + 3 * db * db;
}

static int nearest(const Palette *palette, const uint8_t *c) {
  int best = 0, best_distance = 1 << 30;
  for (int i = 0; i < palette->colours; i++) {
    int d = distance(palette->rgb + i * 3, c);
    if (d < best_distance) {
      best_distance = d;
      best = i;
      if (d == 0) break;
    }
  }
  return best;
}

static int sort_channel;
static int compare_entries(const void *a, const void *b) {
  return ((const Entry *)a)->c[sort_channel] - ((const Entry *)b)->c[sort_channel];
}

typedef struct {
  int start, end; /* entries */
  double error;   /* weighted squared error around the mean, all channels */
  int channel;    /* the channel of largest spread */
  double mean[3];
} Box;

static void box_measure(Box *box, const Entry *entries) {
  double n = 0, sum[3] = {0, 0, 0}, squares[3] = {0, 0, 0};
  for (int i = box->start; i < box->end; i++) {
    double w = entries[i].count;
    n += w;
    for (int c = 0; c < 3; c++) {
      sum[c] += w * entries[i].c[c];
      squares[c] += w * entries[i].c[c] * entries[i].c[c];
    }
  }
  static const double WEIGHT[3] = {2, 4, 3};
  box->error = 0;
  double widest = -1;
  for (int c = 0; c < 3; c++) {
    box->mean[c] = sum[c] / n;
    double spread = WEIGHT[c] * (squares[c] - sum[c] * sum[c] / n);
    box->error += spread;
    if (spread > widest) {
      widest = spread;
      box->channel = c;
    }
  }
  if (box->end - box->start < 2) box->error = 0;
}

/*
 * Median cut: the box with the largest squared error is split across its widest channel where
 * half its weight lies on each side, until there are `colours` boxes; each gives its mean.
 */
static void median_cut(Entry *entries, int count, int colours, Palette *palette) {
  static Box boxes[256];
  int boxes_used = 1;
  boxes[0].start = 0;
  boxes[0].end = count;
  box_measure(&boxes[0], entries);
  while (boxes_used < colours) {
    int worst = -1;
    for (int i = 0; i < boxes_used; i++) {
      if (boxes[i].error > 0 && (worst < 0 || boxes[i].error > boxes[worst].error)) worst = i;
    }
    if (worst < 0) break;
    Box *box = &boxes[worst];
    sort_channel = box->channel;
    qsort(entries + box->start, (size_t)(box->end - box->start), sizeof(Entry), compare_entries);
    double total = 0, half = 0;
    for (int i = box->start; i < box->end; i++) total += entries[i].count;
    int split = box->start + 1;
    for (int i = box->start; i < box->end - 1; i++) {
      half += entries[i].count;
      split = i + 1;
      if (half >= total / 2) break;
    }
    Box *other = &boxes[boxes_used++];
    other->start = split;
    other->end = box->end;
    box->end = split;
    box_measure(box, entries);
    box_measure(other, entries);
  }
  palette->colours = boxes_used;
  for (int i = 0; i < boxes_used; i++) {
    for (int c = 0; c < 3; c++) palette->rgb[i * 3 + c] = (uint8_t)(boxes[i].mean[c] + 0.5);
  }
}

/* ---- the sink ---- */

typedef struct {
  Sink base;
  int width, height, animated;
  /* Pixels as 32-bit RGBA words (R in the low byte), transparent ones all zero. */
  uint32_t *shown, *pending, *incoming;
  int have_pending, pending_delay, incoming_delay, next_row;
  uint8_t *indices;
  Bin *bins;
  uint16_t *bin_index; /* the frame palette's index for each bin's mean */
  uint8_t *bin_global; /* the global palette's */
  Entry *entries;
  int entry_count;
  Output *out;
  LzwWriter *lzw;
  Palette global;
  int wrote_header;
  /* A small hash of exact colours: the palette when a frame has few enough. */
  uint32_t exact_keys[1024];
  int16_t exact_index[1024];
} GifEncoder;

typedef struct {
  int x0, y0, x1, y1; /* x1, y1 exclusive; empty when x1 <= x0 */
} Rect;

static void rect_add_row(Rect *rect, int y, int first, int last) {
  if (rect->x1 <= rect->x0) {
    *rect = (Rect){first, y, last + 1, y + 1};
    return;
  }
  if (first < rect->x0) rect->x0 = first;
  if (last + 1 > rect->x1) rect->x1 = last + 1;
  rect->y1 = y + 1;
}

static int exact_find(GifEncoder *encoder, uint32_t colour, int insert_as) {
  unsigned slot = (colour * 2654435761u) >> 22;
  for (;;) {
    if (encoder->exact_index[slot] < 0) {
      if (insert_as < 0) return -1;
      encoder->exact_keys[slot] = colour;
      encoder->exact_index[slot] = (int16_t)insert_as;
      return insert_as;
    }
    if (encoder->exact_keys[slot] == colour) return encoder->exact_index[slot];
    slot = (slot + 1) & 1023;
  }
}

/* The changed pixels of the box: pending differs from shown (or is not transparent, without shown). */
#define CHANGED(encoder, i) ((encoder)->pending[i] != ((encoder)->shown ? (encoder)->shown[i] : 0))

/*
 * The frame's palette: the exact colours of its changed pixels when they fit (`room` entries,
 * one left for transparency when needed), else a median cut. Answers 1 when the palette is exact.
 * Fills encoder->bins for the median cut's mapping.
 */
static int frame_palette(GifEncoder *encoder, Rect rect, int room, Palette *palette) {
  memset(encoder->exact_index, 0xff, sizeof(encoder->exact_index));
  int distinct = 0;
  for (int y = rect.y0; y < rect.y1 && distinct <= room; y++) {
    for (int x = rect.x0; x < rect.x1; x++) {
      size_t i = (size_t)y * encoder->width + x;
      if (!CHANGED(encoder, i)) continue;
      uint32_t colour = encoder->pending[i] & 0xffffff;
      if (exact_find(encoder, colour, -1) >= 0) continue;
      if (distinct == room) {
        distinct++;
        break;
      }
      exact_find(encoder, colour, distinct);
      palette->rgb[distinct * 3] = (uint8_t)colour;
      palette->rgb[distinct * 3 + 1] = (uint8_t)(colour >> 8);
      palette->rgb[distinct * 3 + 2] = (uint8_t)(colour >> 16);
      distinct++;
    }
  }
  if (distinct <= room) {
    palette->colours = distinct;
    return 1;
  }
  memset(encoder->bins, 0, sizeof(Bin) * BINS);
  for (int y = rect.y0; y < rect.y1; y++) {
    for (int x = rect.x0; x < rect.x1; x++) {
      size_t i = (size_t)y * encoder->width + x;
      if (!CHANGED(encoder, i)) continue;
      uint32_t p = encoder->pending[i];
      Bin *bin = &encoder->bins[bin_of(p)];
      bin->r += p & 255;
      bin->g += p >> 8 & 255;
      bin->b += p >> 16 & 255;
      bin->count++;
    }
  }
  int count = 0;
  for (int b = 0; b < BINS; b++) {
    Bin *bin = &encoder->bins[b];
    if (!bin->count) continue;
    Entry *entry = &encoder->entries[count++];
    entry->c[0] = (uint8_t)((bin->r + bin->count / 2) / bin->count);
    entry->c[1] = (uint8_t)((bin->g + bin->count / 2) / bin->count);
    entry->c[2] = (uint8_t)((bin->b + bin->count / 2) / bin->count);
    entry->count = bin->count;
    entry->bin = b;
  }
  encoder->entry_count = count;
  median_cut(encoder->entries, count, room, palette);
  return 0;
}

/* The header and global table; `transparent`: the first frame needs a transparent index. */
static void write_header(GifEncoder *encoder, int transparent) {
  Output *out = encoder->out;
  out_bytes(out, (const uint8_t *)"GIF89a", 6);
  out_u16(out, encoder->width);
  out_u16(out, encoder->height);
  /* Room for a transparent index after the colours: later frames of an animation need one. */
  int entries = encoder->global.colours + (encoder->animated || transparent ? 1 : 0);
  if (entries > 256) entries = 256;
  int bits = 1;
  while (1 << bits < entries) bits++;
  out_byte(out, entries ? 0x80 | (bits - 1) << 4 | (bits - 1) : 0);
  out_byte(out, 0); /* background colour */
  out_byte(out, 0); /* aspect ratio: square pixels */
  if (entries) {
    out_bytes(out, encoder->global.rgb, encoder->global.colours * 3);
    for (int i = encoder->global.colours; i < 1 << bits; i++) out_bytes(out, (const uint8_t *)"\0\0\0", 3);
  }
  if (encoder->animated && run_state.loop_count >= 0) {
    out_bytes(out, (const uint8_t *)"\x21\xff\x0bNETSCAPE2.0\x03\x01", 16);
    out_u16(out, run_state.loop_count);
    out_byte(out, 0);
  }
  encoder->wrote_header = 1;
}

/* Writes the pending frame; `next` is the frame after it, or NULL for the last. */
static void flush_frame(GifEncoder *encoder, const uint32_t *next) {
  const int w = encoder->width, h = encoder->height;
  const uint32_t *pending = encoder->pending, *shown = encoder->shown;
  Rect rect = {0, 0, 0, 0}, cleared = {0, 0, 0, 0};
  for (int y = 0; y < h; y++) {
    const uint32_t *p = pending + (size_t)y * w, *s = shown ? shown + (size_t)y * w : NULL;
    int first = -1, last = -1;
    for (int x = 0; x < w; x++) {
      if (p[x] != (s ? s[x] : 0)) {
        if (first < 0) first = x;
        last = x;
      }
    }
    if (first >= 0) rect_add_row(&rect, y, first, last);
    if (next) {
      const uint32_t *n = next + (size_t)y * w;
      first = -1;
      for (int x = 0; x < w; x++) {
        if (p[x] && !n[x]) {
          if (first < 0) first = x;
          last = x;
        }
      }
      if (first >= 0) rect_add_row(&cleared, y, first, last);
    }
  }
  const int dispose = cleared.x1 > cleared.x0;
  if (dispose) {
    if (rect.x1 <= rect.x0) {
      rect = cleared;
    } else {
      if (cleared.x0 < rect.x0) rect.x0 = cleared.x0;
      if (cleared.y0 < rect.y0) rect.y0 = cleared.y0;
      if (cleared.x1 > rect.x1) rect.x1 = cleared.x1;
      if (cleared.y1 > rect.y1) rect.y1 = cleared.y1;
    }
  }
  /* Nothing changed: a frame must still hold its time, so one transparent pixel. */
  if (rect.x1 <= rect.x0) rect = (Rect){0, 0, 1, 1};

  int keeps = 0; /* unchanged pixels in the box, written as the transparent index */
  for (int y = rect.y0; y < rect.y1 && !keeps; y++) {
    for (int x = rect.x0; x < rect.x1; x++) {
      if (!CHANGED(encoder, (size_t)y * w + x)) {
        keeps = 1;
        break;
      }
    }
  }
  Palette local;
  const int room = keeps ? 255 : 256;
  const int exact = frame_palette(encoder, rect, room, &local);

  /*
   * The first frame's palette becomes the global table (with room for a transparent index in an
   * animation); a later frame reuses it, saving its own table's bytes, when it holds all of an
   * exact palette's colours, or when it maps a quantised frame about as well as the frame's own.
   */
  const Palette *palette = &local;
  const int later = encoder->wrote_header;
  int use_global = !later;
  uint8_t remap[256];
  const int global_room = encoder->global.colours < 256 || !keeps;
  if (!later) {
    encoder->global = local;
    write_header(encoder, keeps);
  } else if (exact && global_room) {
    use_global = 1;
    for (int i = 0; i < local.colours && use_global; i++) {
      const uint8_t *c = local.rgb + i * 3;
      int j = nearest(&encoder->global, c);
      remap[i] = (uint8_t)j;
      use_global = distance(encoder->global.rgb + j * 3, c) == 0;
    }
  }
  if (!exact) {
    /* Every bin's pixels take the colour nearest the bin's mean: of the frame's palette, or the global one. */
    double own_error = 0, global_error = 0;
    const int try_global = later && global_room;
    for (int e = 0; e < encoder->entry_count; e++) {
      const Entry *entry = &encoder->entries[e];
      int i = nearest(&local, entry->c);
      own_error += (double)entry->count * distance(local.rgb + i * 3, entry->c);
      encoder->bin_index[entry->bin] = (uint16_t)i;
      if (try_global) {
        int j = nearest(&encoder->global, entry->c);
        global_error += (double)entry->count * distance(encoder->global.rgb + j * 3, entry->c);
        encoder->bin_global[entry->bin] = (uint8_t)j;
      }
    }
    if (try_global && global_error <= own_error * GLOBAL_TOLERANCE) use_global = 1;
  }
  if (use_global) palette = &encoder->global;
  const int transparent = keeps ? palette->colours : -1;
  const int entries = palette->colours + (keeps ? 1 : 0);
  int bits = 1;
  while (1 << bits < entries) bits++;

  /* The box as indices. */
  const int rw = rect.x1 - rect.x0, rh = rect.y1 - rect.y0;
  const int remapped = later && use_global;
  uint8_t *indices = encoder->indices;
  for (int y = rect.y0, k = 0; y < rect.y1; y++) {
    for (int x = rect.x0; x < rect.x1; x++, k++) {
      size_t i = (size_t)y * w + x;
      if (!CHANGED(encoder, i)) {
        indices[k] = (uint8_t)transparent;
      } else if (exact) {
        int index = exact_find(encoder, pending[i] & 0xffffff, -1);
        indices[k] = remapped ? remap[index] : (uint8_t)index;
      } else {
        int b = bin_of(pending[i]);
        indices[k] = remapped ? encoder->bin_global[b] : (uint8_t)encoder->bin_index[b];
      }
    }
  }

  Output *out = encoder->out;
  if (encoder->animated || keeps) {
    int delay = (encoder->pending_delay + 5) / 10;
    out_bytes(out, (const uint8_t *)"\x21\xf9\x04", 3);
    out_byte(out, (dispose ? DISPOSE_BACKGROUND : DISPOSE_NONE) << 2 | (keeps ? 1 : 0));
    out_u16(out, delay > 0xffff ? 0xffff : delay);
    out_byte(out, keeps ? transparent : 0);
    out_byte(out, 0);
  }
  out_byte(out, BLOCK_IMAGE);
  out_u16(out, rect.x0);
  out_u16(out, rect.y0);
  out_u16(out, rw);
  out_u16(out, rh);
  if (use_global) {
    /* The global table has room for the transparent index (write_header sized it so). */
    out_byte(out, 0);
  } else {
    out_byte(out, 0x80 | (bits - 1));
    out_bytes(out, palette->rgb, palette->colours * 3);
    for (int i = palette->colours; i < 1 << bits; i++) out_bytes(out, (const uint8_t *)"\0\0\0", 3);
  }
  lzw_encode(encoder->lzw, indices, (size_t)rw * rh, bits < 2 ? 2 : bits);

  if (encoder->shown) {
    /* What a viewer shows now: this frame, with its box cleared if it is disposed of. */
    uint32_t *old = encoder->shown;
    encoder->shown = encoder->pending;
    encoder->pending = old;
    if (dispose) {
      for (int y = rect.y0; y < rect.y1; y++) memset(encoder->shown + (size_t)y * w + rect.x0, 0, (size_t)rw * 4);
    }
  }
}

static void encoder_begin(Sink *sink, const Frame *frame) {
  GifEncoder *encoder = (GifEncoder *)sink;
  sink_expect(sink, frame);
  if (!encoder->animated && encoder->have_pending) fail(FAIL_BAD_ARGUMENT, "gif: a still image has one frame");
  encoder->incoming_delay = frame->delay_ms;
  encoder->next_row = 0;
}

/* Transparent below half alpha (GIF has one bit), others composited on white, as JPEG output is. */
static void encoder_rows(Sink *sink, uint8_t *rows, size_t stride, int count) {
  GifEncoder *encoder = (GifEncoder *)sink;
  const int w = encoder->width;
  for (int r = 0; r < count && encoder->next_row < encoder->height; r++) {
    const uint8_t *p = rows + (size_t)r * stride;
    uint32_t *target = encoder->incoming + (size_t)encoder->next_row++ * w;
    for (int x = 0; x < w; x++, p += 4) {
      int alpha = p[3];
      if (alpha < 128) {
        target[x] = 0;
      } else if (alpha == 255) {
        target[x] = (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | 0xff000000u;
      } else {
        int white = 255 * (255 - alpha);
        uint32_t c[3];
        for (int k = 0; k < 3; k++) c[k] = (uint32_t)((p[k] * alpha + white + 127) / 255);
        target[x] = c[0] | c[1] << 8 | c[2] << 16 | 0xff000000u;
      }
    }
  }
}

static void encoder_end(Sink *sink) {
  GifEncoder *encoder = (GifEncoder *)sink;
  if (encoder->next_row != encoder->height) fail(FAIL_DAMAGED, "gif: the frame ended early");
  if (encoder->have_pending) flush_frame(encoder, encoder->incoming);
  /* The frame that arrived waits for the next; the buffer freed by the flush receives it. */
  uint32_t *free_buffer = encoder->pending;
  encoder->pending = encoder->incoming;
  encoder->incoming = free_buffer;
  encoder->pending_delay = encoder->incoming_delay;
  encoder->have_pending = 1;
}

static void encoder_finish(Sink *sink) {
  GifEncoder *encoder = (GifEncoder *)sink;
  if (!encoder->have_pending) fail(FAIL_BAD_ARGUMENT, "gif: no frame to write");
  flush_frame(encoder, NULL);
  out_byte(encoder->out, BLOCK_TRAILER);
  out_flush(encoder->out);
}

static void encoder_destroy(Sink *sink) {
  GifEncoder *encoder = (GifEncoder *)sink;
  free(encoder->shown);
  free(encoder->pending);
  free(encoder->incoming);
  free(encoder->indices);
  free(encoder->bins);
  free(encoder->bin_index);
  free(encoder->bin_global);
  free(encoder->entries);
  free(encoder->out);
  free(encoder->lzw);
}

static const SinkOps ENCODER_OPS = {encoder_begin, encoder_rows, encoder_end, encoder_finish, encoder_destroy};

/*
 * args: w, h, frames (more than 1: an animation). An animation holds three frames (what is shown,
 * the frame waiting to be written, the frame arriving), a still image one; see above.
 */
Sink *gif_encoder_create(const double *args, Sink *next) {
  (void)next;
  const int w = (int)args[0], h = (int)args[1];
  if (w > 65535 || h > 65535) fail(FAIL_BAD_ARGUMENT, "gif: sides are at most 65535");
  GifEncoder *encoder = sink_new(sizeof(GifEncoder), &ENCODER_OPS, NULL, w, h, w, h);
  encoder->width = w;
  encoder->height = h;
  encoder->animated = args[2] > 1;
  const size_t pixels = (size_t)w * h;
  encoder->incoming = checked_malloc(pixels * 4);
  if (encoder->animated) {
    encoder->pending = checked_malloc(pixels * 4);
    encoder->shown = checked_calloc(pixels, 4); /* before the first frame: all transparent */
  }
  encoder->indices = checked_malloc(pixels);
  encoder->bins = checked_malloc(sizeof(Bin) * BINS);
  encoder->bin_index = checked_malloc(sizeof(uint16_t) * BINS);
  encoder->bin_global = checked_malloc(BINS);
  encoder->entries = checked_malloc(sizeof(Entry) * BINS);
  encoder->out = checked_malloc(sizeof(Output));
  encoder->out->used = 0;
  encoder->lzw = checked_malloc(sizeof(LzwWriter));
  encoder->lzw->out = encoder->out;
  return &encoder->base;
}
