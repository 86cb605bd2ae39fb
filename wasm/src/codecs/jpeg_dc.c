/*
 * Thumbnails of progressive JPEGs from their DC coefficients alone.
 *
 * At a 1/8 DCT scale every 8x8 block becomes one pixel, and libjpeg's 1x1 inverse DCT reads only
 * the block's DC coefficient. A progressive JPEG sends every DC coefficient in its first scan (or
 * first scans, with successive-approximation refinements), and the AC coefficients, most of the
 * file, in later scans. So this decoder reads the DC scans, skips every AC scan to the next marker
 * without decoding it, and makes the 1/8-scale pixels from the DC values: a fraction of a full
 * decode's time, and 2 bytes per block instead of the 128 a full progressive decode holds (48
 * megapixels: 2.3 MiB instead of 144 MiB).
 *
 * The pixels are those of libjpeg-turbo decoding every scan at 1/8 with each component's own 1x1
 * inverse DCT, box upsampling of subsampled chroma and its YCbCr tables (codecs/jpeg.c asks libjpeg
 * for exactly that when it decodes a progressive JPEG at 1/8; libjpeg's default would scale chroma
 * up with a 2x2 inverse DCT, which needs AC coefficients). Every step below is that integer
 * arithmetic, so the two agree to the byte; test/jpeg-dc.test.ts compares them.
 *
 * Applies to baseline-precision (8-bit) progressive Huffman JPEGs with one (grey) or three (YCbCr)
 * components and integral sampling factors; the planner sends anything else to libjpeg.
 */
#include <stdlib.h>
#include <string.h>

#include "../pipeline.h"
#include "jpeg_dc.h"

#define MAX_COMPONENTS 3
#define IO_CHUNK 65536

/* ---- bytes: the source through a buffer, with JPEG's markers and byte stuffing ---- */

typedef struct {
  Stream stream;
  uint8_t buffer[IO_CHUNK];
  int position, length;
  int ended;
} Bytes;

static int next_byte(Bytes *bytes) {
  if (bytes->position == bytes->length) {
    bytes->length = stream_read(&bytes->stream, bytes->buffer, IO_CHUNK);
    bytes->position = 0;
    if (bytes->length <= 0) {
      bytes->length = 0;
      bytes->ended = 1;
      return -1;
    }
  }
  return bytes->buffer[bytes->position++];
}

static int two_bytes(Bytes *bytes) {
  int high = next_byte(bytes), low = next_byte(bytes);
  if (high < 0 || low < 0) fail(FAIL_DAMAGED, "jpeg: the file ends inside a marker segment");
  return (high << 8) | low;
}

static void skip_bytes(Bytes *bytes, int count) {
  int buffered = bytes->length - bytes->position;
  if (count <= buffered) {
    bytes->position += count;
    return;
  }
  bytes->position = bytes->length;
  stream_skip(&bytes->stream, count - buffered);
}

/* The next marker's code, after any fill bytes (0xFF repeated); -1 at the end of the file. */
static int next_marker(Bytes *bytes) {
  int byte;
  do {
    byte = next_byte(bytes);
  } while (byte >= 0 && byte != 0xFF);
  while (byte == 0xFF) byte = next_byte(bytes);
  return byte;
}

/*
 * Skips entropy-coded data (an AC scan) to the next marker that is not a restart marker, fast:
 * stuffed zeros (FF 00) and restart markers (FF D0-D7) are part of the data. Answers its code.
 */
static int skip_entropy_data(Bytes *bytes) {
  for (;;) {
    if (bytes->position == bytes->length && next_byte(bytes) >= 0) bytes->position--;
    if (bytes->ended) return -1;
    const uint8_t *start = bytes->buffer + bytes->position;
    const uint8_t *found = memchr(start, 0xFF, (size_t)(bytes->length - bytes->position));
    if (!found) {
      bytes->position = bytes->length;
      continue;
    }
    bytes->position = (int)(found - bytes->buffer) + 1;
    int code = next_byte(bytes);
    while (code == 0xFF) code = next_byte(bytes);
    if (code < 0) return -1;
    if (code != 0 && (code < 0xD0 || code > 0xD7)) return code;
  }
}

/* ---- Huffman decoding of DC differences ---- */

#define FAST_BITS 9

