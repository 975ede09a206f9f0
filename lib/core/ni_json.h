/* ni_json.h — a streaming JSON writer over ni_buf (RFC 8259).  It tracks
 * nesting so commas are placed automatically; strings are escaped, and bytes
 * that are not valid UTF-8 are written as U+FFFD so the output is always valid
 * JSON whatever the packets contained.  Numbers are written exactly: integers
 * as integers, doubles with up to 6 significant decimals, stable across runs. */
#ifndef NI_JSON_H
#define NI_JSON_H

#include <stdint.h>
#include <stdbool.h>
#include "core/ni_buf.h"

#define NI_JSON_DEPTH_MAX 32

typedef struct ni_json {
    ni_buf *out;
    int depth;
    bool first[NI_JSON_DEPTH_MAX]; /* no element written yet at this depth */
    bool after_key;
    int indent;                    /* 0 = compact, else spaces per level */
} ni_json;

void ni_json_init(ni_json *j, ni_buf *out, int indent);
void ni_json_obj_begin(ni_json *j);
void ni_json_obj_end(ni_json *j);
void ni_json_arr_begin(ni_json *j);
void ni_json_arr_end(ni_json *j);
void ni_json_key(ni_json *j, const char *k);
void ni_json_str(ni_json *j, const char *s);          /* NULL writes null */
void ni_json_strn(ni_json *j, const char *s, size_t n);
void ni_json_int(ni_json *j, int64_t v);
void ni_json_uint(ni_json *j, uint64_t v);
void ni_json_double(ni_json *j, double v);
void ni_json_bool(ni_json *j, bool v);
void ni_json_null(ni_json *j);
/* key + value helpers; *_opt skip the pair entirely when the value is NULL */
void ni_json_kstr(ni_json *j, const char *k, const char *v);
void ni_json_kstr_opt(ni_json *j, const char *k, const char *v);
void ni_json_kint(ni_json *j, const char *k, int64_t v);
void ni_json_kuint(ni_json *j, const char *k, uint64_t v);
void ni_json_kdouble(ni_json *j, const char *k, double v);
void ni_json_kbool(ni_json *j, const char *k, bool v);
/* Appends an escaped JSON string (with quotes) to b. */
void ni_json_escape(ni_buf *b, const char *s, size_t n);
/* For writers that reserve the room themselves (ni_buf_room): the escaped
 * string with its quotes at o, which has room for 6 * n + 2 bytes, and the
 * decimal text of an integer at o, which has room for 20 bytes (u64) or 21
 * (i64).  Each returns the end of what it wrote; no NUL is written. */
char *ni_json_escape_to(char *o, const char *s, size_t n);
char *ni_json_u64_to(char *o, uint64_t v);
char *ni_json_i64_to(char *o, int64_t v);
/* Length of the valid UTF-8 sequence at s (at most n bytes), 0 when it is
 * invalid: overlongs, surrogates and code points above U+10FFFF are. */
size_t ni_utf8_len(const unsigned char *s, size_t n);

#endif
