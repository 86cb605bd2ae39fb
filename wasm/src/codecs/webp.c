/*
 * WebP through libwebp.
 *
 * Decoding. The file is read into memory once (libwebp's decoders parse their bitstream from one
 * buffer; the planner counts it). Still images run libwebp's own decoders with our output hooks,
 * so rows leave the decoder as it makes them, through a strip of a few rows, never a whole frame:
 *   - lossy (VP8): libwebp's YUV-to-RGB emitters (fancy upsampling, alpha, its rescaler) write
 *     each macroblock row's output into the strip, and the rows go on to the pipeline at once;
 *     the decoder itself holds a few macroblock rows (and the alpha plane, when there is one);
 *   - lossless (VP8L): the decoder must keep the whole ARGB picture for its backward references
 *     (4 bytes a pixel, counted by the planner); a hook patched into libwebp (wasm/libs/webp.sh)
 *     hands each batch of converted rows over from a strip.
 * Both can crop and scale while decoding (libwebp's rescaler, an area average), which is what
 * keeps a thumbnail of a large image cheap. Animations go through WebPAnimDecoder, which
 * composites every frame onto one canvas (two canvases held); each canvas is pushed as a frame
 * with its duration. An ICCP chunk is handed to colour management (steps/color.c).
 *
 * Encoding needs the whole picture (libwebp analyses and codes it as a whole): rows are converted
 * as they arrive into the picture at the encoder's own size (YUV 4:2:0 and alpha for lossy, ARGB
 * for lossless), never an RGBA frame besides. Animated output goes through WebPAnimEncoder.
 */
#include <stdlib.h>
#include <string.h>

#include "../pipeline.h"
#include "src/dec/vp8i_dec.h"
#include "src/dec/vp8li_dec.h"
#include "src/dec/webpi_dec.h"
#include "webp/decode.h"
#include "webp/demux.h"
#include "webp/encode.h"
#include "webp/mux.h"

#define IO_CHUNK 65536
/*
 * Rows one call of libwebp's emitters can write: a macroblock row (16) plus the rows the loop
 * filter held back from the row before (at most 8), plus the row the fancy upsampler keeps back;
 * the lossless decoder emits at most 16 at a time. Rescaled output is never more.
 */
#define STRIP_ROWS 32

static const char *status_text(VP8StatusCode status) {
  switch (status) {
    case VP8_STATUS_OUT_OF_MEMORY: return "out of memory";
    case VP8_STATUS_INVALID_PARAM: return "invalid parameter";
    case VP8_STATUS_BITSTREAM_ERROR: return "bitstream error";
    case VP8_STATUS_UNSUPPORTED_FEATURE: return "unsupported feature";
    case VP8_STATUS_SUSPENDED: return "suspended";
    case VP8_STATUS_USER_ABORT: return "aborted";
    case VP8_STATUS_NOT_ENOUGH_DATA: return "truncated data";
    default: return "error";
  }
}

static _Noreturn void fail_status(VP8StatusCode status, const char *what) {
  failf(status == VP8_STATUS_OUT_OF_MEMORY ? FAIL_OUT_OF_MEMORY : FAIL_DAMAGED, "webp: %s (%s)", what,
        status_text(status));
}

/* The whole source in engine memory. */
static uint8_t *read_source(int source, size_t *size) {
  Stream stream;
  stream_open(&stream, source);
  if (stream.size <= 0) fail(FAIL_DAMAGED, "webp: the file is empty");
  uint8_t *data = checked_malloc((size_t)stream.size);
  int got = 0;
  while (got < stream.size) {
    int count = stream_read(&stream, data + got, stream.size - got < IO_CHUNK ? stream.size - got : IO_CHUNK);
    if (count <= 0) break;
    got += count;
  }
  *size = (size_t)got;
  return data;
}

/* ---- still images ---- */

typedef struct {
  WebPDecParams params; /* first: libwebp's emitters take io->opaque as their WebPDecParams */
  WebPDecBuffer output;
  WebPDecoderOptions options;
  Rows strip;
  Sink *first;
  VP8IoPutHook emit; /* libwebp's own put (io_dec.c), which writes into `output` */
  int stopped;       /* the pipeline needed no more rows */
} Still;

static void push_rows(Still *still, int count) {
  if (count <= 0) return;
  if (count > STRIP_ROWS) fail(FAIL_BAD_ARGUMENT, "webp: more rows at once than the strip holds");
  sink_rows(still->first, still->strip.data, still->strip.stride, count);
}

