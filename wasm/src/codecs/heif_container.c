/*
 * The HEIF container shared by AVIF and HEIC (see heif_container.h): the meta box is read into
 * memory (it is small: item lists, properties, references), item bytes are pulled from JavaScript
 * when a codec needs them, and decoded samples become RGBA rows a band at a time.
 */
#include "heif_container.h"

#include <stdlib.h>
#include <string.h>

/* ---- bounded big-endian reading ---- */

typedef struct {
  const uint8_t *data;
  uint32_t size, at;
  const char *format;
} Reader;

static _Noreturn void damaged(const char *format, const char *why) {
  failf(FAIL_DAMAGED, "%s: %s", format, why);
}

static uint64_t read_bytes(Reader *r, int count) {
  if (count < 0 || count > 8 || r->size - r->at < (uint32_t)count) damaged(r->format, "a box ends early");
  uint64_t value = 0;
  for (int i = 0; i < count; i++) value = (value << 8) | r->data[r->at++];
  return value;
}

static uint32_t read_u8(Reader *r) { return (uint32_t)read_bytes(r, 1); }
static uint32_t read_u16(Reader *r) { return (uint32_t)read_bytes(r, 2); }
static uint32_t read_u32(Reader *r) { return (uint32_t)read_bytes(r, 4); }

static void skip(Reader *r, uint32_t count) {
  if (r->size - r->at < count) damaged(r->format, "a box ends early");
  r->at += count;
}

/* The next child box: its type and a reader over its payload. Answers 0 at the end. */
static int next_box(Reader *r, uint32_t *type, Reader *payload) {
  if (r->size - r->at < 8) return 0;
  uint32_t start = r->at;
  uint64_t size = read_u32(r);
  *type = read_u32(r);
  if (size == 1) size = read_bytes(r, 8);
  else if (size == 0) size = r->size - start;
  uint32_t header = r->at - start;
  if (size < header || size > r->size - start) damaged(r->format, "a box is larger than its parent");
  *payload = (Reader){r->data + r->at, (uint32_t)size - header, 0, r->format};
  r->at = start + (uint32_t)size;
  return 1;
}

/* ---- the boxes of meta ---- */

static HeifItem *find_item(Heif *heif, uint32_t id) {
  for (int i = 0; i < heif->item_count; i++) {
    if (heif->items[i].id == id) return &heif->items[i];
  }
  return NULL;
}

/* Items are known from iinf and iloc, in either order: whichever names an item first adds it. */
static HeifItem *item_for(Heif *heif, uint32_t id, int capacity) {
  HeifItem *item = find_item(heif, id);
  if (item) return item;
  if (heif->item_count >= capacity) damaged("heif", "more items than the file declares");
  item = &heif->items[heif->item_count++];
  memset(item, 0, sizeof(*item));
  item->id = id;
  return item;
}

static void read_iinf(Heif *heif, Reader *r, int capacity) {
  int version = (int)read_u8(r);
  skip(r, 3);
  read_bytes(r, version == 0 ? 2 : 4);
  uint32_t type;
  Reader entry;
  while (next_box(r, &type, &entry)) {
    if (type != FOURCC('i', 'n', 'f', 'e')) continue;
    int entry_version = (int)read_u8(&entry);
    uint32_t flags = (uint32_t)read_bytes(&entry, 3);
    if (entry_version < 2) continue; /* no item type: not an image item */
    uint32_t id = (uint32_t)read_bytes(&entry, entry_version == 2 ? 2 : 4);
    read_u16(&entry); /* protection index */
    HeifItem *item = item_for(heif, id, capacity);
    item->type = read_u32(&entry);
    item->hidden = flags & 1;
  }
}

