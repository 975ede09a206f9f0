/* ni_diff.h — what changed between two profiles (two periods or two
 * targets): activity shape (peak hours, weekday share), shares of device
 * makers, operating systems, Windows versions and browsers among hosts,
 * services and VPN providers gained or lost, and visitors' regions.  Each
 * change in a share carries a two-proportion z-test and its p-value, and the
 * ICD 203 wording of how likely the change is real, so small samples do not
 * read as trends.  Input and output are report.json documents / text. */
#ifndef NI_DIFF_H
#define NI_DIFF_H

#include "netintel/netintel.h"
#include "core/ni_buf.h"

/* old_json / new_json: report.json texts (netintel.profile/1).  Writes the
 * diff as JSON (schema netintel.diff/1) into json_out and as Markdown into
 * md_out.  NI_ERR_FORMAT with err naming old_name/new_name on bad input. */
ni_err ni_diff_reports(const char *old_json, const char *old_name, const char *new_json,
                       const char *new_name, ni_buf *json_out, ni_buf *md_out, ni_error *err);

#endif
