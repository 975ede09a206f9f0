/* ni_reportdef.h — the description of report.json (netintel.profile/1) as a
 * table of fields: name, JSON types, required or not, allowed values,
 * bounds, nested fields, and the description with its unit.  The table
 * (ni_reportdef.c) is generated from docs/report-schema.json by
 * scripts/gen-reportdef, so the schema is the one description of the
 * contract; lib/analyze/ni_reportdoc checks documents against it (the reader
 * of `report`, `diff` and the summary of `profile`, and the check of what
 * `profile` wrote). */
#ifndef NI_REPORTDEF_H
#define NI_REPORTDEF_H

#include <stddef.h>

/* JSON types a field may take (bitmask). */
enum {
    NI_RD_NULL = 1, NI_RD_BOOL = 2, NI_RD_INT = 4, NI_RD_NUM = 8,
    NI_RD_STR = 16, NI_RD_ARR = 32, NI_RD_OBJ = 64,
};

/* String formats checked. */
enum { NI_RD_FMT_DATE = 1, NI_RD_FMT_TIME = 2, NI_RD_FMT_MONTH = 3 };

typedef struct ni_rd_field {
    const char *name;                   /* key in its object; NULL for array items and map values */
    unsigned types;                     /* NI_RD_* allowed */
    int required;                       /* the key must be present */
    const char *const *values;          /* allowed strings (const or enum), NULL-terminated; NULL = any */
    double min, max, min_excl;          /* numeric bounds (NAN = none); min_excl exclusive */
    int min_items, max_items;           /* array length bounds (-1 = none) */
    int min_len;                        /* string length (bytes) at least */
    int unique;                         /* array items distinct */
    int format;                         /* NI_RD_FMT_* or 0 */
    int is_map;                         /* object of arbitrary keys whose values are *items */
    const struct ni_rd_field *props;    /* object: its keys (closed: no others) */
    size_t nprops;
    const struct ni_rd_field *items;    /* array items, or map values */
    const struct ni_rd_field *variants; /* object of one of these forms, told apart by */
    size_t nvariants;                   /* their first single-valued key (e.g. "kind") */
    const char *desc;                   /* description and unit */
} ni_rd_field;

/* The whole document, and the value its "schema" key must have. */
extern const ni_rd_field ni_reportdef_root;
extern const char ni_reportdef_schema[];

#endif