static void read_iloc(Heif *heif, Reader *r, int capacity) {
  int version = (int)read_u8(r);
  skip(r, 3);
  uint32_t sizes = read_u16(r);
  int offset_size = (int)(sizes >> 12), length_size = (int)(sizes >> 8) & 15;
  int base_size = (int)(sizes >> 4) & 15, index_size = version >= 1 ? (int)sizes & 15 : 0;
  uint32_t count = version < 2 ? read_u16(r) : read_u32(r);
  for (uint32_t i = 0; i < count; i++) {
    uint32_t id = version < 2 ? read_u16(r) : read_u32(r);
    HeifItem *item = item_for(heif, id, capacity);
    item->construction = version >= 1 ? (int)(read_u16(r) & 15) : 0;
    if (read_u16(r) != 0) fail(FAIL_UNSUPPORTED, "heif: item data in another file");
    uint64_t base = read_bytes(r, base_size);
    uint32_t extents = read_u16(r);
    if (extents > HEIF_MAX_EXTENTS) fail(FAIL_UNSUPPORTED, "heif: an item in too many pieces");
    item->extent_count = (int)extents;
    item->size = 0;
    for (uint32_t e = 0; e < extents; e++) {
      read_bytes(r, index_size);
      item->offset[e] = base + read_bytes(r, offset_size);
      item->length[e] = read_bytes(r, length_size);
      item->size += item->length[e];
    }
    if (item->construction > 1) fail(FAIL_UNSUPPORTED, "heif: an item built from other items");
  }
}

static void read_iref(Heif *heif, Reader *r) {
  int version = (int)read_u8(r);
  skip(r, 3);
  int id_size = version == 0 ? 2 : 4;
  /* Two passes: count, then store. */
  uint32_t start = r->at;
  int total = 0;
  for (int pass = 0; pass < 2; pass++) {
    r->at = start;
    uint32_t type;
    Reader entry;
    while (next_box(r, &type, &entry)) {
      uint32_t from = (uint32_t)read_bytes(&entry, id_size);
      uint32_t count = read_u16(&entry);
      for (uint32_t i = 0; i < count; i++) {
        uint32_t to = (uint32_t)read_bytes(&entry, id_size);
        if (pass == 0) {
          total++;
        } else {
          heif->references[heif->reference_count++] = (HeifReference){type, from, to, (int)i};
        }
      }
    }
    if (pass == 0) heif->references = checked_calloc((size_t)(total ? total : 1), sizeof(HeifReference));
  }
}

static void read_iprp(Heif *heif, Reader *r) {
  uint32_t type;
  Reader box;
  Reader ipma = {0};
  int have_ipma = 0;
  while (next_box(r, &type, &box)) {
    if (type == FOURCC('i', 'p', 'c', 'o')) {
      uint32_t start = box.at, property_type;
      Reader property;
      int count = 0;
      while (next_box(&box, &property_type, &property)) count++;
      heif->properties = checked_calloc((size_t)(count ? count : 1), sizeof(HeifProperty));
      box.at = start;
      while (next_box(&box, &property_type, &property)) {
        heif->properties[heif->property_count++] = (HeifProperty){property_type, property.data, property.size};
      }
    } else if (type == FOURCC('i', 'p', 'm', 'a')) {
      ipma = box;
      have_ipma = 1;
    }
  }
  if (!have_ipma) return;
  int version = (int)read_u8(&ipma);
  uint32_t flags = (uint32_t)read_bytes(&ipma, 3);
  uint32_t count = read_u32(&ipma);
  for (uint32_t i = 0; i < count; i++) {
    uint32_t id = version < 1 ? read_u16(&ipma) : read_u32(&ipma);
    uint32_t associations = read_u8(&ipma);
    HeifItem *item = find_item(heif, id);
    for (uint32_t a = 0; a < associations; a++) {
      uint32_t value = flags & 1 ? read_u16(&ipma) & 0x7fff : read_u8(&ipma) & 0x7f;
      if (item && value > 0 && item->property_count < HEIF_MAX_ITEM_PROPERTIES) {
        item->properties[item->property_count++] = (uint16_t)value;
      }
    }
  }
}

const HeifProperty *heif_property(const Heif *heif, const HeifItem *item, uint32_t type) {
  for (int i = 0; i < item->property_count; i++) {
    int index = item->properties[i] - 1;
    if (index < heif->property_count && heif->properties[index].type == type) return &heif->properties[index];
  }
  return NULL;
}