typedef struct {
  int defined;
  /* Codes of at most FAST_BITS bits, looked up by the next FAST_BITS bits: length << 8 | symbol. */
  uint16_t fast[1 << FAST_BITS];
  /* Canonical decoding of the longer ones: per length, the largest code and where its symbols start. */
  int32_t max_code[18];
  int32_t value_offset[18];
  uint8_t symbols[256];
} Huffman;

/* Builds the decoding tables from a DHT table's 16 counts and its symbols. */
static void huffman_build(Huffman *table, const uint8_t counts[16], const uint8_t *symbols, int total) {
  memset(table, 0, sizeof(*table));
  memcpy(table->symbols, symbols, (size_t)total);
  int code = 0, index = 0;
  for (int length = 1; length <= 16; length++) {
    int count = counts[length - 1];
    table->value_offset[length] = index - code;
    for (int i = 0; i < count; i++, index++, code++) {
      if (length <= FAST_BITS) {
        int shift = FAST_BITS - length;
        for (int fill = 0; fill < (1 << shift); fill++) {
          table->fast[(code << shift) | fill] = (uint16_t)((length << 8) | symbols[index]);
        }
      }
    }
    table->max_code[length] = count ? code - 1 : -1;
    if (code > (1 << length)) fail(FAIL_DAMAGED, "jpeg: a Huffman table has too many codes");
    code <<= 1;
  }
  table->max_code[17] = 0x7FFFFFFF; /* ends the search in a damaged stream */
  table->defined = 1;
}

/*
 * Entropy-coded bits, most significant first, stuffing removed; zeros once a marker is reached.
 * `padding` counts the zero bits after the marker at the end of the buffer: reading into them is
 * running out of data (libjpeg then finishes that MCU on zeros and leaves the rest of the scan).
 */
typedef struct {
  Bytes *bytes;
  uint64_t bits;
  int count;
  int padding;
  int marker; /* the marker that ended the data, 0 while there is data */
  int insufficient;
} BitReader;

static void fill_bits(BitReader *reader) {
  while (reader->count <= 56) {
    int byte = 0;
    if (!reader->marker) {
      byte = next_byte(reader->bytes);
      if (byte < 0) {
        reader->marker = -1;
        byte = 0;
      } else if (byte == 0xFF) {
        int next = next_byte(reader->bytes);
        while (next == 0xFF) next = next_byte(reader->bytes);
        if (next != 0) {
          /* A marker: the data ends here; what follows reads as zeros. */
          reader->marker = next < 0 ? -1 : next;
          byte = 0;
        }
      }
    }
    reader->bits |= (uint64_t)byte << (56 - reader->count);
    reader->count += 8;
    if (reader->marker) reader->padding += 8;
  }
}

/* Takes `count` bits from the buffer, noting when they reach past the data. */
static inline void consume(BitReader *reader, int count) {
  reader->bits <<= count;
  reader->count -= count;
  if (reader->count < reader->padding) {
    reader->padding = reader->count;
    reader->insufficient = 1;
  }
}

static int get_bits(BitReader *reader, int count) {
  if (count == 0) return 0;
  if (reader->count < count) fill_bits(reader);
  int value = (int)(reader->bits >> (64 - count));
  consume(reader, count);
  return value;
}

static int decode_symbol(BitReader *reader, const Huffman *table) {
  if (reader->count < 16) fill_bits(reader);
  int entry = table->fast[reader->bits >> (64 - FAST_BITS)];
  if (entry) {
    consume(reader, entry >> 8);
    return entry & 0xFF;
  }
  int length = FAST_BITS + 1;
  int code = (int)(reader->bits >> (64 - length));
  while (length <= 16 && code > table->max_code[length]) {
    length++;
    code = (int)(reader->bits >> (64 - length));
  }
  if (length > 16) return -1; /* no such code: damaged data */
  consume(reader, length);
  int index = table->value_offset[length] + code;
  return index >= 0 && index < 256 ? table->symbols[index] : -1;
}

/* A difference of `size` bits, sign-extended as JPEG's EXTEND does. */
static int receive_extend(BitReader *reader, int size) {
  if (size == 0) return 0;
  if (size > 15) return 0;
  int value = get_bits(reader, size);
  return value < (1 << (size - 1)) ? value - (1 << size) + 1 : value;
}

