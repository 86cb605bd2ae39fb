#ifndef ENGINE_FAIL_H
#define ENGINE_FAIL_H

#include <stddef.h>

/* Codes the JavaScript side reads after a trap; libjpeg's own message codes are positive. */
enum { FAIL_OUT_OF_MEMORY = -1, FAIL_BAD_ARGUMENT = -2 };

/*
 * Records why and traps. The engine has no setjmp/longjmp (a standalone module has no JS glue to
 * unwind with), so every failure ends the call with a WebAssembly trap; the caller reads the
 * reason and replaces the instance, whose heap may hold half-built state.
 */
_Noreturn void fail(int code, const char *message);
void *checked_malloc(size_t size);

#endif