uint8_t *heif_item_bytes(Heif *heif, const HeifItem *item) {
  if (item->size == 0 || item->size > (uint64_t)heif->stream.size) damaged("heif", "an item's data lies outside the file");
  uint8_t *bytes = checked_malloc((size_t)item->size);
  size_t at = 0;
  for (int e = 0; e < item->extent_count; e++) {
    uint64_t offset = item->offset[e], length = item->length[e];
    if (item->construction == 1) {
      if (offset + length > heif->idat_size) damaged("heif", "an item's data lies outside its idat box");
      offset += heif->idat_offset;
    }
    if (offset + length > (uint64_t)heif->stream.size) damaged("heif", "an item's data lies outside the file");
    if (source_read(heif->stream.source, (int)offset, bytes + at, (int)length) != (int)length) {
      damaged("heif", "an item's data could not be read");
    }
    at += (size_t)length;
  }
  return bytes;
}

/* ---- the primary image ---- */

static void ispe_size(const Heif *heif, const HeifItem *item, int *width, int *height) {
  const HeifProperty *ispe = heif_property(heif, item, FOURCC('i', 's', 'p', 'e'));
  if (!ispe) damaged("heif", "an image without its size (ispe)");
  Reader r = {ispe->data, ispe->size, 0, "heif"};
  skip(&r, 4);
  uint32_t w = read_u32(&r), h = read_u32(&r);
  if (w == 0 || h == 0 || w > 65535 || h > 65535) damaged("heif", "an image size out of range");
  *width = (int)w;
  *height = (int)h;
}

static void image_init(Heif *heif, const HeifItem *item, uint32_t codec, HeifImage *image) {
  memset(image, 0, sizeof(*image));
  image->item = item;
  if (item->type == FOURCC('g', 'r', 'i', 'd')) {
    uint8_t *data = heif_item_bytes(heif, item);
    Reader r = {data, (uint32_t)item->size, 0, "heif"};
    read_u8(&r); /* version */
    int wide = read_u8(&r) & 1;
    image->grid = 1;
    image->rows = (int)read_u8(&r) + 1;
    image->columns = (int)read_u8(&r) + 1;
    image->width = (int)read_bytes(&r, wide ? 4 : 2);
    image->height = (int)read_bytes(&r, wide ? 4 : 2);
    free(data);
    if (image->width <= 0 || image->height <= 0 || image->width > 65535 || image->height > 65535) {
      damaged("heif", "a grid size out of range");
    }
    int count = image->rows * image->columns;
    image->tiles = checked_calloc((size_t)count, sizeof(HeifItem *));
    for (int i = 0; i < heif->reference_count; i++) {
      const HeifReference *ref = &heif->references[i];
      if (ref->type != FOURCC('d', 'i', 'm', 'g') || ref->from != item->id) continue;
      if (ref->index >= count) damaged("heif", "a grid with more tiles than cells");
      image->tiles[ref->index] = find_item(heif, ref->to);
    }
    for (int i = 0; i < count; i++) {
      if (!image->tiles[i]) damaged("heif", "a grid with a missing tile");
      if (image->tiles[i]->type != codec) fail(FAIL_UNSUPPORTED, "heif: a grid tile in another coding");
    }
    ispe_size(heif, image->tiles[0], &image->tile_width, &image->tile_height);
    if ((int64_t)image->tile_width * image->columns < image->width ||
        (int64_t)image->tile_height * image->rows < image->height) {
      damaged("heif", "grid tiles that do not cover the image");
    }
  } else if (item->type == codec) {
    ispe_size(heif, item, &image->width, &image->height);
    image->rows = image->columns = 1;
    image->tiles = checked_calloc(1, sizeof(HeifItem *));
    image->tiles[0] = item;
    image->tile_width = image->width;
    image->tile_height = image->height;
  } else {
    fail(FAIL_UNSUPPORTED, "heif: the image is coded in a way this engine does not decode");
  }
}

static int is_alpha(const Heif *heif, const HeifItem *item) {
  const HeifProperty *auxc = heif_property(heif, item, FOURCC('a', 'u', 'x', 'C'));
  if (!auxc || auxc->size < 5) return 0;
  const char *urn = (const char *)auxc->data + 4;
  size_t length = strnlen(urn, auxc->size - 4);
  static const char ALPHA[] = "urn:mpeg:mpegB:cicp:systems:auxiliary:alpha";
  static const char HEVC_ALPHA[] = "urn:mpeg:hevc:2015:auxid:1";
  return (length == sizeof(ALPHA) - 1 && !memcmp(urn, ALPHA, length)) ||
         (length == sizeof(HEVC_ALPHA) - 1 && !memcmp(urn, HEVC_ALPHA, length));
}

