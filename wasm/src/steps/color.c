/*
 * Colour management (Decision 21): rows from the source's colour space to sRGB with Little CMS,
 * perceptual intent (the ICC default, as sharp and browsers use), so every browser shows the right
 * colours; encoders then write no profile. The decoder hands over what it found in
 * run_state (the embedded ICC profile; for CMYK JPEGs the inks and whether they are Adobe's
 * inverted ones); this stage reads it when the first frame begins.
 *
 * - RGB with a profile: transformed in place (alpha copied). Profiles equivalent to sRGB (same
 *   colorants and tone curves, as most cameras embed) are left alone: nothing to do, no time spent.
 * - Grey with a grey profile: through a 256-entry table, the tone curve's.
 * - CMYK (the decoder pushes inks in the RGBA slots): the embedded CMYK profile, or the default one
 *   compiled in (wasm/profiles/FOGRA39-coated-input.icc), Adobe's inversion honoured.
 * - No profile on RGB or grey: sRGB is assumed, nothing to do. A profile Little CMS cannot read,
 *   or one that does not fit the pixels, converts nothing and says so in a log line (CMYK inks
 *   then go through the default CMYK profile: left as they are, they would not be colours at all).
 *
 * Transforms take milliseconds to build, so the last few are kept for the next runs (by the
 * profile's bytes): the thumbnail of a P3 photo then costs the conversion of its few pixels only.
 *
 * args: w, h.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../pipeline.h"
#include "lcms2.h"

extern const unsigned char DEFAULT_CMYK_PROFILE[];
extern const unsigned int DEFAULT_CMYK_PROFILE_SIZE;

typedef enum { PASS, TRANSFORM, MATRIX_SHAPER, GREY_TABLE } Mode;

/*
 * RGB profiles made of three tone curves and a matrix (Display P3, Adobe RGB: "matrix-shaper"
 * profiles, nearly every photo's) convert by tables: each 8-bit value to linear light (16 bits),
 * one 3×3 matrix from the profile's colorants to sRGB's, and linear light (14 bits) to 8-bit sRGB.
 * That is about ten operations a pixel, several times faster than Little CMS's general path on a
 * full-size photo. It is only used when it gives Little CMS's own answer (within one level) on a
 * 9×9×9 grid of colours, checked when it is built.
 */
#define LINEAR_STEPS 16384
typedef struct {
  int32_t linear[3][256];      /* input value -> linear light, 0..65535 */
  int32_t matrix[9];           /* profile RGB -> sRGB linear, 16 fraction bits, rows */
  uint8_t encode[LINEAR_STEPS]; /* linear light (14 bits) -> sRGB value */
} MatrixShaper;

typedef struct {
  Sink base;
  Mode mode;
  cmsHTRANSFORM transform; /* owned by the cache */
  const MatrixShaper *fast; /* owned by the cache; when set, used instead of the transform */
  int cmyk;                /* the rows hold inks: alpha is set opaque after the transform */
  uint8_t grey[256][3];
} Color;

/* ---- transforms kept between runs ---- */

#define CACHED_TRANSFORMS 3

typedef struct {
  uint32_t hash;
  uint32_t size;
  cmsUInt32Number input_format;
  cmsHTRANSFORM transform;
  MatrixShaper *fast;
  unsigned used;
} CachedTransform;

static CachedTransform cache[CACHED_TRANSFORMS];
static unsigned uses;

static uint32_t fnv1a(const uint8_t *bytes, size_t size) {
  uint32_t hash = 2166136261u;
  for (size_t i = 0; i < size; i++) hash = (hash ^ bytes[i]) * 16777619u;
  return hash;
}

/* lcms2's own messages: a profile it cannot use is reported by the caller, once, in plain words. */
static void quiet(cmsContext context, cmsUInt32Number code, const char *text) {
  (void)context;
  (void)code;
  (void)text;
}

static cmsHPROFILE srgb(void) {
  static cmsHPROFILE profile;
  if (!profile) profile = cmsCreate_sRGBProfile();
  return profile;
}

static inline void matrix_shaper_pixel(const MatrixShaper *m, uint8_t *p) {
  const int64_t r = m->linear[0][p[0]], g = m->linear[1][p[1]], b = m->linear[2][p[2]];
  for (int c = 0; c < 3; c++) {
    const int32_t *row = m->matrix + 3 * c;
    /* 16 + 16 fraction bits down to the table's 14. */
    int64_t value = (row[0] * r + row[1] * g + row[2] * b + (1 << 17)) >> 18;
    p[c] = m->encode[value < 0 ? 0 : value >= LINEAR_STEPS ? LINEAR_STEPS - 1 : value];
  }
}

