/*
 * AVIF output: libaom codes the picture as one AV1 still frame (all-intra usage), and this file
 * writes the HEIF container around it (ftyp, meta, mdat) itself.
 *
 * Memory: rows are converted as they arrive into an 8-bit YUV 4:2:0 picture (BT.601 matrix, full
 * range, as libavif does for sRGB sources; chroma from the average of each 2x2 block), 1.5 bytes
 * a pixel, and, when the pixels may be transparent, an alpha plane of one byte a pixel: never an
 * RGBA frame. At the finish the colour picture is coded, then the alpha plane (a monochrome AV1
 * picture, skipped when every pixel turned out opaque), each by its own encoder that is freed
 * before the next starts; the coded items are copied out of libaom and written after every
 * encoder is gone, so the peak is one encoder's state plus the pictures, not the file on top.
 */
#include <stdlib.h>
#include <string.h>

#include "../pipeline.h"
#include "aom/aom_encoder.h"
#include "aom/aomcx.h"

/* AV1 OBU types the container code looks for (AV1 specification, 6.2.2). */
#define OBU_SEQUENCE_HEADER 1
#define OBU_TEMPORAL_DELIMITER 2

typedef struct {
  uint8_t *data;
  size_t size;
} Coded;

typedef struct {
  Sink base;
  int quantizer; /* AV1's 0..63 scale; 0 codes the YUV picture losslessly */
  int speed;     /* libaom's cpu-used */
  int alpha;     /* the pixels may be transparent: an alpha plane is kept */
  int transparent; /* some pixel had alpha below 255 */
  int row;       /* the next row of the frame */
  int frames;
  aom_image_t *picture;
  /* The alpha plane, even-sized (AV1 codes monochrome pictures on the 4:2:0 grid). */
  uint8_t *alpha_plane;
  size_t alpha_stride;
  /* Sums of R, G, B per chroma column over the even row of the current pair. */
  int32_t *chroma_sums;
  Coded colour_item, alpha_item;
} AvifEncoder;

/* BT.601 full range, 16-bit fixed point: each row of weights sums to 65536 (luma) or 0 (chroma). */
static inline uint8_t luma(int r, int g, int b) { return (uint8_t)((19595 * r + 38470 * g + 7471 * b + 32768) >> 16); }

/*
 * Chroma of the averaged block from the block's sums of `count` pixels: the matrix is linear, so
 * the average of the pixels' chroma is the chroma of their average colour.
 */
static inline uint8_t chroma(int64_t weighted, int count) {
  const int64_t scale = (int64_t)65536 * count;
  const int64_t value = 128 * scale + weighted;
  return clamp_byte((int)((value + scale / 2) / scale));
}

/* Writes the chroma row for the pair of rows whose sums are held (`rows` of them: 1 at an odd end). */
static void emit_chroma_row(AvifEncoder *encoder, int chroma_row, const uint8_t *odd_row, int rows) {
  aom_image_t *picture = encoder->picture;
  const int w = encoder->base.in_width;
  uint8_t *u = picture->planes[AOM_PLANE_U] + (size_t)chroma_row * picture->stride[AOM_PLANE_U];
  uint8_t *v = picture->planes[AOM_PLANE_V] + (size_t)chroma_row * picture->stride[AOM_PLANE_V];
  for (int cx = 0; cx < (w + 1) / 2; cx++) {
    int32_t *sums = encoder->chroma_sums + cx * 3;
    int r = sums[0], g = sums[1], b = sums[2];
    const int columns = 2 * cx + 1 < w ? 2 : 1;
    if (odd_row) {
      const uint8_t *p = odd_row + (size_t)cx * 8;
      r += p[0];
      g += p[1];
      b += p[2];
      if (columns == 2) {
        r += p[4];
        g += p[5];
        b += p[6];
      }
    }
    const int count = columns * rows;
    u[cx] = chroma(-11059 * (int64_t)r - 21709 * (int64_t)g + 32768 * (int64_t)b, count);
    v[cx] = chroma(32768 * (int64_t)r - 27439 * (int64_t)g - 5329 * (int64_t)b, count);
  }
}