/* A fraction of clap, rounded toward minus infinity. */
static double fraction(Reader *r, int is_signed) {
  uint32_t n = read_u32(r), d = read_u32(r);
  if (d == 0) damaged("heif", "a clean aperture with a zero denominator");
  return (is_signed ? (double)(int32_t)n : (double)n) / (double)d;
}

static void read_clap(Heif *heif, const HeifItem *item) {
  int width = heif->image.width, height = heif->image.height;
  heif->crop_x = heif->crop_y = 0;
  heif->crop_width = width;
  heif->crop_height = height;
  const HeifProperty *clap = heif_property(heif, item, FOURCC('c', 'l', 'a', 'p'));
  if (!clap) return;
  Reader r = {clap->data, clap->size, 0, "heif"};
  double cw = fraction(&r, 0), ch = fraction(&r, 0), dx = fraction(&r, 1), dy = fraction(&r, 1);
  /* The aperture is centred at the image's centre plus the offsets (ISO/IEC 14496-12 clap). */
  int w = (int)(cw + 0.5), h = (int)(ch + 0.5);
  int x = (int)((width - cw) / 2 + dx + 0.5), y = (int)((height - ch) / 2 + dy + 0.5);
  if (w <= 0 || h <= 0 || x < 0 || y < 0 || x + w > width || y + h > height) {
    damaged("heif", "a clean aperture outside the image");
  }
  heif->crop_x = x;
  heif->crop_y = y;
  heif->crop_width = w;
  heif->crop_height = h;
}

static void read_colr(Heif *heif, const HeifItem *item) {
  for (int i = 0; i < item->property_count; i++) {
    int index = item->properties[i] - 1;
    if (index >= heif->property_count || heif->properties[index].type != FOURCC('c', 'o', 'l', 'r')) continue;
    const HeifProperty *colr = &heif->properties[index];
    Reader r = {colr->data, colr->size, 0, "heif"};
    uint32_t kind = read_u32(&r);
    if (kind == FOURCC('n', 'c', 'l', 'x') && !heif->has_nclx) {
      read_u16(&r); /* primaries and transfer: the ICC profile (or sRGB) describes them */
      read_u16(&r);
      heif->matrix = (int)read_u16(&r);
      heif->full_range = (int)(read_u8(&r) >> 7);
      heif->has_nclx = 1;
    } else if ((kind == FOURCC('p', 'r', 'o', 'f') || kind == FOURCC('r', 'I', 'C', 'C')) && !heif->icc) {
      heif->icc = colr->data + 4;
      heif->icc_size = colr->size - 4;
    }
  }
}

