/* fuzz_report.c — libFuzzer target for the report renderers and the diff
 * (lib/report/ni_report, lib/analyze/ni_diff): the input is taken as a
 * report.json document (any JSON, or none), checked against the description
 * of report.json (lib/analyze/ni_reportdoc), rendered to HTML and Markdown,
 * and compared with itself. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "analyze/ni_diff.h"
#include "report/ni_report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *json = malloc(size + 1);
    if (!json) return 0;
    memcpy(json, data, size);
    json[size] = 0;
    ni_buf a, b;
    ni_buf_init(&a, 64u << 20);
    ni_buf_init(&b, 64u << 20);
    ni_error err = {0};
    ni_report_html(json, &a, &err);
    ni_buf_clear(&a);
    ni_report_markdown(json, &a, &err);
    ni_buf_clear(&a);
    bool changed;
    ni_diff_reports(json, "old", json, "new", &changed, &a, &b, &err);
    ni_buf_release(&a);
    ni_buf_release(&b);
    free(json);
    return 0;
}
