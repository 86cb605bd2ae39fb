#ifndef ENGINE_PIPELINE_H
#define ENGINE_PIPELINE_H
/*
 * The strip pipeline. A run is a chain planned by JavaScript (src/engine/ops.ts): one decoder,
 * steps, one sink (an encoder, or a capture of the pixels). The decoder drives: it pushes rows, a
 * strip at a time, into the first step; every step hands rows on to the next as soon as it can
 * make them, holding only the rows it needs (a window for a blur, the taps of a resize, a band for
 * a rotation). Pixels are 8-bit RGBA with straight alpha, row after row.
 *
 * A step that must see its whole input before its first output row (a quarter turn, a mirror top
 * to bottom) holds one frame. When that frame would not fit, the planner asks for band passes:
 * the decoder and the steps before such a step run several times, and each pass the step keeps
 * one band of its output and hands it on; the steps after it and the sink see one frame, as usual.
 *
 * Animated sources push frame after frame; every step starts afresh at each frame's begin.
 */
#include <stddef.h>
#include <stdint.h>

#include "engine.h"

typedef struct {
  int width, height; /* the rows that follow: their width and how many */
  int delay_ms;      /* an animation frame's duration */
  int index;         /* 0 for the first (or only) frame */
} Frame;

typedef struct Sink Sink;

typedef struct {
  void (*begin)(Sink *self, const Frame *frame);
  /*
   * The next `count` rows of the frame, `stride` bytes apart. The receiver may change them in
   * place: whoever passes rows on no longer needs them. They are valid during the call only.
   */
  void (*rows)(Sink *self, uint8_t *rows, size_t stride, int count);
  void (*end)(Sink *self);
  /* After the last frame: flush everything (an encoder writes its trailer). */
  void (*finish)(Sink *self);
  /* Frees what the sink holds; never the next sink (the pipeline destroys every sink itself). */
  void (*destroy)(Sink *self);
} SinkOps;

struct Sink {
  const SinkOps *ops;
  Sink *next;
  int op_index;        /* which op of the plan made it (for timings) */
  double inclusive_ms; /* time spent in its calls, the calls it made to the sinks after it included */
  /* The frame this sink receives (its input) and the frame it hands on (its output). */
  int in_width, in_height;
  int out_width, out_height;
};

/* A clock in milliseconds (performance.now): every call into a sink is timed, for Server-Timing. */
IMPORT("engine_now") extern double engine_now(void);

#define TIMED(sink, call)                      \
  do {                                         \
    double started_ = engine_now();            \
    call;                                      \
    (sink)->inclusive_ms += engine_now() - started_; \
  } while (0)

static inline void sink_begin(Sink *sink, const Frame *frame) { TIMED(sink, sink->ops->begin(sink, frame)); }
static inline void sink_rows(Sink *sink, uint8_t *rows, size_t stride, int count) {
  if (count > 0) TIMED(sink, sink->ops->rows(sink, rows, stride, count));
}
static inline void sink_end(Sink *sink) { TIMED(sink, sink->ops->end(sink)); }
static inline void sink_finish(Sink *sink) { TIMED(sink, sink->ops->finish(sink)); }

/* Allocates a sink of `size` bytes (a struct that starts with Sink) and records it for destroy. */
void *sink_new(size_t size, const SinkOps *ops, Sink *next, int in_width, int in_height, int out_width,
               int out_height);

/* Checks that a frame is the size the plan gave this sink. */
void sink_expect(const Sink *sink, const Frame *frame);
/* Begins the next sink's frame: this frame at this sink's output size. */
void sink_forward_begin(Sink *sink, const Frame *frame);
/* Hands on the end of the frame, and the finish. */
void sink_forward_end(Sink *sink);
void sink_forward_finish(Sink *sink);
void sink_destroy_nothing(Sink *sink);

/* ---- the run ---- */

/* One operation of a plan: its code and up to 15 arguments (numbers, or pointers into memory). */
typedef struct {
  double code;
  double args[15];
} Op;