/*
 * Lossy rows: libwebp's emitters write output row y at output.rgba + y * stride, the rows in
 * order from params.last_y. Pointing the buffer at strip - last_y * stride lands this call's rows
 * at the top of the strip (libwebp only ever adds offsets from last_y on); they go on from there.
 */
static int lossy_put(const VP8Io *io) {
  Still *still = (Still *)io->opaque;
  if (!run_wants_rows()) {
    still->stopped = 1;
    return 0;
  }
  int before = still->params.last_y;
  still->output.u.RGBA.rgba = still->strip.data - (ptrdiff_t)before * (ptrdiff_t)still->strip.stride;
  if (!still->emit(io)) return 0;
  push_rows(still, still->params.last_y - before);
  return 1;
}

/* Lossless rows, written at the top of the strip by the hook patched into libwebp. */
static int lossless_rows(void *opaque, int y, int count) {
  Still *still = opaque;
  (void)y;
  if (!run_wants_rows()) {
    still->stopped = 1;
    return 0;
  }
  push_rows(still, count);
  if (!run_wants_rows()) still->stopped = 1;
  return !still->stopped;
}

/*
 * args (still): crop x, y, w, h of the stored image (x, y even: libwebp snaps lossy crops to the
 * chroma grid), then the size to scale the crop to (0, 0: not scaled).
 */
static void decode_still(const uint8_t *data, size_t size, const double *args, Sink *first) {
  WebPHeaderStructure headers;
  memset(&headers, 0, sizeof(headers));
  headers.data = data;
  headers.data_size = size;
  headers.have_all_data = 1;
  VP8StatusCode status = WebPParseHeaders(&headers);
  if (status != VP8_STATUS_OK) fail_status(status, "cannot read the headers");

  Still *still = checked_calloc(1, sizeof(Still));
  still->first = first;
  WebPResetDecParams(&still->params);
  WebPInitDecBuffer(&still->output);
  memset(&still->options, 0, sizeof(still->options));
  int x = (int)args[2], y = (int)args[3], w = (int)args[4], h = (int)args[5];
  int sw = (int)args[6], sh = (int)args[7];
  still->options.use_cropping = 1;
  still->options.crop_left = x;
  still->options.crop_top = y;
  still->options.crop_width = w;
  still->options.crop_height = h;
  if (sw > 0 && sh > 0) {
    still->options.use_scaling = 1;
    still->options.scaled_width = sw;
    still->options.scaled_height = sh;
  } else {
    sw = w;
    sh = h;
  }
  rows_alloc(&still->strip, sw, STRIP_ROWS);
  still->output.colorspace = MODE_RGBA;
  still->output.is_external_memory = 1;
  still->output.width = sw;
  still->output.height = sh;
  still->output.u.RGBA.rgba = still->strip.data;
  still->output.u.RGBA.stride = (int)still->strip.stride;
  still->output.u.RGBA.size = still->strip.stride * STRIP_ROWS;
  still->params.output = &still->output;
  still->params.options = &still->options;

  VP8Io io;
  VP8InitIo(&io);
  io.data = headers.data + headers.offset;
  io.data_size = headers.data_size - headers.offset;
  WebPInitCustomIo(&still->params, &io);
  io.opaque = still;

  Frame frame = {sw, sh, 0, 0};
  int ok;
  if (!headers.is_lossless) {
    VP8Decoder *dec = VP8New();
    if (!dec) fail(FAIL_OUT_OF_MEMORY, "out of memory");
    dec->alpha_data_ = headers.alpha_data;
    dec->alpha_data_size_ = headers.alpha_data_size;
    if (!VP8GetHeaders(dec, &io)) fail_status(dec->status_, "cannot read the frame header");
    if (!WebPCheckCropDimensions(io.width, io.height, x, y, w, h)) {
      failf(FAIL_DAMAGED, "webp: the %dx%d bitstream does not hold the header's image", io.width, io.height);
    }
    still->emit = io.put;
    io.put = lossy_put;
    sink_begin(first, &frame);
    ok = VP8Decode(dec, &io);
    status = dec->status_;
    VP8Delete(dec);
  } else {
    VP8LDecoder *dec = VP8LNew();
    if (!dec) fail(FAIL_OUT_OF_MEMORY, "out of memory");
    if (!VP8LDecodeHeader(dec, &io)) fail_status(dec->status_, "cannot read the lossless header");
    if (!WebPCheckCropDimensions(io.width, io.height, x, y, w, h)) {
      failf(FAIL_DAMAGED, "webp: the %dx%d bitstream does not hold the header's image", io.width, io.height);
    }
    dec->emit_rows_ = lossless_rows;
    dec->emit_opaque_ = still;
    /* VP8LDecodeImage reads its parameters from io->opaque as a WebPDecParams. */
    sink_begin(first, &frame);
    ok = VP8LDecodeImage(dec);
    status = dec->status_;
    VP8LDelete(dec);
  }
  if (!ok && !still->stopped) fail_status(status, "the image data is damaged");
  rows_free(&still->strip);
  free(still);
  sink_end(first);
  sink_finish(first);
}

