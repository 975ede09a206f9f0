/* test_producer.c — the table of evidence producers (lib/dissect/
 * ni_producer): every entry is complete and named once, exactly one
 * consumes streams and datagrams (the flow table keeps one buffer per
 * direction), producers with a context can free it, and nDPI is made only
 * when the run asks for it. */
#include "ni_test.h"
#include "dissect/ni_producer.h"
#include "core/ni_limits.h"

TEST(table_is_complete)
{
    unsigned n = 0, streams = 0, dgrams = 0;
    for (const ni_producer *const *p = ni_producers; *p; p++, n++) {
        CHECK((*p)->name && *(*p)->name);
        for (const ni_producer *const *q = ni_producers; q != p; q++) CHECK(strcmp((*q)->name, (*p)->name) != 0);
        CHECK(!(*p)->ctx_new || (*p)->ctx_free);
        CHECK((*p)->on_start || (*p)->on_stream || (*p)->on_datagram || (*p)->on_packet || (*p)->on_finish);
        if ((*p)->on_stream) streams++;
        if ((*p)->on_datagram) dgrams++;
    }
    CHECK(n >= 3 && n <= NI_PRODUCERS_MAX);
    CHECK_INT(streams, 1);
    CHECK_INT(dgrams, 1);
}

TEST(options_enable)
{
    for (const ni_producer *const *p = ni_producers; *p; p++) {
        if (strcmp((*p)->name, "ndpi")) continue;
        ni_producer_opts off = { .ndpi = false }, on = { .ndpi = true };
        ni_stats st = {0};
        ni_error err = {0};
        CHECK((*p)->ctx_new(&off, &st, &err) == NULL);
        CHECK_INT(err.code, NI_OK);                       /* disabled, not failed */
        void *ctx = (*p)->ctx_new(&on, &st, &err);
        CHECK(ctx != NULL);
        if (ctx) (*p)->ctx_free(ctx);
        return;
    }
    CHECK(!"ndpi producer registered");
}

RUN(T(table_is_complete), T(options_enable))