/* Op codes: keep in step with src/engine/ops.ts. */
enum {
  /* decoders */
  OP_DECODE_JPEG = 1,
  OP_DECODE_RASTER = 2,
  OP_DECODE_PNG = 3,
  OP_DECODE_WEBP = 4,
  OP_DECODE_GIF = 5,
  OP_DECODE_BMP = 6,
  OP_DECODE_AVIF = 7,
  OP_DECODE_HEIC = 8,
  OP_DECODE_TIFF = 9,
  /* steps */
  OP_RESIZE = 20,
  OP_CROP = 21,
  OP_PLACE = 22,
  OP_ORIENT = 23,
  OP_ROTATE = 24,
  OP_BLUR = 25,
  OP_SHARPEN = 26,
  OP_BRIGHT = 27,
  OP_CONTRAST = 28,
  OP_ROUNDED_CORNERS = 29,
  OP_WATERMARK = 30,
  OP_RESTRIP = 31,
  OP_COLOR = 32,
  /* sinks */
  OP_ENCODE_JPEG = 50,
  OP_ENCODE_PNG = 51,
  OP_ENCODE_WEBP = 52,
  OP_ENCODE_GIF = 53,
  OP_ENCODE_BMP = 54,
  OP_ENCODE_AVIF = 55,
  OP_CAPTURE = 60,
  OP_MEAN = 61,
};

/* What a run shares between its stages. */
typedef struct {
  /* Cleared by a step that needs no more input rows in this pass: decoders stop there. */
  int wants_rows;
  int pass, passes;
  /*
   * What the decoder found, for the stages after it; set before its first frame begins and valid
   * until the run ends. An animation's loop count (0 loops forever, -1 plays once); a palette
   * source's colours (RGBA, `palette_size` of them) so an encoder may keep the palette when no
   * step changed a colour; the source's ICC profile.
   */
  int loop_count;
  const uint8_t *palette;
  int palette_size;
  const uint8_t *icc;
  int icc_size;
  /* The rows hold CMYK inks in the RGBA slots (colour management converts them), Adobe's inverted ones when set. */
  int cmyk;
  int cmyk_inverted;
  /* Set by the sink of a capture or a report: what JavaScript reads after the run. */
  void *result;
  double result_values[4];
} Run;

extern Run run_state;

/* The rows a decoder should push next: it stops when this turns false. */
static inline int run_wants_rows(void) { return run_state.wants_rows; }

/* ---- constructors, one per op (steps/<action>.c, codecs/<format>.c) ---- */

typedef Sink *(*StepCreate)(const double *args, Sink *next);
typedef void (*Decode)(const double *args, Sink *first);

Sink *resize_create(const double *args, Sink *next);
Sink *crop_create(const double *args, Sink *next);
Sink *place_create(const double *args, Sink *next);
Sink *orient_create(const double *args, Sink *next);
Sink *rotate_create(const double *args, Sink *next);
Sink *blur_create(const double *args, Sink *next);
Sink *sharpen_create(const double *args, Sink *next);
Sink *bright_create(const double *args, Sink *next);
Sink *contrast_create(const double *args, Sink *next);
Sink *rounded_corners_create(const double *args, Sink *next);
Sink *watermark_create(const double *args, Sink *next);
Sink *restrip_create(const double *args, Sink *next);

Sink *color_create(const double *args, Sink *next);

Sink *jpeg_encoder_create(const double *args, Sink *next);
Sink *png_encoder_create(const double *args, Sink *next);
Sink *webp_encoder_create(const double *args, Sink *next);
Sink *gif_encoder_create(const double *args, Sink *next);
Sink *bmp_encoder_create(const double *args, Sink *next);
Sink *avif_encoder_create(const double *args, Sink *next);
Sink *capture_create(const double *args, Sink *next);
Sink *mean_create(const double *args, Sink *next);

void jpeg_decode(const double *args, Sink *first);
void png_decode(const double *args, Sink *first);
void webp_decode(const double *args, Sink *first);
void gif_decode(const double *args, Sink *first);
void bmp_decode(const double *args, Sink *first);
void avif_decode(const double *args, Sink *first);
void heic_decode(const double *args, Sink *first);
void tiff_decode(const double *args, Sink *first);
void raster_decode(const double *args, Sink *first);

/* A step that holds a whole frame may run in band passes (orient.c). */
int orient_band_passes(const double *args);

/* ---- helpers for stages ---- */

/* A buffer of `rows` rows of `width` RGBA pixels. */
typedef struct {
  uint8_t *data;
  int width, rows;
  size_t stride;
} Rows;

void rows_alloc(Rows *rows, int width, int count);
void rows_free(Rows *rows);
static inline uint8_t *rows_at(const Rows *rows, int row) { return rows->data + (size_t)row * rows->stride; }

static inline uint8_t clamp_byte(int value) { return value < 0 ? 0 : value > 255 ? 255 : (uint8_t)value; }

#endif