/* ---- the frame ---- */

typedef struct {
  int id;
  int h, v;              /* sampling factors */
  int quant_table;
  int blocks_w, blocks_h; /* blocks stored: whole MCUs of the interleaved layout */
  int width_in_blocks, height_in_blocks;
  int16_t *dc;           /* one coefficient per block, Al bits shifted in */
  int dc_table;          /* of the scan being decoded */
  int dc_done;           /* the last scan carried its final bit (Al 0) */
  int prediction;
} Component;

/* ICC_PROFILE chunks of APP2 markers, reassembled in their sequence order. */
#define MAX_ICC_CHUNKS 255
typedef struct {
  uint8_t *chunk[MAX_ICC_CHUNKS + 1];
  int length[MAX_ICC_CHUNKS + 1];
  int count; /* as the chunks declare it */
} IccChunks;

typedef struct {
  Bytes *bytes;
  IccChunks icc;
  int saw_jfif;
  int adobe_transform; /* -1 without an Adobe APP14 marker */
  int width, height;
  int components;
  Component component[MAX_COMPONENTS];
  int max_h, max_v;
  int mcus_per_row, mcu_rows;
  int restart_interval;
  uint16_t quant[4];  /* each table's DC entry: all a 1x1 inverse DCT uses */
  int quant_defined[4];
  Huffman dc_tables[4];
} Frame8;

static void read_frame(Frame8 *frame, int length) {
  Bytes *bytes = frame->bytes;
  if (next_byte(bytes) != 8) fail(FAIL_UNSUPPORTED, "jpeg: the DC-scan path takes 8-bit JPEGs only");
  frame->height = two_bytes(bytes);
  frame->width = two_bytes(bytes);
  frame->components = next_byte(bytes);
  if (frame->components != 1 && frame->components != 3) {
    fail(FAIL_UNSUPPORTED, "jpeg: the DC-scan path takes grey or YCbCr JPEGs only");
  }
  if (frame->width <= 0 || frame->height <= 0 || length != 6 + 3 * frame->components) {
    fail(FAIL_DAMAGED, "jpeg: a bad frame header");
  }
  frame->max_h = frame->max_v = 1;
  for (int i = 0; i < frame->components; i++) {
    Component *c = &frame->component[i];
    c->id = next_byte(bytes);
    int sampling = next_byte(bytes);
    c->h = sampling >> 4;
    c->v = sampling & 15;
    c->quant_table = next_byte(bytes);
    if (c->h < 1 || c->h > 4 || c->v < 1 || c->v > 4 || c->quant_table > 3) {
      fail(FAIL_DAMAGED, "jpeg: bad sampling factors or quantisation table");
    }
    if (c->h > frame->max_h) frame->max_h = c->h;
    if (c->v > frame->max_v) frame->max_v = c->v;
  }
  frame->mcus_per_row = (frame->width + 8 * frame->max_h - 1) / (8 * frame->max_h);
  frame->mcu_rows = (frame->height + 8 * frame->max_v - 1) / (8 * frame->max_v);
  for (int i = 0; i < frame->components; i++) {
    Component *c = &frame->component[i];
    if (frame->max_h % c->h || frame->max_v % c->v) {
      fail(FAIL_UNSUPPORTED, "jpeg: the DC-scan path takes integral sampling factors only");
    }
    c->width_in_blocks = (int)(((long long)frame->width * c->h + 8 * frame->max_h - 1) / (8 * frame->max_h));
    c->height_in_blocks = (int)(((long long)frame->height * c->v + 8 * frame->max_v - 1) / (8 * frame->max_v));
    c->blocks_w = frame->mcus_per_row * c->h;
    c->blocks_h = frame->mcu_rows * c->v;
    c->dc = checked_calloc((size_t)c->blocks_w * c->blocks_h, sizeof(int16_t));
  }
}