static void encoder_begin(Sink *sink, const Frame *frame) {
  AvifEncoder *encoder = (AvifEncoder *)sink;
  sink_expect(sink, frame);
  if (encoder->frames > 0) fail(FAIL_BAD_ARGUMENT, "avif: one frame only");
  encoder->row = 0;
}

static void encoder_rows(Sink *sink, uint8_t *rows, size_t stride, int count) {
  AvifEncoder *encoder = (AvifEncoder *)sink;
  aom_image_t *picture = encoder->picture;
  const int w = sink->in_width, h = sink->in_height;
  for (int i = 0; i < count && encoder->row < h; i++, encoder->row++) {
    const uint8_t *p = rows + (size_t)i * stride;
    const int y = encoder->row;
    uint8_t *luma_row = picture->planes[AOM_PLANE_Y] + (size_t)y * picture->stride[AOM_PLANE_Y];
    for (int x = 0; x < w; x++) luma_row[x] = luma(p[x * 4], p[x * 4 + 1], p[x * 4 + 2]);
    if (encoder->alpha) {
      uint8_t *alpha_row = encoder->alpha_plane + (size_t)y * encoder->alpha_stride;
      uint8_t all = 255;
      for (int x = 0; x < w; x++) {
        alpha_row[x] = p[x * 4 + 3];
        all &= p[x * 4 + 3];
      }
      if (all != 255) encoder->transparent = 1;
    }
    if (y % 2 == 0) {
      for (int cx = 0; cx < (w + 1) / 2; cx++) {
        const uint8_t *q = p + (size_t)cx * 8;
        int32_t *sums = encoder->chroma_sums + cx * 3;
        sums[0] = q[0];
        sums[1] = q[1];
        sums[2] = q[2];
        if (2 * cx + 1 < w) {
          sums[0] += q[4];
          sums[1] += q[5];
          sums[2] += q[6];
        }
      }
      if (y == h - 1) emit_chroma_row(encoder, y / 2, NULL, 1);
    } else {
      emit_chroma_row(encoder, y / 2, p, 2);
    }
  }
}

static void encoder_end(Sink *sink) {
  AvifEncoder *encoder = (AvifEncoder *)sink;
  if (encoder->row != sink->in_height) fail(FAIL_BAD_ARGUMENT, "avif: the frame ended early");
  encoder->frames++;
}

static unsigned failures_before_encode;

/*
 * libaom reports most allocation failures as an unspecified error, and some (its entropy coder's
 * buffer) not at all: any allocation that failed during the encode makes it out of memory.
 */
static _Noreturn void aom_failed(aom_codec_ctx_t *codec, aom_codec_err_t error, const char *what) {
  const char *detail = codec ? aom_codec_error_detail(codec) : NULL;
  if (engine_failed_allocations() != failures_before_encode) error = AOM_CODEC_MEM_ERROR;
  failf(error == AOM_CODEC_MEM_ERROR ? FAIL_OUT_OF_MEMORY : FAIL_UNSUPPORTED, "avif encoder: %s (%s%s%s)", what,
        aom_codec_err_to_string(error), detail ? ": " : "", detail ? detail : "");
}

