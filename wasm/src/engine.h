#ifndef ENGINE_H
#define ENGINE_H
/*
 * What every part of the codec engine shares: how it talks to JavaScript (imports and exports),
 * how it fails, and how it allocates.
 *
 * The engine is one standalone WebAssembly module over one memory that JavaScript owns (imported,
 * with a fixed maximum). Every failure — a damaged file, running out of memory, a bad call — ends
 * the call with a trap after recording why (`fail`); the JavaScript side reads the reason, answers
 * with an OSS error, zeroes the memory and instantiates the module afresh over it, so half-built
 * state never outlives a failed call and the memory never grows past its ceiling.
 */
#include <stddef.h>
#include <stdint.h>

#define EXPORT __attribute__((visibility("default"), used))
#define IMPORT(name) __attribute__((import_module("env"), import_name(name)))

/* Failure codes JavaScript reads after a trap; libraries' own message codes are positive. */
enum {
  FAIL_OUT_OF_MEMORY = -1,
  FAIL_BAD_ARGUMENT = -2,
  FAIL_DAMAGED = -3,     /* the source image cannot be decoded */
  FAIL_UNSUPPORTED = -4, /* a valid image this engine cannot handle (a feature, a size) */
};

_Noreturn void fail(int code, const char *message);
/*
 * What a trap that does not come through fail() means from now on (a library aborting inside a
 * call: libde265's C++ allocation); fail_pending(0, "") clears it.
 */
void fail_pending(int code, const char *message);
/* fail() with a formatted message. */
_Noreturn void failf(int code, const char *format, ...) __attribute__((format(printf, 2, 3)));

/*
 * How many allocations have found no memory since the engine started. A library that carries on
 * after one (libaom's entropy coder writes a broken frame when its buffer cannot grow) is caught
 * by comparing the count before and after the call.
 */
unsigned engine_failed_allocations(void);

/* malloc that fails the call instead of returning NULL. */
void *checked_malloc(size_t size);
void *checked_calloc(size_t count, size_t size);

/* ---- imports, provided by src/engine/instance.ts ---- */

/* Copies up to `length` bytes of source `source` from `offset` into `target`; answers how many. */
IMPORT("source_read") extern int source_read(int source, int offset, uint8_t *target, int length);
/* The byte length of source `source`. */
IMPORT("source_size") extern int source_size(int source);
/* Takes `length` bytes of the encoded result. */
IMPORT("output_write") extern void output_write(const uint8_t *bytes, int length);
/* A warning worth a log line (a broken colour profile…); the request goes on. */
IMPORT("engine_warn") extern void engine_warn(const char *message);

/* ---- a source read sequentially, in chunks ---- */

typedef struct {
  int source;   /* which JavaScript-held source */
  int size;     /* its byte length */
  int offset;   /* of the next read */
} Stream;

void stream_open(Stream *stream, int source);
/* Reads up to `length` bytes at the stream's position; answers how many (0 at the end). */
int stream_read(Stream *stream, uint8_t *target, int length);
void stream_skip(Stream *stream, int length);

#endif