static void read_quant_tables(Frame8 *frame, int length) {
  Bytes *bytes = frame->bytes;
  while (length > 0) {
    int info = next_byte(bytes);
    int precision = info >> 4, id = info & 15;
    if (info < 0 || id > 3) fail(FAIL_DAMAGED, "jpeg: a bad quantisation table");
    int first = precision ? two_bytes(bytes) : next_byte(bytes);
    skip_bytes(bytes, precision ? 126 : 63);
    frame->quant[id] = (uint16_t)first;
    frame->quant_defined[id] = 1;
    length -= 1 + (precision ? 128 : 64);
  }
  if (length != 0) fail(FAIL_DAMAGED, "jpeg: a quantisation table segment of the wrong length");
}

static void read_huffman_tables(Frame8 *frame, int length) {
  Bytes *bytes = frame->bytes;
  while (length > 0) {
    int info = next_byte(bytes);
    int ac = info >> 4, id = info & 15;
    if (info < 0 || id > 3 || ac > 1) fail(FAIL_DAMAGED, "jpeg: a bad Huffman table");
    uint8_t counts[16], symbols[256];
    int total = 0;
    for (int i = 0; i < 16; i++) total += counts[i] = (uint8_t)next_byte(bytes);
    if (total > 256) fail(FAIL_DAMAGED, "jpeg: a Huffman table with more than 256 symbols");
    for (int i = 0; i < total; i++) symbols[i] = (uint8_t)next_byte(bytes);
    if (!ac) huffman_build(&frame->dc_tables[id], counts, symbols, total);
    length -= 17 + total;
  }
  if (length != 0) fail(FAIL_DAMAGED, "jpeg: a Huffman table segment of the wrong length");
}

/*
 * Decodes one DC scan: `count` components (interleaved in MCUs when more than one), each block's
 * difference (first scan, Ah 0) or refinement bit (Ah > 0), restart markers honoured. A scan that
 * ends early leaves the remaining coefficients as they were, as libjpeg does (zeros at first).
 */
static int decode_dc_scan(Frame8 *frame, Component **scan, int count, int ah, int al) {
  BitReader reader = {frame->bytes, 0, 0, 0, 0, 0};
  int interleaved = count > 1;
  int mcus_per_row = interleaved ? frame->mcus_per_row : scan[0]->width_in_blocks;
  int mcu_rows = interleaved ? frame->mcu_rows : scan[0]->height_in_blocks;
  int until_restart = frame->restart_interval;
  for (int i = 0; i < count; i++) scan[i]->prediction = 0;
  for (int row = 0; row < mcu_rows; row++) {
    for (int column = 0; column < mcus_per_row; column++) {
      if (frame->restart_interval && until_restart == 0) {
        /* A restart marker: the bits left are padding; predictions start again from zero. */
        reader.bits = 0;
        reader.count = 0;
        reader.padding = 0;
        reader.insufficient = 0;
        if (reader.marker >= 0xD0 && reader.marker <= 0xD7) {
          reader.marker = 0;
        } else if (!reader.marker) {
          int marker = next_marker(frame->bytes);
          if (marker < 0xD0 || marker > 0xD7) return marker; /* damaged: the scan ends here */
        } else {
          return reader.marker;
        }
        for (int i = 0; i < count; i++) scan[i]->prediction = 0;
        until_restart = frame->restart_interval;
      }
      for (int i = 0; i < count; i++) {
        Component *c = scan[i];
        int blocks_h = interleaved ? c->h : 1, blocks_v = interleaved ? c->v : 1;
        for (int by = 0; by < blocks_v; by++) {
          for (int bx = 0; bx < blocks_h; bx++) {
            int block_x = interleaved ? column * c->h + bx : column;
            int block_y = interleaved ? row * c->v + by : row;
            int16_t *coefficient = &c->dc[(size_t)block_y * c->blocks_w + block_x];
            if (ah == 0) {
              int size = decode_symbol(&reader, &frame->dc_tables[c->dc_table]);
              if (size < 0) return reader.marker ? reader.marker : skip_entropy_data(frame->bytes);
              c->prediction += receive_extend(&reader, size);
              *coefficient = (int16_t)((unsigned)c->prediction << al);
            } else if (get_bits(&reader, 1)) {
              *coefficient = (int16_t)(*coefficient | (1 << al));
            }
          }
        }
      }
      if (frame->restart_interval) until_restart--;
      /* Out of data: this MCU was finished on zeros; the rest of the segment keeps its coefficients. */
      if (reader.insufficient && ah == 0) {
        if (!frame->restart_interval) return reader.marker ? reader.marker : skip_entropy_data(frame->bytes);
        /* Skip to the next restart interval: its MCUs decode again. */
        column += until_restart;
        while (column >= mcus_per_row) {
          column -= mcus_per_row;
          row++;
        }
        column--;
        until_restart = 0;
        if (row >= mcu_rows) break;
      }
    }
  }
  /* The marker after the scan: found while reading, or next in the file. */
  return reader.marker ? reader.marker : skip_entropy_data(frame->bytes);
}

