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

typedef enum { PASS, TRANSFORM, GREY_TABLE } Mode;

typedef struct {
  Sink base;
  Mode mode;
  cmsHTRANSFORM transform; /* owned by the cache */
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

/* The cached transform for these profile bytes and input layout, built (and cached) when missing. */
static cmsHTRANSFORM transform_for(const uint8_t *icc, uint32_t size, cmsHPROFILE input,
                                   cmsUInt32Number input_format, cmsUInt32Number output_format,
                                   cmsUInt32Number flags) {
  uint32_t hash = fnv1a(icc, size);
  CachedTransform *oldest = &cache[0];
  for (int i = 0; i < CACHED_TRANSFORMS; i++) {
    CachedTransform *entry = &cache[i];
    if (entry->transform && entry->hash == hash && entry->size == size && entry->input_format == input_format) {
      entry->used = ++uses;
      return entry->transform;
    }
    if (entry->used < oldest->used) oldest = entry;
  }
  cmsHTRANSFORM transform =
      cmsCreateTransform(input, input_format, srgb(), output_format, INTENT_PERCEPTUAL, flags);
  if (!transform) return NULL;
  if (oldest->transform) cmsDeleteTransform(oldest->transform);
  *oldest = (CachedTransform){hash, size, input_format, transform, ++uses};
  return transform;
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
  color->transform = transform_for(icc, size, profile, input, TYPE_RGBA_8, 0);
  cmsCloseProfile(profile);
  if (!color->transform) {
    if (default_profile) fail(FAIL_BAD_ARGUMENT, "colour: no transform from the default CMYK profile");
    engine_warn(cmyk ? "colour: no transform can be made from the embedded ICC profile; the CMYK inks are converted by the default CMYK profile"
                     : "colour: no transform can be made from the embedded ICC profile; the colours are left as they are");
    if (cmyk) set_up_default_cmyk(color);
    return;
  }
  color->mode = TRANSFORM;
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