void heif_open(Heif *heif, int source, uint32_t codec, const char *format) {
  memset(heif, 0, sizeof(*heif));
  stream_open(&heif->stream, source);
  /* Top-level boxes: ftyp, meta, mdat… Only meta is read. */
  uint64_t offset = 0, meta_offset = 0, meta_size = 0;
  for (int boxes = 0; boxes < 64 && offset + 8 <= (uint64_t)heif->stream.size; boxes++) {
    uint8_t head[16];
    int got = source_read(source, (int)offset, head, 16);
    if (got < 8) break;
    uint64_t size = ((uint32_t)head[0] << 24) | ((uint32_t)head[1] << 16) | ((uint32_t)head[2] << 8) | head[3];
    uint32_t type = ((uint32_t)head[4] << 24) | ((uint32_t)head[5] << 16) | ((uint32_t)head[6] << 8) | head[7];
    if (size == 1) {
      if (got < 16) break;
      size = 0;
      for (int i = 8; i < 16; i++) size = (size << 8) | head[i];
    } else if (size == 0) {
      size = (uint64_t)heif->stream.size - offset;
    }
    if (size < 8) damaged(format, "a box smaller than its header");
    if (type == FOURCC('m', 'e', 't', 'a')) {
      meta_offset = offset;
      meta_size = size;
      break;
    }
    offset += size;
  }
  if (!meta_size) damaged(format, "no meta box");
  if (meta_offset + meta_size > (uint64_t)heif->stream.size) damaged(format, "the meta box is cut short");
  if (meta_size > 16 * 1024 * 1024) fail(FAIL_UNSUPPORTED, "heif: a meta box over 16 MiB");
  heif->meta_size = (uint32_t)meta_size;
  heif->meta = checked_malloc(heif->meta_size);
  if (source_read(source, (int)meta_offset, heif->meta, (int)meta_size) != (int)meta_size) {
    damaged(format, "the meta box could not be read");
  }

  Reader file = {heif->meta, heif->meta_size, 0, format}, meta;
  uint32_t type;
  next_box(&file, &type, &meta);
  skip(&meta, 4); /* version, flags */
  /* Room for every item: at most as many as iinf and iloc list together (src/image/heif.ts counts alike). */
  Reader box;
  uint32_t meta_start = meta.at;
  int capacity = 1;
  while (next_box(&meta, &type, &box)) {
    if (type != FOURCC('i', 'i', 'n', 'f') && type != FOURCC('i', 'l', 'o', 'c')) continue;
    int version = (int)read_u8(&box);
    skip(&box, type == FOURCC('i', 'l', 'o', 'c') ? 5 : 3);
    capacity += (int)read_bytes(&box, version == 0 || (type == FOURCC('i', 'l', 'o', 'c') && version == 1) ? 2 : 4);
  }
  if ((uint32_t)capacity > heif->meta_size) damaged(format, "more items than the meta box can hold");
  meta.at = meta_start;
  heif->items = checked_calloc((size_t)capacity, sizeof(HeifItem));
  uint32_t iprp_at = 0, iprp_size = 0;
  while (next_box(&meta, &type, &box)) {
    switch (type) {
      case FOURCC('h', 'd', 'l', 'r'): {
        skip(&box, 8);
        if (read_u32(&box) != FOURCC('p', 'i', 'c', 't')) damaged(format, "the meta box is not a picture's");
        break;
      }
      case FOURCC('p', 'i', 't', 'm'): {
        int version = (int)read_u8(&box);
        skip(&box, 3);
        heif->primary = (uint32_t)read_bytes(&box, version == 0 ? 2 : 4);
        break;
      }
      case FOURCC('i', 'i', 'n', 'f'): read_iinf(heif, &box, capacity); break;
      case FOURCC('i', 'l', 'o', 'c'): read_iloc(heif, &box, capacity); break;
      case FOURCC('i', 'r', 'e', 'f'): read_iref(heif, &box); break;
      case FOURCC('i', 'p', 'r', 'p'):
        /* After the items are known (ipma names them): read it once the loop is done. */
        iprp_at = (uint32_t)(box.data - heif->meta);
        iprp_size = box.size;
        break;
      case FOURCC('i', 'd', 'a', 't'):
        heif->idat_offset = meta_offset + (uint64_t)(box.data - heif->meta);
        heif->idat_size = box.size;
        break;
      default: break;
    }
  }
  if (iprp_size) {
    Reader iprp = {heif->meta + iprp_at, iprp_size, 0, format};
    read_iprp(heif, &iprp);
  }
  if (!heif->references) heif->references = checked_calloc(1, sizeof(HeifReference));

  const HeifItem *primary = find_item(heif, heif->primary);
  if (!primary) damaged(format, "no primary image");
  image_init(heif, primary, codec, &heif->image);
  read_clap(heif, primary);
  read_colr(heif, primary);
  if (!heif->has_nclx || !heif->icc) read_colr(heif, heif->image.tiles[0]);

  /* The alpha plane: an auxiliary image (auxl) of the primary, of the same size. */
  for (int i = 0; i < heif->reference_count; i++) {
    const HeifReference *ref = &heif->references[i];
    if (ref->type != FOURCC('a', 'u', 'x', 'l') || ref->to != primary->id) continue;
    const HeifItem *item = find_item(heif, ref->from);
    if (!item || !is_alpha(heif, item)) continue;
    image_init(heif, item, codec, &heif->alpha);
    if (heif->alpha.width != heif->image.width || heif->alpha.height != heif->image.height) {
      fail(FAIL_UNSUPPORTED, "heif: an alpha plane of another size than the image");
    }
    heif->has_alpha = 1;
    break;
  }
  for (int i = 0; heif->has_alpha && i < heif->reference_count; i++) {
    const HeifReference *ref = &heif->references[i];
    if (ref->type == FOURCC('p', 'r', 'e', 'm') && ref->from == primary->id && ref->to == heif->alpha.item->id) {
      heif->premultiplied = 1;
    }
  }
}