/* One encoder control; aom_codec_control is a macro that checks each control's type by its name. */
#define CONTROL(codec, id, value)                                    \
  do {                                                               \
    aom_codec_err_t control_error_ = aom_codec_control(codec, id, value); \
    if (control_error_ != AOM_CODEC_OK) aom_failed(codec, control_error_, #id); \
  } while (0)

/* Appends `size` bytes to an item being collected from libaom's packets. */
static void coded_append(Coded *coded, const uint8_t *bytes, size_t size) {
  uint8_t *grown = realloc(coded->data, coded->size + size);
  if (!grown) fail(FAIL_OUT_OF_MEMORY, "out of memory");
  memcpy(grown + coded->size, bytes, size);
  coded->data = grown;
  coded->size += size;
}

static void collect_packets(aom_codec_ctx_t *codec, Coded *coded) {
  aom_codec_iter_t iterator = NULL;
  const aom_codec_cx_pkt_t *packet;
  while ((packet = aom_codec_get_cx_data(codec, &iterator)) != NULL) {
    if (packet->kind == AOM_CODEC_CX_FRAME_PKT) coded_append(coded, packet->data.frame.buf, packet->data.frame.sz);
  }
}

/* Codes one picture as an AV1 still frame; libaom's state is freed before this returns. */
static void encode_picture(const AvifEncoder *encoder, aom_image_t *picture, int monochrome, Coded *coded) {
  failures_before_encode = engine_failed_allocations();
  aom_codec_iface_t *interface = aom_codec_av1_cx();
  aom_codec_enc_cfg_t config;
  aom_codec_err_t error = aom_codec_enc_config_default(interface, &config, AOM_USAGE_ALL_INTRA);
  if (error != AOM_CODEC_OK) aom_failed(NULL, error, "default configuration");
  config.g_w = (unsigned)encoder->base.in_width;
  config.g_h = (unsigned)encoder->base.in_height;
  config.g_profile = 0; /* Main: 8-bit 4:2:0 and monochrome */
  config.g_bit_depth = AOM_BITS_8;
  config.g_input_bit_depth = 8;
  config.g_threads = 1;
  /* One frame: libaom then writes a still picture with the reduced sequence header. */
  config.g_limit = 1;
  config.full_still_picture_hdr = 0;
  config.g_lag_in_frames = 0;
  config.monochrome = (unsigned)monochrome;
  /* Constant quality: every block at the quantizer the OSS quality maps to. */
  config.rc_end_usage = AOM_Q;
  config.rc_min_quantizer = (unsigned)encoder->quantizer;
  config.rc_max_quantizer = (unsigned)encoder->quantizer;

  aom_codec_ctx_t codec;
  error = aom_codec_enc_init(&codec, interface, &config, 0);
  if (error != AOM_CODEC_OK) aom_failed(&codec, error, "initialisation");
  CONTROL(&codec, AOME_SET_CPUUSED, encoder->speed);
  CONTROL(&codec, AOME_SET_CQ_LEVEL, encoder->quantizer);
  CONTROL(&codec, AV1E_SET_COLOR_RANGE, AOM_CR_FULL_RANGE);
  if (encoder->quantizer == 0) CONTROL(&codec, AV1E_SET_LOSSLESS, 1u);
  if (!monochrome) {
    /* The sequence header says what the colr box says: sRGB primaries and transfer, BT.601 matrix. */
    CONTROL(&codec, AV1E_SET_COLOR_PRIMARIES, AOM_CICP_CP_BT_709);
    CONTROL(&codec, AV1E_SET_TRANSFER_CHARACTERISTICS, AOM_CICP_TC_SRGB);
    CONTROL(&codec, AV1E_SET_MATRIX_COEFFICIENTS, AOM_CICP_MC_BT_601);
  }
  error = aom_codec_encode(&codec, picture, 0, 1, AOM_EFLAG_FORCE_KF);
  if (error != AOM_CODEC_OK) aom_failed(&codec, error, "encoding");
  collect_packets(&codec, coded);
  error = aom_codec_encode(&codec, NULL, 0, 0, 0); /* flush */
  if (error != AOM_CODEC_OK) aom_failed(&codec, error, "flushing");
  collect_packets(&codec, coded);
  aom_codec_destroy(&codec);
  if (engine_failed_allocations() != failures_before_encode) {
    fail(FAIL_OUT_OF_MEMORY, "out of memory while libaom coded the picture");
  }
  if (coded->size == 0) fail(FAIL_UNSUPPORTED, "avif encoder: libaom produced no frame");
}

/* ---- the AV1 bitstream, as far as the container needs it ---- */

typedef struct {
  const uint8_t *data;
  size_t size;
  size_t at;
} Reader;

/* One OBU at the reader's position: its type and payload; 0 at the end. */
static int next_obu(Reader *reader, int *type, const uint8_t **payload, size_t *payload_size, size_t *whole) {
  if (reader->at >= reader->size) return 0;
  const size_t start = reader->at;
  const uint8_t header = reader->data[reader->at++];
  *type = (header >> 3) & 15;
  if (header & 4) reader->at++; /* extension header */
  if (!(header & 2)) fail(FAIL_BAD_ARGUMENT, "avif encoder: an OBU without a size field");
  uint64_t size = 0;
  for (int i = 0; i < 8; i++) {
    if (reader->at >= reader->size) fail(FAIL_BAD_ARGUMENT, "avif encoder: a cut OBU");
    const uint8_t byte = reader->data[reader->at++];
    size |= (uint64_t)(byte & 0x7f) << (7 * i);
    if (!(byte & 0x80)) break;
  }
  if (size > reader->size - reader->at) fail(FAIL_BAD_ARGUMENT, "avif encoder: a cut OBU");
  *payload = reader->data + reader->at;
  *payload_size = (size_t)size;
  reader->at += (size_t)size;
  *whole = reader->at - start;
  return 1;
}

/*
 * Drops temporal delimiters (an AVIF item holds none; libaom starts each temporal unit with one)
 * in place, and finds the sequence header, which av1C repeats. Answers the header's OBU span.
 */
static void tidy_item(Coded *item, size_t *sequence_at, size_t *sequence_size) {
  Reader reader = {item->data, item->size, 0};
  size_t kept = 0;
  int type;
  const uint8_t *payload;
  size_t payload_size, whole;
  *sequence_size = 0;
  while (next_obu(&reader, &type, &payload, &payload_size, &whole)) {
    const uint8_t *obu = reader.data + reader.at - whole;
    if (type == OBU_TEMPORAL_DELIMITER) continue;
    if (type == OBU_SEQUENCE_HEADER && *sequence_size == 0) {
      if (payload_size < 2) fail(FAIL_BAD_ARGUMENT, "avif encoder: a short sequence header");
      *sequence_at = kept;
      *sequence_size = whole;
    }
    memmove(item->data + kept, obu, whole);
    kept += whole;
  }
  if (*sequence_size == 0) fail(FAIL_BAD_ARGUMENT, "avif encoder: no sequence header");
  item->size = kept;
}

/* ---- the container (ISO/IEC 23008-12 HEIF with the AV1 image item format, AVIF) ---- */

typedef struct {
  uint8_t *data;
  size_t size, room;
} Buffer;

static void put(Buffer *buffer, const void *bytes, size_t size) {
  if (buffer->size + size > buffer->room) {
    size_t room = buffer->room ? buffer->room * 2 : 1024;
    while (room < buffer->size + size) room *= 2;
    uint8_t *grown = realloc(buffer->data, room);
    if (!grown) fail(FAIL_OUT_OF_MEMORY, "out of memory");
    buffer->data = grown;
    buffer->room = room;
  }
  memcpy(buffer->data + buffer->size, bytes, size);
  buffer->size += size;
}

static void put8(Buffer *buffer, unsigned value) {
  uint8_t byte = (uint8_t)value;
  put(buffer, &byte, 1);
}
static void put16(Buffer *buffer, unsigned value) {
  put8(buffer, value >> 8);
  put8(buffer, value);
}
static void put32(Buffer *buffer, uint32_t value) {
  put16(buffer, value >> 16);
  put16(buffer, value & 0xffff);
}
static void put_fourcc(Buffer *buffer, const char *fourcc) { put(buffer, fourcc, 4); }

/* Starts a box: its size is patched by box_end. Answers where it starts. */
static size_t box_begin(Buffer *buffer, const char *type) {
  size_t start = buffer->size;
  put32(buffer, 0);
  put_fourcc(buffer, type);
  return start;
}
static size_t full_box_begin(Buffer *buffer, const char *type, unsigned version, uint32_t flags) {
  size_t start = box_begin(buffer, type);
  put32(buffer, (uint32_t)version << 24 | flags);
  return start;
}
static void box_end(Buffer *buffer, size_t start) {
  const uint32_t size = (uint32_t)(buffer->size - start);
  uint8_t *at = buffer->data + start;
  at[0] = (uint8_t)(size >> 24);
  at[1] = (uint8_t)(size >> 16);
  at[2] = (uint8_t)(size >> 8);
  at[3] = (uint8_t)size;
}

/*
 * av1C (AV1 codec configuration, AV1-ISOBMFF 2.3) from the sequence header: profile and level
 * are its first bits (reduced still-picture header: seq_profile(3), still_picture(1),
 * reduced_still_picture_header(1), seq_level_idx(5)); the rest is how this file configures libaom.
 */
static void put_av1c(Buffer *buffer, const Coded *item, size_t sequence_at, size_t sequence_size, int monochrome) {
  Reader reader = {item->data + sequence_at, sequence_size, 0};
  int type;
  const uint8_t *payload;
  size_t payload_size, whole;
  next_obu(&reader, &type, &payload, &payload_size, &whole);
  const unsigned profile = payload[0] >> 5;
  const int reduced = (payload[0] >> 3) & 1;
  if (!reduced) fail(FAIL_BAD_ARGUMENT, "avif encoder: libaom wrote a full sequence header");
  const unsigned level = ((payload[0] & 7) << 2) | (payload[1] >> 6);
  size_t box = box_begin(buffer, "av1C");
  put8(buffer, 0x81); /* marker, version 1 */
  put8(buffer, profile << 5 | level);
  /* tier 0, 8-bit, monochrome, 4:2:0 subsampling (x and y), chroma sample position unknown */
  put8(buffer, (monochrome ? 0x10 : 0) | 0x08 | 0x04);
  put8(buffer, 0); /* no initial presentation delay */
  put(buffer, item->data + sequence_at, sequence_size);
  box_end(buffer, box);
}

static void put_infe(Buffer *buffer, unsigned id, const char *name) {
  size_t box = full_box_begin(buffer, "infe", 2, 0);
  put16(buffer, id);
  put16(buffer, 0); /* no protection */
  put_fourcc(buffer, "av01");
  put(buffer, name, strlen(name) + 1);
  box_end(buffer, box);
}

static void put_pixi(Buffer *buffer, int channels) {
  size_t box = full_box_begin(buffer, "pixi", 0, 0);
  put8(buffer, (unsigned)channels);
  for (int i = 0; i < channels; i++) put8(buffer, 8);
  box_end(buffer, box);
}

#define COLOUR_ITEM 1
#define ALPHA_ITEM 2
/* Property indices in ipco, from 1; the high bit of an association marks it essential. */
enum { PROP_ISPE = 1, PROP_COLOUR_PIXI, PROP_COLOUR_AV1C, PROP_COLR, PROP_ALPHA_PIXI, PROP_ALPHA_AV1C, PROP_AUXC };
#define ESSENTIAL 0x80

/*
 * ftyp and meta for the items, which follow in mdat: colour, then alpha. Item locations are
 * absolute file offsets, so meta is written twice: once to learn its size, once with them.
 */
static void put_header(Buffer *buffer, const AvifEncoder *encoder, const size_t sequence_at[2],
                       const size_t sequence_size[2], uint32_t mdat_data_at) {
  const int alpha = encoder->alpha_item.size > 0;
  size_t box = box_begin(buffer, "ftyp");
  put_fourcc(buffer, "avif");
  put32(buffer, 0);
  put_fourcc(buffer, "avif");
  put_fourcc(buffer, "mif1");
  put_fourcc(buffer, "miaf");
  box_end(buffer, box);

  size_t meta = full_box_begin(buffer, "meta", 0, 0);
  box = full_box_begin(buffer, "hdlr", 0, 0);
  put32(buffer, 0);
  put_fourcc(buffer, "pict");
  put32(buffer, 0);
  put32(buffer, 0);
  put32(buffer, 0);
  put8(buffer, 0); /* empty name */
  box_end(buffer, box);

  box = full_box_begin(buffer, "pitm", 0, 0);
  put16(buffer, COLOUR_ITEM);
  box_end(buffer, box);

  /* iloc version 0: 4-byte offsets and lengths, no base offset, one extent per item. */
  box = full_box_begin(buffer, "iloc", 0, 0);
  put8(buffer, 0x44);
  put8(buffer, 0x00);
  put16(buffer, alpha ? 2 : 1);
  put16(buffer, COLOUR_ITEM);
  put16(buffer, 0);
  put16(buffer, 1);
  put32(buffer, mdat_data_at);
  put32(buffer, (uint32_t)encoder->colour_item.size);
  if (alpha) {
    put16(buffer, ALPHA_ITEM);
    put16(buffer, 0);
    put16(buffer, 1);
    put32(buffer, mdat_data_at + (uint32_t)encoder->colour_item.size);
    put32(buffer, (uint32_t)encoder->alpha_item.size);
  }
  box_end(buffer, box);

  box = full_box_begin(buffer, "iinf", 0, 0);
  put16(buffer, alpha ? 2 : 1);
  put_infe(buffer, COLOUR_ITEM, "Color");
  if (alpha) put_infe(buffer, ALPHA_ITEM, "Alpha");
  box_end(buffer, box);

  if (alpha) {
    /* The alpha item is an auxiliary image of the colour item. */
    box = full_box_begin(buffer, "iref", 0, 0);
    size_t auxl = box_begin(buffer, "auxl");
    put16(buffer, ALPHA_ITEM);
    put16(buffer, 1);
    put16(buffer, COLOUR_ITEM);
    box_end(buffer, auxl);
    box_end(buffer, box);
  }

  size_t iprp = box_begin(buffer, "iprp");
  size_t ipco = box_begin(buffer, "ipco");
  box = full_box_begin(buffer, "ispe", 0, 0);
  put32(buffer, (uint32_t)encoder->base.in_width);
  put32(buffer, (uint32_t)encoder->base.in_height);
  box_end(buffer, box);
  put_pixi(buffer, 3);
  put_av1c(buffer, &encoder->colour_item, sequence_at[0], sequence_size[0], 0);
  box = box_begin(buffer, "colr");
  put_fourcc(buffer, "nclx");
  put16(buffer, AOM_CICP_CP_BT_709);
  put16(buffer, AOM_CICP_TC_SRGB);
  put16(buffer, AOM_CICP_MC_BT_601);
  put8(buffer, 0x80); /* full range */
  box_end(buffer, box);
  if (alpha) {
    put_pixi(buffer, 1);
    put_av1c(buffer, &encoder->alpha_item, sequence_at[1], sequence_size[1], 1);
    box = full_box_begin(buffer, "auxC", 0, 0);
    static const char ALPHA_URN[] = "urn:mpeg:mpegB:cicp:systems:auxiliary:alpha";
    put(buffer, ALPHA_URN, sizeof(ALPHA_URN));
    box_end(buffer, box);
  }
  box_end(buffer, ipco);
  box = full_box_begin(buffer, "ipma", 0, 0);
  put32(buffer, alpha ? 2 : 1);
  put16(buffer, COLOUR_ITEM);
  put8(buffer, 4);
  put8(buffer, PROP_ISPE);
  put8(buffer, PROP_COLOUR_PIXI);
  put8(buffer, ESSENTIAL | PROP_COLOUR_AV1C);
  put8(buffer, PROP_COLR);
  if (alpha) {
    put16(buffer, ALPHA_ITEM);
    put8(buffer, 4);
    put8(buffer, PROP_ISPE);
    put8(buffer, PROP_ALPHA_PIXI);
    put8(buffer, ESSENTIAL | PROP_ALPHA_AV1C);
    put8(buffer, ESSENTIAL | PROP_AUXC);
  }
  box_end(buffer, box);
  box_end(buffer, iprp);
  box_end(buffer, meta);
}

static void write_file(AvifEncoder *encoder) {
  const int alpha = encoder->alpha_item.size > 0;
  size_t sequence_at[2] = {0, 0}, sequence_size[2] = {0, 0};
  tidy_item(&encoder->colour_item, &sequence_at[0], &sequence_size[0]);
  if (alpha) tidy_item(&encoder->alpha_item, &sequence_at[1], &sequence_size[1]);
  const uint64_t data_size = (uint64_t)encoder->colour_item.size + encoder->alpha_item.size;

  Buffer header = {0};
  put_header(&header, encoder, sequence_at, sequence_size, 0);
  const uint64_t data_at = header.size + 8; /* after mdat's size and type */
  if (data_at + data_size > UINT32_MAX) fail(FAIL_UNSUPPORTED, "avif: the coded image is larger than 4 GB");
  header.size = 0;
  put_header(&header, encoder, sequence_at, sequence_size, (uint32_t)data_at);
  put32(&header, (uint32_t)(data_size + 8));
  put_fourcc(&header, "mdat");
  output_write(header.data, (int)header.size);
  free(header.data);
  output_write(encoder->colour_item.data, (int)encoder->colour_item.size);
  if (alpha) output_write(encoder->alpha_item.data, (int)encoder->alpha_item.size);
}

static void encoder_finish(Sink *sink) {
  AvifEncoder *encoder = (AvifEncoder *)sink;
  if (encoder->frames != 1) fail(FAIL_BAD_ARGUMENT, "avif: no frame to encode");
  free(encoder->chroma_sums);
  encoder->chroma_sums = NULL;
  encode_picture(encoder, encoder->picture, 0, &encoder->colour_item);
  aom_img_free(encoder->picture);
  encoder->picture = NULL;
  /* An alpha plane that is opaque everywhere is left out: the image is opaque. */
  if (encoder->alpha && encoder->transparent) {
    aom_image_t plane;
    if (!aom_img_wrap(&plane, AOM_IMG_FMT_I420, (unsigned)sink->in_width, (unsigned)sink->in_height, 1,
                      encoder->alpha_plane)) {
      fail(FAIL_BAD_ARGUMENT, "avif: cannot describe the alpha plane");
    }
    /* Monochrome: libaom reads the luma plane only. */
    plane.planes[AOM_PLANE_U] = plane.planes[AOM_PLANE_V] = NULL;
    plane.stride[AOM_PLANE_U] = plane.stride[AOM_PLANE_V] = 0;
    plane.stride[AOM_PLANE_Y] = (int)encoder->alpha_stride;
    plane.monochrome = 1;
    plane.range = AOM_CR_FULL_RANGE;
    encode_picture(encoder, &plane, 1, &encoder->alpha_item);
  }
  free(encoder->alpha_plane);
  encoder->alpha_plane = NULL;
  write_file(encoder);
}

static void encoder_destroy(Sink *sink) {
  AvifEncoder *encoder = (AvifEncoder *)sink;
  if (encoder->picture) aom_img_free(encoder->picture);
  free(encoder->alpha_plane);
  free(encoder->chroma_sums);
  free(encoder->colour_item.data);
  free(encoder->alpha_item.data);
}

static const SinkOps ENCODER_OPS = {encoder_begin, encoder_rows, encoder_end, encoder_finish, encoder_destroy};

/*
 * args: w, h, quantizer (0..63, AV1's scale: the planner maps the OSS quality onto it), alpha
 * (the pixels may be transparent), speed (libaom's cpu-used, 0..9 for all-intra).
 */
Sink *avif_encoder_create(const double *args, Sink *next) {
  (void)next;
  const int w = (int)args[0], h = (int)args[1];
  /* AV1's frame size fields hold 16 bits a side. */
  if (w > 65536 || h > 65536) failf(FAIL_UNSUPPORTED, "avif: %dx%d is larger than AV1's 65536 pixels a side", w, h);
  AvifEncoder *encoder = sink_new(sizeof(AvifEncoder), &ENCODER_OPS, NULL, w, h, w, h);
  encoder->quantizer = (int)args[2];
  encoder->alpha = args[3] != 0;
  encoder->speed = (int)args[4];
  if (encoder->quantizer < 0 || encoder->quantizer > 63) fail(FAIL_BAD_ARGUMENT, "avif: quantizer out of range");
  encoder->picture = aom_img_alloc(NULL, AOM_IMG_FMT_I420, (unsigned)w, (unsigned)h, 16);
  if (!encoder->picture) fail(FAIL_OUT_OF_MEMORY, "out of memory");
  encoder->picture->range = AOM_CR_FULL_RANGE;
  encoder->picture->cp = AOM_CICP_CP_BT_709;
  encoder->picture->tc = AOM_CICP_TC_SRGB;
  encoder->picture->mc = AOM_CICP_MC_BT_601;
  encoder->chroma_sums = checked_calloc((size_t)(w + 1) / 2 * 3, sizeof(int32_t));
  if (encoder->alpha) {
    const int even_w = (w + 1) & ~1, even_h = (h + 1) & ~1;
    encoder->alpha_stride = (size_t)even_w;
    encoder->alpha_plane = checked_calloc((size_t)even_w * (size_t)even_h, 1);
  }
  return &encoder->base;
}
