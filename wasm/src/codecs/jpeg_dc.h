#ifndef ENGINE_JPEG_DC_H
#define ENGINE_JPEG_DC_H
/* Progressive JPEG thumbnails at 1/8 from the DC scans alone (codecs/jpeg_dc.c). */
#include "../pipeline.h"

void jpeg_dc_decode(const double *args, Sink *first);

#endif