/* ---- animations ---- */

/*
 * WebP's loop count is how many times the animation plays (0: forever); the run's is GIF's, how
 * many times it repeats (-1: plays once).
 */
static int run_loop_count(uint32_t webp_loops) {
  if (webp_loops == 0) return 0;
  return webp_loops == 1 ? -1 : (int)webp_loops - 1;
}

/* args (animated): crop x, y, w, h of the canvas; frames to push (the first only, or all). */
static void decode_animation(const uint8_t *data, size_t size, const double *args, Sink *first) {
  WebPAnimDecoderOptions options;
  if (!WebPAnimDecoderOptionsInit(&options)) fail(FAIL_BAD_ARGUMENT, "webp: animation decoder version");
  options.color_mode = MODE_RGBA;
  options.use_threads = 0;
  WebPData webp = {data, size};
  WebPAnimDecoder *decoder = WebPAnimDecoderNew(&webp, &options);
  if (!decoder) fail(FAIL_DAMAGED, "webp: the animation cannot be read");
  WebPAnimInfo info;
  if (!WebPAnimDecoderGetInfo(decoder, &info)) fail(FAIL_DAMAGED, "webp: the animation cannot be read");
  int x = (int)args[2], y = (int)args[3], w = (int)args[4], h = (int)args[5];
  int limit = (int)args[8];
  if (x < 0 || y < 0 || w <= 0 || h <= 0 || x + w > (int)info.canvas_width || y + h > (int)info.canvas_height) {
    failf(FAIL_DAMAGED, "webp: the %ux%u canvas is not the header's", info.canvas_width, info.canvas_height);
  }
  run_state.loop_count = limit == 1 ? -1 : run_loop_count(info.loop_count);
  const size_t stride = (size_t)info.canvas_width * 4;
  int previous = 0;
  for (int index = 0; index < limit && WebPAnimDecoderHasMoreFrames(decoder); index++) {
    uint8_t *canvas;
    int timestamp;
    if (!WebPAnimDecoderGetNext(decoder, &canvas, &timestamp)) {
      failf(FAIL_DAMAGED, "webp: frame %d of the animation is damaged", index + 1);
    }
    Frame frame = {w, h, timestamp - previous, index};
    previous = timestamp;
    run_state.wants_rows = 1;
    sink_begin(first, &frame);
    /* The canvas is the decoder's; steps may change rows in place, so each goes through a copy. */
    uint8_t *copy = checked_malloc((size_t)w * 4 * STRIP_ROWS);
    for (int row = 0; row < h && run_wants_rows();) {
      int count = h - row < STRIP_ROWS ? h - row : STRIP_ROWS;
      for (int i = 0; i < count; i++) {
        memcpy(copy + (size_t)i * w * 4, canvas + (size_t)(y + row + i) * stride + (size_t)x * 4, (size_t)w * 4);
      }
      sink_rows(first, copy, (size_t)w * 4, count);
      row += count;
    }
    free(copy);
    sink_end(first);
  }
  WebPAnimDecoderDelete(decoder);
  sink_finish(first);
}

/*
 * args: source, 1 for an animation (WebPAnimDecoder), then the still or animation arguments
 * (decode_still, decode_animation). The ICC profile of an ICCP chunk goes to colour management.
 */