/* Reads an SOS header; decodes the scan when it is a DC scan, skips it otherwise. Answers the next marker. */
static int read_scan(Frame8 *frame, int length) {
  Bytes *bytes = frame->bytes;
  int count = next_byte(bytes);
  if (count < 1 || count > frame->components || length != 4 + 2 * count) {
    fail(FAIL_DAMAGED, "jpeg: a bad scan header");
  }
  Component *scan[MAX_COMPONENTS];
  for (int i = 0; i < count; i++) {
    int id = next_byte(bytes), tables = next_byte(bytes);
    scan[i] = NULL;
    for (int k = 0; k < frame->components; k++) {
      if (frame->component[k].id == id) scan[i] = &frame->component[k];
    }
    if (!scan[i]) fail(FAIL_DAMAGED, "jpeg: a scan names a component the frame does not have");
    scan[i]->dc_table = tables >> 4;
  }
  int ss = next_byte(bytes), se = next_byte(bytes), approximation = next_byte(bytes);
  int ah = approximation >> 4, al = approximation & 15;
  if (ss != 0) return skip_entropy_data(bytes); /* an AC scan: nothing a 1/8 scale uses */
  if (se != 0 || al > 13) fail(FAIL_DAMAGED, "jpeg: a progressive DC scan with AC coefficients");
  for (int i = 0; i < count; i++) {
    if (ah == 0 && (scan[i]->dc_table > 3 || !frame->dc_tables[scan[i]->dc_table].defined)) {
      fail(FAIL_DAMAGED, "jpeg: a scan uses a Huffman table that is not defined");
    }
  }
  int marker = decode_dc_scan(frame, scan, count, ah, al);
  for (int i = 0; i < count; i++) {
    if (al == 0) scan[i]->dc_done = 1;
  }
  return marker;
}

static int all_dc_done(const Frame8 *frame) {
  for (int i = 0; i < frame->components; i++) {
    if (!frame->component[i].dc_done) return 0;
  }
  return 1;
}

/* An APP2 ICC_PROFILE chunk: "ICC_PROFILE\0", its sequence number (from 1), the count, the data. */
static void read_icc_chunk(Frame8 *frame, int length) {
  static const uint8_t TAG[12] = {'I', 'C', 'C', '_', 'P', 'R', 'O', 'F', 'I', 'L', 'E', 0};
  uint8_t head[14];
  if (length < 14) {
    skip_bytes(frame->bytes, length);
    return;
  }
  for (int i = 0; i < 14; i++) head[i] = (uint8_t)next_byte(frame->bytes);
  int sequence = head[12], count = head[13], size = length - 14;
  IccChunks *icc = &frame->icc;
  if (memcmp(head, TAG, 12) != 0 || sequence < 1 || sequence > count || (icc->count && icc->count != count) ||
      icc->chunk[sequence]) {
    skip_bytes(frame->bytes, size); /* not a profile chunk, or an inconsistent one: ignored, as libjpeg does */
    return;
  }
  icc->count = count;
  icc->chunk[sequence] = checked_malloc((size_t)(size > 0 ? size : 1));
  icc->length[sequence] = size;
  for (int i = 0; i < size; i++) icc->chunk[sequence][i] = (uint8_t)next_byte(frame->bytes);
}

/* The whole profile when every chunk arrived (a new block; the caller frees it), else NULL. */
static uint8_t *assemble_icc(IccChunks *icc, int *size) {
  int total = 0;
  for (int i = 1; i <= icc->count; i++) {
    if (!icc->chunk[i]) return NULL;
    total += icc->length[i];
  }
  if (icc->count == 0 || total == 0) return NULL;
  uint8_t *profile = checked_malloc((size_t)total);
  for (int i = 1, at = 0; i <= icc->count; at += icc->length[i], i++) {
    memcpy(profile + at, icc->chunk[i], (size_t)icc->length[i]);
  }
  *size = total;
  return profile;
}

