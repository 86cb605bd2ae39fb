/*
 * The engine's failure path, allocation accounting and the exports every call uses.
 */
#include "engine.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failure_code;
static char failure_message[256];

_Noreturn void fail(int code, const char *message) {
  failure_code = code;
  strncpy(failure_message, message, sizeof(failure_message) - 1);
  __builtin_trap();
}

void fail_pending(int code, const char *message) {
  failure_code = code;
  strncpy(failure_message, message, sizeof(failure_message) - 1);
}

_Noreturn void failf(int code, const char *format, ...) {
  char message[sizeof(failure_message)];
  va_list args;
  va_start(args, format);
  vsnprintf(message, sizeof(message), format, args);
  va_end(args);
  fail(code, message);
}

EXPORT int engine_failure_code(void) { return failure_code; }
EXPORT const char *engine_failure_message(void) { return failure_message; }

/*
 * Every allocation goes through these wrappers around emscripten's dlmalloc, so the engine knows
 * the bytes it holds and their high-water mark: tests hold the planner's estimates against it.
 */
extern void *emscripten_builtin_malloc(size_t size);
extern void emscripten_builtin_free(void *block);
extern void *emscripten_builtin_memalign(size_t alignment, size_t size);
extern size_t malloc_usable_size(const void *block);

static size_t live_bytes;
static size_t peak_bytes;
static unsigned failed_allocations;

static void *counted(void *block) {
  if (block) {
    live_bytes += malloc_usable_size(block);
    if (live_bytes > peak_bytes) peak_bytes = live_bytes;
  } else {
    failed_allocations++;
  }
  return block;
}

unsigned engine_failed_allocations(void) { return failed_allocations; }

void *malloc(size_t size) { return counted(emscripten_builtin_malloc(size)); }

void free(void *block) {
  if (!block) return;
  live_bytes -= malloc_usable_size(block);
  emscripten_builtin_free(block);
}

void *calloc(size_t count, size_t size) {
  if (size && count > SIZE_MAX / size) return NULL;
  void *block = malloc(count * size);
  if (block) memset(block, 0, count * size);
  return block;
}

void *realloc(void *block, size_t size) {
  if (!block) return malloc(size);
  if (size == 0) {
    free(block);
    return NULL;
  }
  size_t old = malloc_usable_size(block);
  if (old >= size) return block;
  void *moved = malloc(size);
  if (!moved) return NULL;
  memcpy(moved, block, old);
  free(block);
  return moved;
}

void *memalign(size_t alignment, size_t size) { return counted(emscripten_builtin_memalign(alignment, size)); }

void *aligned_alloc(size_t alignment, size_t size) { return memalign(alignment, size); }

int posix_memalign(void **result, size_t alignment, size_t size) {
  void *block = memalign(alignment, size);
  if (!block) return 12; /* ENOMEM */
  *result = block;
  return 0;
}

void *checked_malloc(size_t size) {
  void *block = malloc(size);
  if (!block && size) fail(FAIL_OUT_OF_MEMORY, "out of memory");
  return block;
}

void *checked_calloc(size_t count, size_t size) {
  void *block = calloc(count, size);
  if (!block && count && size) fail(FAIL_OUT_OF_MEMORY, "out of memory");
  return block;
}

EXPORT void *engine_malloc(int size) { return checked_malloc((size_t)size); }
EXPORT void engine_free(void *block) { free(block); }
/* Bytes the engine holds now, and the most it held since engine_reset_peak. */
EXPORT double engine_live_bytes(void) { return (double)live_bytes; }
EXPORT double engine_peak_bytes(void) { return (double)peak_bytes; }
EXPORT void engine_reset_peak(void) { peak_bytes = live_bytes; }

void stream_open(Stream *stream, int source) {
  stream->source = source;
  stream->size = source_size(source);
  stream->offset = 0;
}

int stream_read(Stream *stream, uint8_t *target, int length) {
  int count = source_read(stream->source, stream->offset, target, length);
  stream->offset += count;
  return count;
}

void stream_skip(Stream *stream, int length) {
  stream->offset = stream->offset + length > stream->size ? stream->size : stream->offset + length;
}
