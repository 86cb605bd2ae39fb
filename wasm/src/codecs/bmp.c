/*
 * BMP, decoded and encoded here (no library: the format is a header and rows).
 *
 * The decoder reads 1-, 4- and 8-bit palette, 16-, 24- and 32-bit files (BI_RGB, BI_BITFIELDS,
 * BI_ALPHABITFIELDS), bottom-up or top-down, and RLE8/RLE4. Uncompressed rows are read straight
 * from the source a strip at a time — a bottom-up file's strip is one block of the source, read
 * and walked backwards — so nothing holds the frame. RLE files are bottom-up streams with jumps:
 * they are expanded to one byte per pixel first (the planner counts it).
 *
 * The encoder writes rows as they come: 24-bit BI_RGB, or 32-bit with an alpha mask (a V4 header)
 * when the pixels may be transparent; top-down, as the old JavaScript encoder wrote them.
 */
#include <stdlib.h>
#include <string.h>

#include "../pipeline.h"

#define IO_CHUNK 65536
#define STRIP_ROWS 16

#define BI_RGB 0
#define BI_RLE8 1
#define BI_RLE4 2
#define BI_BITFIELDS 3
#define BI_ALPHABITFIELDS 6

static uint32_t u32(const uint8_t *p) { return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24; }
static int u16(const uint8_t *p) { return p[0] | p[1] << 8; }

/* A channel by its mask, scaled to 8 bits. */
typedef struct {
  uint32_t mask;
  int shift;
  uint32_t max;
} Channel;

static Channel channel_of(uint32_t mask) {
  Channel channel = {mask, 0, 0};
  if (!mask) return channel;
  while (!(mask >> channel.shift & 1)) channel.shift++;
  channel.max = mask >> channel.shift;
  return channel;
}

static inline uint8_t channel_value(const Channel *channel, uint32_t pixel) {
  if (!channel->mask) return 0;
  uint32_t value = (pixel & channel->mask) >> channel->shift;
  if (channel->max == 255) return (uint8_t)value;
  return (uint8_t)(((uint64_t)value * 255 + channel->max / 2) / channel->max);
}

typedef struct {
  int source, size;
  int width, height, top_down, bits, compression;
  uint32_t data_offset;
  size_t stride;
  Channel red, green, blue, alpha;
  uint8_t palette[256 * 4]; /* RGBA */
  int colours;
} Bmp;

/* `length` bytes of the source at `offset`, all of them or a failure. */
static void read_at(const Bmp *bmp, size_t offset, uint8_t *target, size_t length) {
  if (offset + length > (size_t)bmp->size) fail(FAIL_DAMAGED, "BMP data is truncated");
  while (length > 0) {
    int step = length > IO_CHUNK ? IO_CHUNK : (int)length;
    int got = source_read(bmp->source, (int)offset, target, step);
    if (got <= 0) fail(FAIL_DAMAGED, "BMP data is truncated");
    offset += (size_t)got;
    target += got;
    length -= (size_t)got;
  }
}