/* Inverts a 3×3 matrix (rows); false when it is singular. */
static int invert3(const double a[9], double out[9]) {
  double det = a[0] * (a[4] * a[8] - a[5] * a[7]) - a[1] * (a[3] * a[8] - a[5] * a[6]) +
               a[2] * (a[3] * a[7] - a[4] * a[6]);
  if (fabs(det) < 1e-9) return 0;
  out[0] = (a[4] * a[8] - a[5] * a[7]) / det;
  out[1] = (a[2] * a[7] - a[1] * a[8]) / det;
  out[2] = (a[1] * a[5] - a[2] * a[4]) / det;
  out[3] = (a[5] * a[6] - a[3] * a[8]) / det;
  out[4] = (a[0] * a[8] - a[2] * a[6]) / det;
  out[5] = (a[2] * a[3] - a[0] * a[5]) / det;
  out[6] = (a[3] * a[7] - a[4] * a[6]) / det;
  out[7] = (a[1] * a[6] - a[0] * a[7]) / det;
  out[8] = (a[0] * a[4] - a[1] * a[3]) / det;
  return 1;
}

/* The colorants as a matrix from linear RGB to PCS XYZ (columns: red, green, blue). */
static int colorant_matrix(cmsHPROFILE profile, double out[9]) {
  const cmsTagSignature tags[3] = {cmsSigRedColorantTag, cmsSigGreenColorantTag, cmsSigBlueColorantTag};
  for (int c = 0; c < 3; c++) {
    const cmsCIEXYZ *xyz = cmsReadTag(profile, tags[c]);
    if (!xyz) return 0;
    out[c] = xyz->X;
    out[3 + c] = xyz->Y;
    out[6 + c] = xyz->Z;
  }
  return 1;
}

/* The tables for a matrix-shaper RGB profile, or NULL when they would not match `transform`. */
static MatrixShaper *matrix_shaper_for(cmsHPROFILE profile, cmsHTRANSFORM transform) {
  if (!cmsIsMatrixShaper(profile) || cmsGetColorSpace(profile) != cmsSigRgbData) return NULL;
  double source[9], target[9], inverse[9];
  if (!colorant_matrix(profile, source) || !colorant_matrix(srgb(), target) || !invert3(target, inverse))
    return NULL;
  MatrixShaper *m = malloc(sizeof(MatrixShaper));
  if (!m) return NULL;
  const cmsTagSignature curves[3] = {cmsSigRedTRCTag, cmsSigGreenTRCTag, cmsSigBlueTRCTag};
  for (int c = 0; c < 3; c++) {
    const cmsToneCurve *curve = cmsReadTag(profile, curves[c]);
    if (!curve) {
      free(m);
      return NULL;
    }
    for (int v = 0; v < 256; v++) {
      double linear = cmsEvalToneCurveFloat(curve, (cmsFloat32Number)(v / 255.0));
      m->linear[c][v] = (int32_t)lround((linear < 0 ? 0 : linear > 1 ? 1 : linear) * 65535.0);
    }
  }
  for (int row = 0; row < 3; row++) {
    for (int col = 0; col < 3; col++) {
      double sum = 0;
      for (int k = 0; k < 3; k++) sum += inverse[3 * row + k] * source[3 * k + col];
      m->matrix[3 * row + col] = (int32_t)lround(sum * 65536.0);
    }
  }
  /* sRGB's encoding (IEC 61966-2-1), the inverse of the sRGB profile's tone curve. */
  for (int i = 0; i < LINEAR_STEPS; i++) {
    double linear = (double)i / (LINEAR_STEPS - 1);
    double value = linear <= 0.0031308 ? 12.92 * linear : 1.055 * pow(linear, 1 / 2.4) - 0.055;
    m->encode[i] = (uint8_t)lround(value * 255.0);
  }
  /* Checked against Little CMS on a grid of colours: otherwise the general path is used. */
  enum { STEPS = 9, COUNT = STEPS * STEPS * STEPS };
  static uint8_t ours[COUNT * 4], theirs[COUNT * 4];
  for (int i = 0; i < COUNT; i++) {
    const int values[3] = {i % STEPS, i / STEPS % STEPS, i / (STEPS * STEPS)};
    for (int c = 0; c < 3; c++) ours[i * 4 + c] = theirs[i * 4 + c] = (uint8_t)(values[c] * 255 / (STEPS - 1));
    ours[i * 4 + 3] = theirs[i * 4 + 3] = 255;
    matrix_shaper_pixel(m, ours + i * 4);
  }
  cmsDoTransform(transform, theirs, theirs, COUNT);
  for (int i = 0; i < COUNT * 4; i++) {
    if (abs(ours[i] - theirs[i]) > 1) {
      free(m);
      return NULL;
    }
  }
  return m;
}