void heif_close(Heif *heif) {
  free(heif->image.tiles);
  free(heif->alpha.tiles);
  free(heif->references);
  free(heif->properties);
  free(heif->items);
  free(heif->meta);
  memset(heif, 0, sizeof(*heif));
}

/* ---- samples to RGBA ---- */

/*
 * A band of an image's rows, [y0, y0 + rows): a single image's whole picture (the codec's own
 * planes), or a grid's tile row copied out of its tiles' pictures into `buffer`.
 */
typedef struct {
  HeifImage *image;
  HeifCodec *codec;
  int y0, rows, index;
  HeifPlanes planes;
  uint8_t *buffer[3];
  int held; /* a single image's picture is the codec's until the end */
} Band;

static void band_copy_tile(Band *band, const HeifPlanes *tile, int x0, int width, int rows) {
  HeifPlanes *p = &band->planes;
  int sample = p->bits > 8 ? 2 : 1;
  for (int c = 0; c < (p->monochrome ? 1 : 3); c++) {
    int sx = c ? p->ss_x : 0, sy = c ? p->ss_y : 0;
    int w = (width + (1 << sx) - 1) >> sx, h = (rows + (1 << sy) - 1) >> sy;
    for (int y = 0; y < h; y++) {
      memcpy(band->buffer[c] + (size_t)y * (size_t)p->stride[c] + (size_t)(x0 >> sx) * sample,
             tile->plane[c] + (size_t)y * (size_t)tile->stride[c], (size_t)w * sample);
    }
  }
}

static void band_load(Heif *heif, Band *band, int index) {
  HeifImage *image = band->image;
  HeifCodec *codec = band->codec;
  const HeifProperty *config;
  if (!image->grid) {
    config = heif_property(heif, image->tiles[0], codec->config_type);
    if (!config) damaged(codec->format, "an image without its codec configuration");
    codec->decode(codec->state, heif, image->tiles[0], config, &band->planes);
    if (band->planes.width < image->width || band->planes.height < image->height) {
      damaged(codec->format, "the coded picture is smaller than the image");
    }
    band->y0 = 0;
    band->rows = image->height;
    band->index = 0;
    band->held = 1;
    return;
  }
  band->y0 = index * image->tile_height;
  band->rows = image->height - band->y0 < image->tile_height ? image->height - band->y0 : image->tile_height;
  band->index = index;
  for (int column = 0; column < image->columns; column++) {
    int x0 = column * image->tile_width;
    if (x0 >= image->width) break;
    int width = image->width - x0 < image->tile_width ? image->width - x0 : image->tile_width;
    const HeifItem *tile = image->tiles[index * image->columns + column];
    config = heif_property(heif, tile, codec->config_type);
    if (!config) damaged(codec->format, "a tile without its codec configuration");
    HeifPlanes planes;
    codec->decode(codec->state, heif, tile, config, &planes);
    if (planes.width < width || planes.height < band->rows) damaged(codec->format, "a tile smaller than the grid's cells");
    HeifPlanes *p = &band->planes;
    if (!band->buffer[0]) {
      /* The first tile decides the band's layout: every tile must share it. */
      *p = planes;
      p->width = image->width;
      p->height = image->tile_height;
      int sample = p->bits > 8 ? 2 : 1;
      for (int c = 0; c < (p->monochrome ? 1 : 3); c++) {
        int sx = c ? p->ss_x : 0, sy = c ? p->ss_y : 0;
        p->stride[c] = (ptrdiff_t)(((image->width + (1 << sx) - 1) >> sx) * sample);
        band->buffer[c] = checked_malloc((size_t)p->stride[c] * (size_t)((image->tile_height + (1 << sy) - 1) >> sy));
        p->plane[c] = band->buffer[c];
      }
    } else if (planes.bits != p->bits || planes.monochrome != p->monochrome || planes.ss_x != p->ss_x ||
               planes.ss_y != p->ss_y) {
      fail(FAIL_UNSUPPORTED, "heif: grid tiles of different sample formats");
    }
    band_copy_tile(band, &planes, x0, width, band->rows);
    codec->release(codec->state);
  }
}