static void read_header(Bmp *bmp) {
  uint8_t head[14 + 124];
  memset(head, 0, sizeof(head));
  if (bmp->size < 26) fail(FAIL_DAMAGED, "BMP header is truncated");
  read_at(bmp, 0, head, bmp->size < (int)sizeof(head) ? (size_t)bmp->size : sizeof(head));
  if (head[0] != 'B' || head[1] != 'M') fail(FAIL_DAMAGED, "BMP signature is missing");
  bmp->data_offset = u32(head + 10);
  const uint32_t header_size = u32(head + 14);
  int entry_bytes = 4;
  uint32_t colours_used = 0;
  if (header_size == 12) {
    /* OS/2's BITMAPCOREHEADER: 16-bit sides, 3-byte palette entries. */
    bmp->width = u16(head + 18);
    bmp->height = u16(head + 20);
    bmp->bits = u16(head + 24);
    bmp->compression = BI_RGB;
    entry_bytes = 3;
  } else if (header_size >= 40) {
    bmp->width = (int32_t)u32(head + 18);
    int32_t height = (int32_t)u32(head + 22);
    bmp->top_down = height < 0;
    bmp->height = height < 0 ? -height : height;
    bmp->bits = u16(head + 28);
    bmp->compression = (int)u32(head + 30);
    colours_used = u32(head + 46);
  } else {
    fail(FAIL_DAMAGED, "BMP header has an unknown size");
  }
  if (bmp->width <= 0 || bmp->height <= 0) fail(FAIL_DAMAGED, "BMP header gives no valid size");
  const int bits = bmp->bits;
  if (bits != 1 && bits != 4 && bits != 8 && bits != 16 && bits != 24 && bits != 32) {
    failf(FAIL_UNSUPPORTED, "BMP with %d bits per pixel is not supported (1, 4, 8, 16, 24 and 32 are)", bits);
  }
  const int c = bmp->compression;
  const int valid = c == BI_RGB || (c == BI_RLE8 && bits == 8) || (c == BI_RLE4 && bits == 4) ||
                    ((c == BI_BITFIELDS || c == BI_ALPHABITFIELDS) && (bits == 16 || bits == 32));
  if (!valid) failf(FAIL_UNSUPPORTED, "BMP compression %d with %d bits per pixel is not supported", c, bits);
  if (c == BI_BITFIELDS || c == BI_ALPHABITFIELDS) {
    /* The masks follow a 40-byte header, or sit in the same place inside a larger one. */
    bmp->red = channel_of(u32(head + 54));
    bmp->green = channel_of(u32(head + 58));
    bmp->blue = channel_of(u32(head + 62));
    if (header_size >= 56 || c == BI_ALPHABITFIELDS) bmp->alpha = channel_of(u32(head + 66));
  } else if (bits == 16) {
    bmp->red = channel_of(0x7c00);
    bmp->green = channel_of(0x03e0);
    bmp->blue = channel_of(0x001f);
  } else {
    /* 32-bit BI_RGB: the fourth byte is unused (opaque), as most readers take it. */
    bmp->red = channel_of(0xff0000);
    bmp->green = channel_of(0xff00);
    bmp->blue = channel_of(0xff);
  }
  if (bits <= 8) {
    int colours = colours_used && colours_used < (1u << bits) ? (int)colours_used : 1 << bits;
    size_t at = 14 + header_size + (header_size == 40 && c == BI_BITFIELDS ? 12 : 0);
    uint8_t entries[256 * 4];
    read_at(bmp, at, entries, (size_t)colours * entry_bytes);
    for (int i = 0; i < colours; i++) {
      const uint8_t *e = entries + i * entry_bytes;
      uint8_t *p = bmp->palette + i * 4;
      p[0] = e[2];
      p[1] = e[1];
      p[2] = e[0];
      p[3] = 255;
    }
    /* Indices past the table are black, as most readers draw them. */
    for (int i = colours; i < 256; i++) memcpy(bmp->palette + i * 4, "\0\0\0\xff", 4);
    bmp->colours = colours;
  }
  bmp->stride = ((size_t)bmp->width * bits + 31) / 32 * 4;
}

/* One stored row to RGBA. */
static void convert_row(const Bmp *bmp, const uint8_t *in, uint8_t *out) {
  const int w = bmp->width;
  switch (bmp->bits) {
    case 1:
    case 4:
    case 8: {
      const int bits = bmp->bits, per_byte = 8 / bits, mask = (1 << bits) - 1;
      for (int x = 0; x < w; x++) {
        int index = in[x / per_byte] >> (8 - bits - (x % per_byte) * bits) & mask;
        memcpy(out + x * 4, bmp->palette + index * 4, 4);
      }
      break;
    }
    case 24:
      for (int x = 0; x < w; x++, in += 3, out += 4) {
        out[0] = in[2];
        out[1] = in[1];
        out[2] = in[0];
        out[3] = 255;
      }
      break;
    default: {
      const int bytes = bmp->bits / 8;
      for (int x = 0; x < w; x++, in += bytes, out += 4) {
        uint32_t pixel = bytes == 4 ? u32(in) : (uint32_t)u16(in);
        out[0] = channel_value(&bmp->red, pixel);
        out[1] = channel_value(&bmp->green, pixel);
        out[2] = channel_value(&bmp->blue, pixel);
        out[3] = bmp->alpha.mask ? channel_value(&bmp->alpha, pixel) : 255;
      }
    }
  }
}

/* ---- RLE8 / RLE4: expanded to indices, bottom row first, then pushed top-down ---- */

typedef struct {
  Stream stream;
  uint8_t buffer[IO_CHUNK];
  int length, pos;
} Bytes;

/* The next byte, or -1 at the end of the source. */
static int next_byte(Bytes *bytes) {
  if (bytes->pos >= bytes->length) {
    bytes->length = stream_read(&bytes->stream, bytes->buffer, IO_CHUNK);
    bytes->pos = 0;
    if (bytes->length <= 0) return -1;
  }
  return bytes->buffer[bytes->pos++];
}

