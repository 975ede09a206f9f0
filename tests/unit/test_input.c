/* test_input.c — the one source interface (lib/ingest/ni_input) and the
 * engine reading through it: each input goes to the source that recognises
 * it (stored sessions by content, captures as the fallback, whatever the
 * file name), items come out in file order, and the engine takes inputs in
 * the order given — stored sessions before or after captures — giving each
 * stored session its direction for this run's target. */
#include "ni_test.h"
#include "ingest/ni_input.h"
#include "session/ni_engine.h"

#include <stdlib.h>
#include <unistd.h>

#define CAPTURE "tests/corpus/ndpi/pcap/http.pcapng"

static char dir[] = "/tmp/ni-test-input-XXXXXX";

static const char *write_file(const char *name, const char *text)
{
    static char path[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(path[k], sizeof path[k], "%s/%s", dir, name);
    FILE *f = fopen(path[k], "w");
    if (f) { fputs(text, f); fclose(f); }
    return path[k];
}

#define LINE(client, server, t) "{\"first\":\"2024-01-01T00:00:0" t ".000000Z\",\"last\":\"2024-01-01T00:00:0" t \
    ".000000Z\",\"proto\":\"udp\",\"client\":\"" client "\",\"client_port\":1000,\"server\":\"" server \
    "\",\"server_port\":53,\"direction\":\"unknown\",\"c2s_packets\":1,\"c2s_bytes\":60,\"s2c_packets\":0,\"s2c_bytes\":0}\n"

TEST(kinds_by_content)
{
    const char *a = write_file("a.pcap", LINE("10.0.0.1", "8.8.8.8", "1") LINE("10.0.0.2", "8.8.4.4", "2"));
    ni_error err = {0};
    ni_input *in = ni_input_open(a, &err);
    CHECK(in != NULL);
    if (!in) return;
    CHECK_STR(ni_input_kind(in), "sessions");       /* by content, not by name */
    ni_item it;
    char buf[NI_ADDR_STRLEN];
    CHECK_INT(ni_input_next(in, &it, &err), 1);
    CHECK_INT(it.kind, NI_ITEM_SESSION);
    CHECK_STR(ni_addr_format(&it.session->client, buf), "10.0.0.1");
    CHECK_INT(ni_input_next(in, &it, &err), 1);
    CHECK_STR(ni_addr_format(&it.session->client, buf), "10.0.0.2");
    CHECK_INT(ni_input_next(in, &it, &err), 0);
    ni_input_close(in);

    in = ni_input_open(CAPTURE, &err);
    CHECK(in != NULL);
    if (!in) return;
    CHECK_STR(ni_input_kind(in), "capture");
    CHECK_INT(ni_input_next(in, &it, &err), 1);
    CHECK_INT(it.kind, NI_ITEM_FRAME);
    CHECK(it.frame.caplen > 0);
    ni_input_close(in);

    const char *bad = write_file("bad.jsonl", "{\"first\": 3}\n");
    in = ni_input_open(bad, &err);
    CHECK(in != NULL);
    if (in) { CHECK_INT(ni_input_next(in, &it, &err), -1); CHECK(strstr(err.msg, "bad.jsonl") != NULL); ni_input_close(in); }
    CHECK(ni_input_open(write_file("x.txt", "not a capture\n"), &err) == NULL);
    CHECK(strstr(err.msg, "x.txt") != NULL);
}

typedef struct seen { char client[8][NI_ADDR_STRLEN]; ni_direction dir[8]; unsigned n; } seen;

static ni_err sink(void *ud, const ni_session *s, ni_error *err)
{
    (void)err;
    seen *x = ud;
    if (x->n < 8) { ni_addr_format(&s->client, x->client[x->n]); x->dir[x->n] = s->direction; }
    x->n++;
    return NI_OK;
}

TEST(engine_takes_inputs_in_order)
{
    const char *a = write_file("one.jsonl", LINE("10.0.0.1", "8.8.8.8", "1"));
    const char *b = write_file("two.jsonl", LINE("10.0.0.2", "8.8.4.4", "2"));
    ni_target *t = ni_target_new();
    ni_error err = {0};
    CHECK_INT(ni_target_add_spec(t, "10.0.0.0/8", &err), NI_OK);
    ni_engine_config cfg;
    ni_flow_config_default(&cfg.flow);
    cfg.target = t;
    cfg.ndpi = false;
    for (int order = 0; order < 2; order++) {
        ni_engine *e = ni_engine_new(&cfg, &err);
        CHECK(e != NULL);
        if (!e) break;
        seen x = { .n = 0 };
        ni_engine_set_sink(e, sink, &x);
        const char *first = order ? b : a, *second = order ? a : b;
        CHECK_INT(ni_engine_read(e, first, &err), NI_OK);
        CHECK_INT(ni_engine_read(e, CAPTURE, &err), NI_OK);
        CHECK_INT(ni_engine_read(e, second, &err), NI_OK);
        CHECK_INT(ni_engine_finish(e, &err), NI_OK);
        CHECK(x.n >= 3);
        CHECK_STR(x.client[0], order ? "10.0.0.2" : "10.0.0.1");
        CHECK_STR(x.client[1], order ? "10.0.0.1" : "10.0.0.2");   /* read before the capture's flows end */
        CHECK_INT(x.dir[0], NI_DIRECTION_OUTBOUND);                  /* direction for this target */
        CHECK_INT(ni_engine_stats(e)->sessions, x.n);
        ni_engine_free(e);
    }
    ni_target_free(t);
}

int main(void)
{
    if (!mkdtemp(dir)) return 1;
    static const ni_test_case c[] = { T(kinds_by_content), T(engine_takes_inputs_in_order) };
    int rc = ni_test_main(__FILE__, c, sizeof c / sizeof c[0]);
    char cmd[600];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd)) {}
    return rc;
}
