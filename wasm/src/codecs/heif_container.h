#ifndef ENGINE_HEIF_CONTAINER_H
#define ENGINE_HEIF_CONTAINER_H
/*
 * The HEIF container (ISO/IEC 23008-12, an ISO base media file) that AVIF and HEIC share: the
 * `meta` box's items, where their bytes lie, their properties and references. A file's primary
 * image is one coded item or a grid of them (iPhones store 512x512 HEVC tiles), optionally with an
 * alpha auxiliary image of the same kind. Codecs (avif.c, heic.c) decode one coded item at a time;
 * this file turns what they decode into RGBA rows, a band (a tile row) at a time, so a grid never
 * needs more than one tile row of samples. src/image/header.ts reads the same boxes for planning:
 * keep the two in step.
 */
#include <stddef.h>
#include <stdint.h>

#include "../pipeline.h"

#define FOURCC(a, b, c, d) (((uint32_t)(a) << 24) | ((uint32_t)(b) << 16) | ((uint32_t)(c) << 8) | (uint32_t)(d))

#define HEIF_MAX_EXTENTS 16
#define HEIF_MAX_ITEM_PROPERTIES 32

typedef struct {
  uint32_t id;
  uint32_t type; /* av01, hvc1, grid, Exif, … */
  int hidden;
  int construction;   /* 0: extents are file offsets, 1: offsets into the idat box */
  int extent_count;
  uint64_t offset[HEIF_MAX_EXTENTS], length[HEIF_MAX_EXTENTS];
  uint64_t size;      /* the extents' total */
  int property_count;
  uint16_t properties[HEIF_MAX_ITEM_PROPERTIES]; /* 1-based indices into the ipco list */
} HeifItem;

typedef struct {
  uint32_t type;
  const uint8_t *data; /* the box's payload, after its 8-byte header (full boxes: version first) */
  uint32_t size;
} HeifProperty;

typedef struct {
  uint32_t type, from, to;
  int index; /* the position of `to` among the reference's targets */
} HeifReference;

/* An image: one coded item, or a grid of coded tiles. */
typedef struct {
  const HeifItem *item;    /* the coded item, or the grid item */
  int width, height;       /* of the image (ispe; a grid's output size) */
  int grid, rows, columns; /* a grid's layout */
  const HeifItem **tiles;  /* rows x columns coded items, row after row (a single image: 1) */
  int tile_width, tile_height;
} HeifImage;

typedef struct {
  Stream stream;
  uint8_t *meta; /* the meta box, held while the file is read */
  uint32_t meta_size;
  uint64_t idat_offset, idat_size; /* the idat payload, as an offset into the file */
  HeifItem *items;
  int item_count;
  HeifProperty *properties;
  int property_count;
  HeifReference *references;
  int reference_count;
  uint32_t primary;

  HeifImage image, alpha;
  int has_alpha, premultiplied;
  /* The clean aperture (clap) of the primary image: the window of it that is shown. */
  int crop_x, crop_y, crop_width, crop_height;
  const uint8_t *icc; /* colr prof/rICC */
  uint32_t icc_size;
  int has_nclx, matrix, full_range; /* colr nclx */
} Heif;

/* Reads the container of source `source` and finds its primary image (coded as `codec`: av01, hvc1). */
void heif_open(Heif *heif, int source, uint32_t codec, const char *format);
void heif_close(Heif *heif);

/* The first property of `type` associated with the item, or NULL. */
const HeifProperty *heif_property(const Heif *heif, const HeifItem *item, uint32_t type);
/* Reads an item's bytes into memory of its own (the caller frees it). */
uint8_t *heif_item_bytes(Heif *heif, const HeifItem *item);

/* Samples a codec decoded: 8 bits in bytes, more in 16-bit words. */
typedef struct {
  int width, height;
  int bits;
  int monochrome;
  int ss_x, ss_y; /* chroma subsampling shifts */
  const uint8_t *plane[3];
  ptrdiff_t stride[3]; /* in bytes */
  /* The colour description the bitstream carries, used when the container has no colr nclx. */
  int matrix, full_range;
} HeifPlanes;

/*
 * A codec: decodes one coded item to planes that stay valid until `release`. `config` is the item's
 * codec configuration property (av1C, hvcC).
 */
typedef struct {
  void (*decode)(void *codec, Heif *heif, const HeifItem *item, const HeifProperty *config, HeifPlanes *out);
  void (*release)(void *codec);
  void *state;
  const char *format;
  uint32_t config_type;
} HeifCodec;

/*
 * Decodes the primary image and pushes its clean aperture as RGBA rows into `first`, a band at a
 * time: a single image is one band (the codec's picture), a grid one tile row (copied out of each
 * tile's picture). The alpha image, when there is one, is decoded in step by `alpha_codec`, a
 * second instance (a single image and its alpha hold both pictures at once).
 */
void heif_push_rows(Heif *heif, HeifCodec *codec, HeifCodec *alpha_codec, Sink *first);

#endif