/* Pixels the data skips (a delta, an early end) stay index 0, as in most readers. */
static void expand_rle(const Bmp *bmp, uint8_t *indices, Bytes *bytes) {
  const int w = bmp->width, h = bmp->height, four = bmp->compression == BI_RLE4;
  int x = 0, row = 0; /* row 0 is the first stored: the bottom one unless top-down */
#define PUT(value)                                                               \
  do {                                                                           \
    if (x < w && row < h) {                                                      \
      int y_ = bmp->top_down ? row : h - 1 - row;                                \
      indices[(size_t)y_ * w + x] = (uint8_t)(value);                            \
    }                                                                            \
    x++;                                                                         \
  } while (0)
  while (row < h) {
    int count = next_byte(bytes), value = next_byte(bytes);
    if (count < 0 || value < 0) return;
    if (count > 0) {
      for (int i = 0; i < count; i++) PUT(four ? (i & 1 ? value & 15 : value >> 4) : value);
    } else if (value == 0) {
      x = 0;
      row++;
    } else if (value == 1) {
      return;
    } else if (value == 2) {
      int dx = next_byte(bytes), dy = next_byte(bytes);
      if (dx < 0 || dy < 0) return;
      x += dx;
      row += dy;
    } else {
      /* Absolute: `value` pixels follow, their bytes padded to an even count. */
      int stored = four ? (value + 1) / 2 : value;
      int byte = 0;
      for (int i = 0; i < value; i++) {
        if (!four || !(i & 1)) {
          byte = next_byte(bytes);
          if (byte < 0) return;
        }
        PUT(four ? (i & 1 ? byte & 15 : byte >> 4) : byte);
      }
      if (stored & 1 && next_byte(bytes) < 0) return;
    }
  }
#undef PUT
}

/* args: source. */
void bmp_decode(const double *args, Sink *first) {
  Bmp bmp;
  memset(&bmp, 0, sizeof(bmp));
  bmp.source = (int)args[0];
  bmp.size = source_size(bmp.source);
  read_header(&bmp);
  const int w = bmp.width, h = bmp.height;
  const size_t row_bytes = (size_t)w * 4;
  Rows strip;
  rows_alloc(&strip, w, STRIP_ROWS);
  Frame frame = {w, h, 0, 0};
  const int rle = bmp.compression == BI_RLE8 || bmp.compression == BI_RLE4;
  if (rle) {
    uint8_t *indices = checked_calloc((size_t)w * h, 1);
    Bytes *bytes = checked_malloc(sizeof(Bytes));
    stream_open(&bytes->stream, bmp.source);
    stream_skip(&bytes->stream, (int)bmp.data_offset);
    bytes->length = bytes->pos = 0;
    expand_rle(&bmp, indices, bytes);
    free(bytes);
    sink_begin(first, &frame);
    for (int y = 0; y < h && run_wants_rows(); y += STRIP_ROWS) {
      int count = h - y < STRIP_ROWS ? h - y : STRIP_ROWS;
      for (int i = 0; i < count; i++) {
        const uint8_t *in = indices + (size_t)(y + i) * w;
        uint8_t *out = rows_at(&strip, i);
        for (int x = 0; x < w; x++) memcpy(out + x * 4, bmp.palette + in[x] * 4, 4);
      }
      sink_rows(first, strip.data, row_bytes, count);
    }
    free(indices);
  } else {
    if ((size_t)bmp.data_offset + bmp.stride * h > (size_t)bmp.size) fail(FAIL_DAMAGED, "BMP data is truncated");
    uint8_t *raw = checked_malloc(bmp.stride * STRIP_ROWS);
    sink_begin(first, &frame);
    for (int y = 0; y < h && run_wants_rows(); y += STRIP_ROWS) {
      int count = h - y < STRIP_ROWS ? h - y : STRIP_ROWS;
      /* A bottom-up file stores this strip's rows as one block, last row first. */
      size_t stored_first = bmp.top_down ? (size_t)y : (size_t)(h - y - count);
      read_at(&bmp, bmp.data_offset + stored_first * bmp.stride, raw, bmp.stride * count);
      for (int i = 0; i < count; i++) {
        const uint8_t *in = raw + (size_t)(bmp.top_down ? i : count - 1 - i) * bmp.stride;
        convert_row(&bmp, in, rows_at(&strip, i));
      }
      sink_rows(first, strip.data, row_bytes, count);
    }
    free(raw);
  }
  rows_free(&strip);
  sink_end(first);
  sink_finish(first);
}