static void band_free(Band *band) {
  if (band->held) band->codec->release(band->codec->state);
  for (int c = 0; c < 3; c++) free(band->buffer[c]);
}

/* Makes the band hold image row y. */
static void band_reach(Heif *heif, Band *band, int y) {
  if (band->index >= 0 && y >= band->y0 && y < band->y0 + band->rows) return;
  band_load(heif, band, band->image->grid ? y / band->image->tile_height : 0);
}

/* YCbCr to RGB in 16.16 fixed point, for one bit depth and range. */
typedef struct {
  int identity, monochrome, bits;
  int y_offset, c_offset;
  int32_t y_scale, cr_r, cb_g, cr_g, cb_b, c_scale;
} Matrix;

static void matrix_init(Matrix *m, const HeifPlanes *p, int matrix, int full_range) {
  double kr = 0.299, kb = 0.114; /* BT.601, also what unspecified matrices mean */
  if (matrix == 1) kr = 0.2126, kb = 0.0722;
  else if (matrix == 9 || matrix == 10) kr = 0.2627, kb = 0.0593;
  else if (matrix == 4) kr = 0.30, kb = 0.11;
  else if (matrix == 7) kr = 0.212, kb = 0.087;
  double kg = 1 - kr - kb;
  int shift = p->bits - 8;
  double max = (double)((1 << p->bits) - 1);
  double y_scale = full_range ? 255.0 / max : 255.0 / (219 << shift);
  double c_scale = full_range ? 255.0 / max : 255.0 / (224 << shift);
  m->identity = matrix == 0;
  m->monochrome = p->monochrome;
  m->bits = p->bits;
  m->y_offset = full_range ? 0 : 16 << shift;
  m->c_offset = 128 << shift;
  m->y_scale = (int32_t)(y_scale * 65536 + 0.5);
  m->c_scale = (int32_t)((m->identity ? y_scale : c_scale) * 65536 + 0.5);
  m->cr_r = (int32_t)(2 * (1 - kr) * c_scale * 65536 + 0.5);
  m->cb_b = (int32_t)(2 * (1 - kb) * c_scale * 65536 + 0.5);
  m->cb_g = (int32_t)(2 * kb * (1 - kb) / kg * c_scale * 65536 + 0.5);
  m->cr_g = (int32_t)(2 * kr * (1 - kr) / kg * c_scale * 65536 + 0.5);
}

static inline uint8_t fixed_byte(int32_t value) { return clamp_byte((value + 32768) >> 16); }

static inline int sample_at(const uint8_t *row, int x, int wide) {
  return wide ? ((const uint16_t *)row)[x] : row[x];
}

/*
 * One row of RGBA: image row y (of the band's planes), columns [x0, x0 + width). Chroma is taken
 * from the nearest sample, as libheif does.
 */
static void convert_row(const Band *band, const Matrix *m, int y, int x0, int width, uint8_t *out) {
  const HeifPlanes *p = &band->planes;
  int row = y - band->y0, wide = p->bits > 8;
  const uint8_t *luma = p->plane[0] + (size_t)row * (size_t)p->stride[0];
  if (m->monochrome) {
    for (int x = 0; x < width; x++, out += 4) {
      uint8_t v = fixed_byte((sample_at(luma, x0 + x, wide) - m->y_offset) * m->y_scale);
      out[0] = out[1] = out[2] = v;
      out[3] = 255;
    }
    return;
  }
  int crow = row >> p->ss_y;
  const uint8_t *cb = p->plane[1] + (size_t)crow * (size_t)p->stride[1];
  const uint8_t *cr = p->plane[2] + (size_t)crow * (size_t)p->stride[2];
  for (int x = 0; x < width; x++, out += 4) {
    int cx = (x0 + x) >> p->ss_x;
    int32_t yy = (sample_at(luma, x0 + x, wide) - m->y_offset) * m->y_scale;
    int u = sample_at(cb, cx, wide), v = sample_at(cr, cx, wide);
    if (m->identity) {
      /* GBR: Y is green, Cb blue, Cr red. */
      out[0] = fixed_byte((v - m->y_offset) * m->c_scale);
      out[1] = fixed_byte(yy);
      out[2] = fixed_byte((u - m->y_offset) * m->c_scale);
    } else {
      u -= m->c_offset;
      v -= m->c_offset;
      out[0] = fixed_byte(yy + v * m->cr_r);
      out[1] = fixed_byte(yy - u * m->cb_g - v * m->cr_g);
      out[2] = fixed_byte(yy + u * m->cb_b);
    }
    out[3] = 255;
  }
}