void webp_decode(const double *args, Sink *first) {
  size_t size;
  uint8_t *data = read_source((int)args[0], &size);
  WebPData webp = {data, size};
  WebPDemuxer *demux = WebPDemux(&webp);
  if (!demux) fail(FAIL_DAMAGED, "webp: the container is damaged");
  WebPChunkIterator chunk;
  if ((WebPDemuxGetI(demux, WEBP_FF_FORMAT_FLAGS) & ICCP_FLAG) && WebPDemuxGetChunk(demux, "ICCP", 1, &chunk)) {
    run_state.icc = chunk.chunk.bytes;
    run_state.icc_size = (int)chunk.chunk.size;
    WebPDemuxReleaseChunkIterator(&chunk);
  }
  const int animated = (WebPDemuxGetI(demux, WEBP_FF_FORMAT_FLAGS) & ANIMATION_FLAG) != 0;
  WebPDemuxDelete(demux);
  /* The planner read the chunks; libwebp reads the flags: a file where they disagree is damaged. */
  if ((args[1] != 0) != animated) fail(FAIL_DAMAGED, "webp: the animation flag and the chunks disagree");
  if (animated) {
    decode_animation(data, size, args, first);
  } else {
    decode_still(data, size, args, first);
  }
  run_state.icc = NULL;
  run_state.icc_size = 0;
  free(data);
}

/* ---- encoder ---- */

typedef struct {
  Sink base;
  WebPConfig config;
  WebPPicture picture;
  int lossless, alpha, animated;
  int row;                  /* the next row of the frame */
  /* Lossy: rows wait here in pairs of strips, so that 2x2 chroma blocks never straddle a batch. */
  Rows pending;
  int pending_rows;
  WebPAnimEncoder *animation;
  int timestamp;  /* when the frame being received starts, in ms */
  int last_delay; /* the duration of the frame before it */
  int frames;
  /* Encoded bytes, handed to JavaScript a chunk at a time. */
  uint8_t *out;
  size_t out_used;
} WebpEncoder;

#define PENDING_ROWS 16

static void flush_output(WebpEncoder *encoder) {
  if (encoder->out_used) output_write(encoder->out, (int)encoder->out_used);
  encoder->out_used = 0;
}

static int write_output(const uint8_t *bytes, size_t size, const WebPPicture *picture) {
  WebpEncoder *encoder = picture->custom_ptr;
  while (size > 0) {
    size_t room = IO_CHUNK - encoder->out_used;
    size_t count = size < room ? size : room;
    memcpy(encoder->out + encoder->out_used, bytes, count);
    encoder->out_used += count;
    bytes += count;
    size -= count;
    if (encoder->out_used == IO_CHUNK) flush_output(encoder);
  }
  return 1;
}

static const char *encoding_error(WebPEncodingError error) {
  switch (error) {
    case VP8_ENC_ERROR_OUT_OF_MEMORY:
    case VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY: return "out of memory";
    case VP8_ENC_ERROR_BAD_DIMENSION: return "bad dimension";
    case VP8_ENC_ERROR_PARTITION0_OVERFLOW: return "partition 0 overflow (quality too high for the image)";
    case VP8_ENC_ERROR_PARTITION_OVERFLOW: return "partition overflow";
    case VP8_ENC_ERROR_FILE_TOO_BIG: return "file too big";
    default: return "encoding failed";
  }
}

static _Noreturn void fail_encoding(const WebPPicture *picture) {
  int oom = picture->error_code == VP8_ENC_ERROR_OUT_OF_MEMORY ||
            picture->error_code == VP8_ENC_ERROR_BITSTREAM_OUT_OF_MEMORY;
  failf(oom ? FAIL_OUT_OF_MEMORY : FAIL_UNSUPPORTED, "webp encoder: %s", encoding_error(picture->error_code));
}