/* ---- encoder ---- */

#define FILE_HEADER 14
#define INFO_HEADER 40
#define V4_HEADER 108

typedef struct {
  Sink base;
  int alpha;
  size_t stride;
  uint8_t *row;
  uint8_t *out;
  int used;
} BmpEncoder;

static void put(BmpEncoder *encoder, const uint8_t *bytes, size_t length) {
  while (length > 0) {
    size_t room = IO_CHUNK - (size_t)encoder->used, step = length < room ? length : room;
    memcpy(encoder->out + encoder->used, bytes, step);
    encoder->used += (int)step;
    bytes += step;
    length -= step;
    if (encoder->used == IO_CHUNK) {
      output_write(encoder->out, IO_CHUNK);
      encoder->used = 0;
    }
  }
}

static void le32(uint8_t *p, uint32_t value) {
  for (int i = 0; i < 4; i++) p[i] = (uint8_t)(value >> (8 * i));
}

static void encoder_begin(Sink *sink, const Frame *frame) {
  BmpEncoder *encoder = (BmpEncoder *)sink;
  sink_expect(sink, frame);
  if (frame->index > 0) fail(FAIL_BAD_ARGUMENT, "bmp: one frame only");
  const int w = sink->in_width, h = sink->in_height;
  const uint32_t info = encoder->alpha ? V4_HEADER : INFO_HEADER, offset = FILE_HEADER + info;
  uint8_t head[FILE_HEADER + V4_HEADER];
  memset(head, 0, sizeof(head));
  head[0] = 'B';
  head[1] = 'M';
  le32(head + 2, offset + (uint32_t)(encoder->stride * h));
  le32(head + 10, offset);
  le32(head + 14, info);
  le32(head + 18, (uint32_t)w);
  le32(head + 22, (uint32_t)-h); /* top-down rows */
  head[26] = 1;
  head[28] = encoder->alpha ? 32 : 24;
  le32(head + 30, encoder->alpha ? BI_BITFIELDS : BI_RGB);
  le32(head + 34, (uint32_t)(encoder->stride * h));
  le32(head + 38, 2835); /* 72 dpi */
  le32(head + 42, 2835);
  if (encoder->alpha) {
    le32(head + 54, 0x00ff0000);
    le32(head + 58, 0x0000ff00);
    le32(head + 62, 0x000000ff);
    le32(head + 66, 0xff000000);
    le32(head + 70, 0x73524742); /* LCS_sRGB */
  }
  put(encoder, head, offset);
}

static void encoder_rows(Sink *sink, uint8_t *rows, size_t stride, int count) {
  BmpEncoder *encoder = (BmpEncoder *)sink;
  const int w = sink->in_width;
  for (int r = 0; r < count; r++) {
    const uint8_t *p = rows + (size_t)r * stride;
    uint8_t *d = encoder->row;
    for (int x = 0; x < w; x++, p += 4) {
      *d++ = p[2];
      *d++ = p[1];
      *d++ = p[0];
      if (encoder->alpha) *d++ = p[3];
    }
    put(encoder, encoder->row, encoder->stride);
  }
}

static void encoder_end(Sink *sink) { (void)sink; }

static void encoder_finish(Sink *sink) {
  BmpEncoder *encoder = (BmpEncoder *)sink;
  if (encoder->used) output_write(encoder->out, encoder->used);
  encoder->used = 0;
}

static void encoder_destroy(Sink *sink) {
  BmpEncoder *encoder = (BmpEncoder *)sink;
  free(encoder->row);
  free(encoder->out);
}

static const SinkOps ENCODER_OPS = {encoder_begin, encoder_rows, encoder_end, encoder_finish, encoder_destroy};

/* args: w, h, 1 to keep alpha (32-bit with an alpha mask; else 24-bit, alpha dropped). */
Sink *bmp_encoder_create(const double *args, Sink *next) {
  (void)next;
  const int w = (int)args[0], h = (int)args[1];
  BmpEncoder *encoder = sink_new(sizeof(BmpEncoder), &ENCODER_OPS, NULL, w, h, w, h);
  encoder->alpha = args[2] != 0;
  encoder->stride = ((size_t)w * (encoder->alpha ? 32 : 24) + 31) / 32 * 4;
  encoder->row = checked_calloc(encoder->stride, 1); /* the padding stays zero */
  encoder->out = checked_malloc(IO_CHUNK);
  return &encoder->base;
}