/* JFIF (APP0) and Adobe (APP14) markers: what libjpeg reads to tell YCbCr from RGB. */
static void read_app_marker(Frame8 *frame, int marker, int length) {
  uint8_t head[12] = {0};
  int read = length < 12 ? length : 12;
  for (int i = 0; i < read; i++) head[i] = (uint8_t)next_byte(frame->bytes);
  skip_bytes(frame->bytes, length - read);
  if (marker == 0xE0 && read >= 5 && memcmp(head, "JFIF", 5) == 0) frame->saw_jfif = 1;
  if (marker == 0xEE && read >= 12 && memcmp(head, "Adobe", 5) == 0) frame->adobe_transform = head[11];
}

/*
 * Whether three components are RGB rather than YCbCr, by libjpeg's rules: JFIF means YCbCr; else
 * Adobe's transform (0 RGB, otherwise YCbCr); else the component ids 'R', 'G', 'B' mean RGB.
 */
static int is_rgb(const Frame8 *frame) {
  if (frame->components != 3 || frame->saw_jfif) return 0;
  if (frame->adobe_transform >= 0) return frame->adobe_transform == 0;
  return frame->component[0].id == 'R' && frame->component[1].id == 'G' && frame->component[2].id == 'B';
}

/* ---- pixels ---- */

/* libjpeg's post-IDCT range limit: value + 128, clamped, on the 10-bit wrap its table implements. */
static inline uint8_t idct_limit(int value) {
  int index = value & 1023;
  return (uint8_t)(index < 128 ? index + 128 : index < 512 ? 255 : index < 896 ? 0 : index - 896);
}

/* The 1x1 inverse DCT: the dequantised DC, descaled by 8 with rounding. */
static inline uint8_t dc_sample(int coefficient, int quant) {
  int value = coefficient * quant;
  return idct_limit((value + 4) >> 3);
}

#define SCALEBITS 16
#define ONE_HALF ((int32_t)1 << (SCALEBITS - 1))
#define FIX(x) ((int32_t)((x) * (1L << SCALEBITS) + 0.5))

typedef struct {
  int cr_r[256], cb_b[256];
  int32_t cr_g[256], cb_g[256];
} YccTables;

/* libjpeg's YCbCr to RGB tables (JFIF's coefficients in 16-bit fixed point). */
static void ycc_tables(YccTables *tables) {
  for (int i = 0; i < 256; i++) {
    int32_t x = i - 128;
    tables->cr_r[i] = (FIX(1.40200) * x + ONE_HALF) >> SCALEBITS;
    tables->cb_b[i] = (FIX(1.77200) * x + ONE_HALF) >> SCALEBITS;
    tables->cr_g[i] = -FIX(0.71414) * x;
    tables->cb_g[i] = -FIX(0.34414) * x + ONE_HALF;
  }
}

static inline uint8_t clamp255(int value) { return value < 0 ? 0 : value > 255 ? 255 : (uint8_t)value; }

/*
 * args: as codecs/jpeg.c's decoder (source, DCT scale 8, region x, y, w, h of the 1/8 image).
 * Pushes the region's rows.
 */