/* Converts the pending RGBA rows into the picture's YUV (and alpha) planes, with libwebp's own conversion. */
static void convert_pending(WebpEncoder *encoder) {
  int count = encoder->pending_rows;
  if (count == 0) return;
  WebPPicture *target = &encoder->picture;
  const int w = target->width;
  WebPPicture part;
  if (!WebPPictureInit(&part)) fail(FAIL_BAD_ARGUMENT, "webp: encoder version");
  part.width = w;
  part.height = count;
  if (!WebPPictureImportRGBA(&part, encoder->pending.data, (int)encoder->pending.stride)) fail_encoding(&part);
  const int y0 = encoder->row - count; /* even: batches are even until the last */
  for (int i = 0; i < count; i++) {
    memcpy(target->y + (size_t)(y0 + i) * target->y_stride, part.y + (size_t)i * part.y_stride, (size_t)w);
    if (target->a) {
      uint8_t *a = target->a + (size_t)(y0 + i) * target->a_stride;
      if (part.a) {
        memcpy(a, part.a + (size_t)i * part.a_stride, (size_t)w);
      } else {
        memset(a, 255, (size_t)w);
      }
    }
  }
  const int uw = (w + 1) / 2;
  for (int i = 0; i < (count + 1) / 2; i++) {
    memcpy(target->u + (size_t)(y0 / 2 + i) * target->uv_stride, part.u + (size_t)i * part.uv_stride, (size_t)uw);
    memcpy(target->v + (size_t)(y0 / 2 + i) * target->uv_stride, part.v + (size_t)i * part.uv_stride, (size_t)uw);
  }
  WebPPictureFree(&part);
  encoder->pending_rows = 0;
}

static void picture_alloc(WebpEncoder *encoder, int w, int h) {
  WebPPicture *picture = &encoder->picture;
  if (!WebPPictureInit(picture)) fail(FAIL_BAD_ARGUMENT, "webp: encoder version");
  picture->width = w;
  picture->height = h;
  /* Animations take ARGB frames (WebPAnimEncoder converts each sub-frame itself). */
  picture->use_argb = encoder->lossless || encoder->animated;
  picture->colorspace = encoder->alpha && !picture->use_argb ? WEBP_YUV420A : WEBP_YUV420;
  picture->writer = write_output;
  picture->custom_ptr = encoder;
  if (!WebPPictureAlloc(picture)) fail(FAIL_OUT_OF_MEMORY, "out of memory");
}

static void encoder_begin(Sink *sink, const Frame *frame) {
  WebpEncoder *encoder = (WebpEncoder *)sink;
  sink_expect(sink, frame);
  if (encoder->frames > 0 && !encoder->animated) fail(FAIL_BAD_ARGUMENT, "webp: one frame only");
  if (!encoder->picture.width) picture_alloc(encoder, sink->in_width, sink->in_height);
  encoder->row = 0;
  encoder->pending_rows = 0;
}

static void encoder_rows(Sink *sink, uint8_t *rows, size_t stride, int count) {
  WebpEncoder *encoder = (WebpEncoder *)sink;
  WebPPicture *picture = &encoder->picture;
  const int w = sink->in_width;
  for (int i = 0; i < count && encoder->row < sink->in_height; i++) {
    const uint8_t *p = rows + (size_t)i * stride;
    if (picture->use_argb) {
      uint32_t *argb = picture->argb + (size_t)encoder->row * picture->argb_stride;
      for (int x = 0; x < w; x++, p += 4) {
        uint8_t alpha = encoder->alpha ? p[3] : 255;
        argb[x] = (uint32_t)alpha << 24 | (uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2];
      }
    } else {
      uint8_t *target = rows_at(&encoder->pending, encoder->pending_rows++);
      memcpy(target, p, (size_t)w * 4);
      if (!encoder->alpha) {
        for (int x = 0; x < w; x++) target[x * 4 + 3] = 255;
      }
    }
    encoder->row++;
    if (encoder->pending_rows == PENDING_ROWS) convert_pending(encoder);
  }
}

static void encoder_end(Sink *sink) {
  WebpEncoder *encoder = (WebpEncoder *)sink;
  convert_pending(encoder);
  if (encoder->animated) {
    if (!WebPAnimEncoderAdd(encoder->animation, &encoder->picture, encoder->timestamp, &encoder->config)) {
      failf(FAIL_UNSUPPORTED, "webp encoder: %s", WebPAnimEncoderGetError(encoder->animation));
    }
  }
  encoder->frames++;
}