/* The cached transform for these profile bytes and input layout, built (and cached) when missing. */
static CachedTransform *transform_for(const uint8_t *icc, uint32_t size, cmsHPROFILE input,
                                      cmsUInt32Number input_format, cmsUInt32Number output_format,
                                      cmsUInt32Number flags) {
  uint32_t hash = fnv1a(icc, size);
  CachedTransform *oldest = &cache[0];
  for (int i = 0; i < CACHED_TRANSFORMS; i++) {
    CachedTransform *entry = &cache[i];
    if (entry->transform && entry->hash == hash && entry->size == size && entry->input_format == input_format) {
      entry->used = ++uses;
      return entry;
    }
    if (entry->used < oldest->used) oldest = entry;
  }
  cmsHTRANSFORM transform =
      cmsCreateTransform(input, input_format, srgb(), output_format, INTENT_PERCEPTUAL, flags);
  if (!transform) return NULL;
  if (oldest->transform) cmsDeleteTransform(oldest->transform);
  free(oldest->fast);
  MatrixShaper *fast = input_format == TYPE_RGBA_8 ? matrix_shaper_for(input, transform) : NULL;
  *oldest = (CachedTransform){hash, size, input_format, transform, fast, ++uses};
  return oldest;
}

/* ---- sRGB-equivalent profiles ---- */

static int close_xyz(const cmsCIEXYZ *a, const cmsCIEXYZ *b) {
  return fabs(a->X - b->X) < 0.002 && fabs(a->Y - b->Y) < 0.002 && fabs(a->Z - b->Z) < 0.002;
}

/* Same colorants and tone curves as sRGB: converting would change nothing visible. */
static int is_srgb_equivalent(cmsHPROFILE profile) {
  if (cmsGetColorSpace(profile) != cmsSigRgbData) return 0;
  const cmsTagSignature colorants[3] = {cmsSigRedColorantTag, cmsSigGreenColorantTag, cmsSigBlueColorantTag};
  const cmsTagSignature curves[3] = {cmsSigRedTRCTag, cmsSigGreenTRCTag, cmsSigBlueTRCTag};
  for (int c = 0; c < 3; c++) {
    const cmsCIEXYZ *ours = cmsReadTag(profile, colorants[c]);
    const cmsCIEXYZ *theirs = cmsReadTag(srgb(), colorants[c]);
    const cmsToneCurve *curve = cmsReadTag(profile, curves[c]);
    const cmsToneCurve *reference = cmsReadTag(srgb(), curves[c]);
    if (!ours || !theirs || !curve || !reference || !close_xyz(ours, theirs)) return 0;
    for (int step = 1; step < 16; step++) {
      cmsFloat32Number x = step / 16.0f;
      if (fabsf(cmsEvalToneCurveFloat(curve, x) - cmsEvalToneCurveFloat(reference, x)) > 0.002f) return 0;
    }
  }
  return 1;
}

/* ---- the stage ---- */

static void set_up(Color *color);

/* Falls back to the default CMYK profile for inks whose own profile cannot be used. */
static void set_up_default_cmyk(Color *color) {
  run_state.icc = NULL;
  run_state.icc_size = 0;
  set_up(color);
}