static void alpha_row(const Band *band, const Matrix *m, int y, int x0, int width, uint8_t *out, int premultiplied) {
  const HeifPlanes *p = &band->planes;
  const uint8_t *luma = p->plane[0] + (size_t)(y - band->y0) * (size_t)p->stride[0];
  int wide = p->bits > 8;
  for (int x = 0; x < width; x++, out += 4) {
    uint8_t a = fixed_byte((sample_at(luma, x0 + x, wide) - m->y_offset) * m->y_scale);
    out[3] = a;
    if (premultiplied && a > 0 && a < 255) {
      for (int c = 0; c < 3; c++) out[c] = (uint8_t)(out[c] * 255 / a > 255 ? 255 : out[c] * 255 / a);
    }
  }
}

#define STRIP_ROWS 16

void heif_push_rows(Heif *heif, HeifCodec *codec, HeifCodec *alpha_codec, Sink *first) {
  Band colour = {&heif->image, codec, 0, 0, -1, {0}, {NULL, NULL, NULL}, 0};
  Band alpha = {&heif->alpha, alpha_codec, 0, 0, -1, {0}, {NULL, NULL, NULL}, 0};
  int width = heif->crop_width, height = heif->crop_height;
  Rows strip;
  rows_alloc(&strip, width, STRIP_ROWS);
  if (heif->icc) {
    run_state.icc = heif->icc;
    run_state.icc_size = (int)heif->icc_size;
  }
  Frame frame = {width, height, 0, 0};
  sink_begin(first, &frame);
  Matrix colour_matrix, alpha_matrix;
  int colour_band = -2, alpha_band = -2;
  for (int y = 0; y < height && run_wants_rows();) {
    int count = height - y < STRIP_ROWS ? height - y : STRIP_ROWS;
    for (int i = 0; i < count; i++) {
      int row = heif->crop_y + y + i;
      uint8_t *out = rows_at(&strip, i);
      /* Alpha first: its picture (one plane) is then held while the colour one decodes, not the reverse. */
      if (heif->has_alpha) band_reach(heif, &alpha, row);
      band_reach(heif, &colour, row);
      if (colour.index != colour_band) {
        /* The container's colr nclx wins over what the bitstream says (as libheif has it). */
        matrix_init(&colour_matrix, &colour.planes, heif->has_nclx ? heif->matrix : colour.planes.matrix,
                    heif->has_nclx ? heif->full_range : colour.planes.full_range);
        colour_band = colour.index;
      }
      convert_row(&colour, &colour_matrix, row, heif->crop_x, width, out);
      if (heif->has_alpha) {
        if (alpha.index != alpha_band) {
          HeifPlanes grey = alpha.planes;
          grey.monochrome = 1;
          /* Alpha is full range whatever the bitstream says, as libavif reads it. */
          matrix_init(&alpha_matrix, &grey, 2, 1);
          alpha_band = alpha.index;
        }
        alpha_row(&alpha, &alpha_matrix, row, heif->crop_x, width, out, heif->premultiplied);
      }
    }
    sink_rows(first, strip.data, strip.stride, count);
    y += count;
  }
  band_free(&alpha);
  band_free(&colour);
  rows_free(&strip);
  sink_end(first);
  sink_finish(first);
  run_state.icc = NULL;
  run_state.icc_size = 0;
}