void jpeg_dc_decode(const double *args, Sink *first) {
  Bytes *bytes = checked_calloc(1, sizeof(Bytes));
  stream_open(&bytes->stream, (int)args[0]);
  Frame8 *frame = checked_calloc(1, sizeof(Frame8));
  frame->bytes = bytes;
  frame->adobe_transform = -1;
  if (next_byte(bytes) != 0xFF || next_byte(bytes) != 0xD8) fail(FAIL_DAMAGED, "jpeg: no start-of-image marker");

  int marker = next_marker(bytes), have_frame = 0;
  while (marker >= 0 && marker != 0xD9 && !(have_frame && all_dc_done(frame))) {
    if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
      marker = next_marker(bytes); /* markers without a length */
      continue;
    }
    int length = two_bytes(bytes) - 2;
    if (length < 0) fail(FAIL_DAMAGED, "jpeg: a marker segment of negative length");
    if (marker == 0xC2) {
      if (have_frame) fail(FAIL_DAMAGED, "jpeg: two frame headers");
      read_frame(frame, length);
      have_frame = 1;
    } else if ((marker >= 0xC0 && marker <= 0xCF) && marker != 0xC4 && marker != 0xC8 && marker != 0xCC) {
      fail(FAIL_UNSUPPORTED, "jpeg: the DC-scan path takes progressive Huffman JPEGs only");
    } else if (marker == 0xC4) {
      read_huffman_tables(frame, length);
    } else if (marker == 0xDB) {
      read_quant_tables(frame, length);
    } else if (marker == 0xDD) {
      if (length != 2) fail(FAIL_DAMAGED, "jpeg: a bad restart interval");
      frame->restart_interval = two_bytes(bytes);
    } else if (marker == 0xDA) {
      if (!have_frame) fail(FAIL_DAMAGED, "jpeg: a scan before the frame header");
      marker = read_scan(frame, length);
      continue;
    } else if (marker == 0xE0 || marker == 0xEE) {
      read_app_marker(frame, marker, length);
    } else if (marker == 0xE2) {
      read_icc_chunk(frame, length);
    } else {
      skip_bytes(bytes, length);
    }
    marker = next_marker(bytes);
  }
  if (!have_frame) fail(FAIL_DAMAGED, "jpeg: no frame header");
  for (int i = 0; i < frame->components; i++) {
    if (!frame->quant_defined[frame->component[i].quant_table]) {
      fail(FAIL_DAMAGED, "jpeg: a component's quantisation table is not defined");
    }
  }

  /* The 1/8 image as libjpeg scales it: ceil(side / 8). */
  const int out_w = (frame->width + 7) / 8, out_h = (frame->height + 7) / 8;
  const int x0 = (int)args[2], y0 = (int)args[3], w = (int)args[4], h = (int)args[5];
  if (x0 < 0 || y0 < 0 || w <= 0 || h <= 0 || x0 + w > out_w || y0 + h > out_h) {
    fail(FAIL_BAD_ARGUMENT, "jpeg: region outside the 1/8 image");
  }
  YccTables tables;
  ycc_tables(&tables);
  const int rgb = is_rgb(frame);
  int icc_size = 0;
  uint8_t *icc = assemble_icc(&frame->icc, &icc_size);
  for (int i = 0; i <= MAX_ICC_CHUNKS; i++) free(frame->icc.chunk[i]);
  if (icc) {
    run_state.icc = icc;
    run_state.icc_size = icc_size;
  }
  uint8_t *row = checked_malloc((size_t)w * 4);
  Frame pushed = {w, h, 0, 0};
  sink_begin(first, &pushed);
  for (int y = y0; y < y0 + h && run_wants_rows(); y++) {
    uint8_t *out = row;
    for (int x = x0; x < x0 + w; x++, out += 4) {
      int samples[MAX_COMPONENTS];
      for (int i = 0; i < frame->components; i++) {
        const Component *c = &frame->component[i];
        /* Box upsampling: a subsampled component's sample covers max/own pixels each way. */
        int bx = x * c->h / frame->max_h, by = y * c->v / frame->max_v;
        samples[i] = dc_sample(c->dc[(size_t)by * c->blocks_w + bx], frame->quant[c->quant_table]);
      }
      if (frame->components == 1) {
        out[0] = out[1] = out[2] = (uint8_t)samples[0];
      } else if (rgb) {
        out[0] = (uint8_t)samples[0];
        out[1] = (uint8_t)samples[1];
        out[2] = (uint8_t)samples[2];
      } else {
        int luma = samples[0], cb = samples[1], cr = samples[2];
        out[0] = clamp255(luma + tables.cr_r[cr]);
        out[1] = clamp255(luma + (int)((tables.cb_g[cb] + tables.cr_g[cr]) >> SCALEBITS));
        out[2] = clamp255(luma + tables.cb_b[cb]);
      }
      out[3] = 255;
    }
    sink_rows(first, row, (size_t)w * 4, 1);
  }
  free(row);
  for (int i = 0; i < frame->components; i++) free(frame->component[i].dc);
  free(frame);
  free(bytes);
  sink_end(first);
  sink_finish(first);
  if (icc) {
    run_state.icc = NULL;
    run_state.icc_size = 0;
    free(icc);
  }
}