static void encoder_finish(Sink *sink) {
  WebpEncoder *encoder = (WebpEncoder *)sink;
  encoder->out = checked_malloc(IO_CHUNK);
  if (!encoder->animated) {
    if (!WebPEncode(&encoder->config, &encoder->picture)) fail_encoding(&encoder->picture);
    WebPPictureFree(&encoder->picture);
  } else {
    WebPPictureFree(&encoder->picture);
    if (!WebPAnimEncoderAdd(encoder->animation, NULL, encoder->timestamp + encoder->last_delay, NULL)) {
      failf(FAIL_UNSUPPORTED, "webp encoder: %s", WebPAnimEncoderGetError(encoder->animation));
    }
    WebPData assembled;
    WebPDataInit(&assembled);
    if (!WebPAnimEncoderAssemble(encoder->animation, &assembled)) {
      failf(FAIL_UNSUPPORTED, "webp encoder: %s", WebPAnimEncoderGetError(encoder->animation));
    }
    WebPAnimEncoderDelete(encoder->animation);
    encoder->animation = NULL;
    for (size_t at = 0; at < assembled.size; at += IO_CHUNK) {
      size_t count = assembled.size - at < IO_CHUNK ? assembled.size - at : IO_CHUNK;
      output_write(assembled.bytes + at, (int)count);
    }
    WebPDataClear(&assembled);
  }
  flush_output(encoder);
}

static void encoder_destroy(Sink *sink) {
  WebpEncoder *encoder = (WebpEncoder *)sink;
  WebPPictureFree(&encoder->picture);
  if (encoder->animation) WebPAnimEncoderDelete(encoder->animation);
  rows_free(&encoder->pending);
  free(encoder->out);
}

static const SinkOps ENCODER_OPS = {encoder_begin, encoder_rows, encoder_end, encoder_finish, encoder_destroy};

static void animation_rows_begin(Sink *sink, const Frame *frame);
static const SinkOps ANIMATED_OPS = {animation_rows_begin, encoder_rows, encoder_end, encoder_finish,
                                     encoder_destroy};

static void animation_rows_begin(Sink *sink, const Frame *frame) {
  WebpEncoder *encoder = (WebpEncoder *)sink;
  if (encoder->frames == 0) {
    WebPAnimEncoderOptions options;
    if (!WebPAnimEncoderOptionsInit(&options)) fail(FAIL_BAD_ARGUMENT, "webp: encoder version");
    /* The run's loop count is GIF's (repeats; -1 plays once), WebP's how many times it plays. */
    int loops = run_state.loop_count;
    options.anim_params.loop_count = loops < 0 ? 1 : loops == 0 ? 0 : loops + 1;
    options.allow_mixed = 0;
    options.minimize_size = 0;
    encoder->animation = WebPAnimEncoderNew(sink->in_width, sink->in_height, &options);
    if (!encoder->animation) fail(FAIL_OUT_OF_MEMORY, "out of memory");
  } else {
    encoder->timestamp += encoder->last_delay;
  }
  /* Durations arrive with each frame; WebPAnimEncoder wants start times (and the end, at finish). */
  encoder->last_delay = frame->delay_ms;
  encoder_begin(sink, frame);
}

/*
 * args: w, h, quality (1..100), lossless, alpha (the pixels may be transparent), animated (the
 * run pushes frames), method (libwebp's effort, 0..6). WebP stores sides up to 16383.
 */
Sink *webp_encoder_create(const double *args, Sink *next) {
  (void)next;
  int w = (int)args[0], h = (int)args[1];
  if (w > WEBP_MAX_DIMENSION || h > WEBP_MAX_DIMENSION) {
    failf(FAIL_UNSUPPORTED, "webp: %dx%d is larger than WebP's %d pixels a side", w, h, WEBP_MAX_DIMENSION);
  }
  const int animated = args[5] != 0;
  WebpEncoder *encoder = sink_new(sizeof(WebpEncoder), animated ? &ANIMATED_OPS : &ENCODER_OPS, NULL, w, h, w, h);
  encoder->lossless = args[3] != 0;
  encoder->alpha = args[4] != 0;
  encoder->animated = animated;
  if (!WebPConfigInit(&encoder->config)) fail(FAIL_BAD_ARGUMENT, "webp: encoder version");
  encoder->config.quality = (float)args[2];
  encoder->config.lossless = encoder->lossless;
  encoder->config.method = (int)args[6];
  encoder->config.thread_level = 0;
  /*
   * Without it, the lossy encoder keeps every coefficient token of the picture for its rate
   * statistics (about 4 bytes a pixel at 12 MP, q85) and codes them at the end; with it, it codes
   * each macroblock row as it goes, the same way (only a little slower).
   */
  encoder->config.low_memory = 1;
  if (!WebPValidateConfig(&encoder->config)) fail(FAIL_BAD_ARGUMENT, "webp: invalid encoder settings");
  if (!encoder->lossless && !animated) rows_alloc(&encoder->pending, w, PENDING_ROWS);
  return &encoder->base;
}
