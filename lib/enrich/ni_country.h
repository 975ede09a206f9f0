/* ni_country.h — ISO 3166-1 countries (data/countries.tsv): alpha-2 code →
 * alpha-3 code, English name, continent (7-continent model) and UN M49
 * subregion ("KP" → Asia / Eastern Asia).  Used to turn the country code that
 * a GeoIP database returns into the continent of a session.
 *
 * File format (TSV with a header, see docs/geoip.md):
 *   alpha2  alpha3  name  continent  subregion  m49  source
 * alpha2 is two upper-case letters and unique; alpha3 three upper-case
 * letters; continent one of Africa, Antarctica, Asia, Europe, North America,
 * Oceania, South America; subregion may be empty (M49 lists none, e.g. AQ);
 * m49 is empty or three digits; source is never empty.
 *
 * Ownership: the table owns every string it returns; they stay valid until
 * ni_countries_free().  Lookups only read (shareable between threads). */
#ifndef NI_COUNTRY_H
#define NI_COUNTRY_H

#include <stddef.h>
#include "netintel/netintel.h"

typedef struct ni_country_info {
    char alpha2[3];
    char alpha3[4];
    const char *name;
    const char *continent;
    const char *subregion;   /* "" when M49 gives none */
    const char *source;
    unsigned m49;            /* 0 when none */
} ni_country_info;

typedef struct ni_countries ni_countries;

/* Loads <data_dir>/countries.tsv. */
ni_countries *ni_countries_load(const char *data_dir, ni_error *err);
/* Loads one file.  Errors: NI_ERR_DATA "path:LINE: problem", NI_ERR_NOMEM. */
ni_countries *ni_countries_load_file(const char *path, ni_error *err);
void ni_countries_free(ni_countries *c);

/* Country by alpha-2 code (case-insensitive); NULL when unknown, when code is
 * not two letters, or when c is NULL. */
const ni_country_info *ni_countries_get(const ni_countries *c, const char *code);
size_t ni_countries_count(const ni_countries *c);
/* Calls fn for every country in alpha-2 order. */
void ni_countries_each(const ni_countries *c, void (*fn)(void *ud, const ni_country_info *ci), void *ud);

#endif