static void set_up(Color *color) {
  const uint8_t *icc = run_state.icc;
  uint32_t size = (uint32_t)run_state.icc_size;
  int cmyk = run_state.cmyk;
  color->mode = PASS;
  color->fast = NULL;
  color->cmyk = cmyk;
  if (!icc && !cmyk) return; /* sRGB assumed */
  const int default_profile = !icc;
  if (default_profile) {
    icc = DEFAULT_CMYK_PROFILE;
    size = DEFAULT_CMYK_PROFILE_SIZE;
  }
  cmsSetLogErrorHandler(quiet);
  cmsHPROFILE profile = cmsOpenProfileFromMem(icc, size);
  if (!profile) {
    if (default_profile) fail(FAIL_BAD_ARGUMENT, "colour: the default CMYK profile cannot be read");
    engine_warn(cmyk ? "colour: the embedded ICC profile cannot be read; the CMYK inks are converted by the default CMYK profile"
                     : "colour: the embedded ICC profile cannot be read; the colours are left as they are");
    if (cmyk) set_up_default_cmyk(color);
    return;
  }
  cmsColorSpaceSignature space = cmsGetColorSpace(profile);
  int fits = cmyk ? space == cmsSigCmykData : space == cmsSigRgbData || space == cmsSigGrayData;
  if (!fits) {
    engine_warn(cmyk ? "colour: the embedded ICC profile is not a CMYK one; the CMYK inks are converted by the default CMYK profile"
                     : "colour: the embedded ICC profile does not fit the image's colours; they are left as they are");
    cmsCloseProfile(profile);
    if (cmyk) set_up_default_cmyk(color);
    return;
  }
  if (!cmyk && is_srgb_equivalent(profile)) {
    cmsCloseProfile(profile);
    return;
  }
  if (space == cmsSigGrayData) {
    /* Grey rows have R = G = B: the grey levels through the profile, once, into a table. */
    cmsHTRANSFORM transform = cmsCreateTransform(profile, TYPE_GRAY_8, srgb(), TYPE_RGB_8, INTENT_PERCEPTUAL, 0);
    cmsCloseProfile(profile);
    if (!transform) {
      engine_warn("colour: the grey ICC profile cannot be used; the colours are left as they are");
      return;
    }
    uint8_t levels[256];
    for (int i = 0; i < 256; i++) levels[i] = (uint8_t)i;
    cmsDoTransform(transform, levels, color->grey, 256);
    cmsDeleteTransform(transform);
    color->mode = GREY_TABLE;
    return;
  }
  cmsUInt32Number input = cmyk ? (run_state.cmyk_inverted ? TYPE_CMYK_8_REV : TYPE_CMYK_8) : TYPE_RGBA_8;
  const CachedTransform *cached = transform_for(icc, size, profile, input, TYPE_RGBA_8, 0);
  cmsCloseProfile(profile);
  if (!cached) {
    if (default_profile) fail(FAIL_BAD_ARGUMENT, "colour: no transform from the default CMYK profile");
    engine_warn(cmyk ? "colour: no transform can be made from the embedded ICC profile; the CMYK inks are converted by the default CMYK profile"
                     : "colour: no transform can be made from the embedded ICC profile; the colours are left as they are");
    if (cmyk) set_up_default_cmyk(color);
    return;
  }
  color->transform = cached->transform;
  color->fast = cached->fast;
  color->mode = cached->fast ? MATRIX_SHAPER : TRANSFORM;
}

static void color_begin(Sink *sink, const Frame *frame) {
  Color *color = (Color *)sink;
  if (frame->index == 0) set_up(color);
  sink_forward_begin(sink, frame);
}

static void color_rows(Sink *sink, uint8_t *rows, size_t stride, int count) {
  Color *color = (Color *)sink;
  const int width = sink->in_width;
  if (color->mode == TRANSFORM) {
    for (int i = 0; i < count; i++) {
      uint8_t *row = rows + (size_t)i * stride;
      cmsDoTransform(color->transform, row, row, (cmsUInt32Number)width);
      if (color->cmyk) {
        for (int x = 0; x < width; x++) row[x * 4 + 3] = 255;
      }
    }
  } else if (color->mode == MATRIX_SHAPER) {
    for (int i = 0; i < count; i++) {
      uint8_t *p = rows + (size_t)i * stride;
      for (int x = 0; x < width; x++, p += 4) matrix_shaper_pixel(color->fast, p);
    }
  } else if (color->mode == GREY_TABLE) {
    for (int i = 0; i < count; i++) {
      uint8_t *p = rows + (size_t)i * stride;
      for (int x = 0; x < width; x++, p += 4) memcpy(p, color->grey[p[0]], 3);
    }
  }
  sink_rows(sink->next, rows, stride, count);
}

static const SinkOps COLOR_OPS = {color_begin, color_rows, sink_forward_end, sink_forward_finish,
                                  sink_destroy_nothing};

Sink *color_create(const double *args, Sink *next) {
  int w = (int)args[0], h = (int)args[1];
  return sink_new(sizeof(Color), &COLOR_OPS, next, w, h, w, h);
}
