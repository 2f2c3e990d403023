/*
 * Bytes from a peer or a file, made safe to print: printable ASCII stays,
 * backslash and double quote get a backslash, every other byte is \xNN. So no
 * control byte or escape sequence reaches a terminal or a log, and the
 * original bytes can still be read back from the text.
 */
#ifndef PLUGHOLE_ESCAPE_H
#define PLUGHOLE_ESCAPE_H

#include <stddef.h>

/* Room for len bytes escaped, the NUL included. */
#define ESCAPE_SIZE(len) ((len) * 4 + 1)

/*
 * Writes src escaped into dst (size bytes, NUL included; never a partial
 * escape) and returns dst. Stops where the next escape would not fit.
 */
char *escape_text(char *dst, size_t size, const char *src, size_t len);

#endif
