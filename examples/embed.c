/* embed.c — an example of embedding libnetintel (docs/API.md): reads one
 * capture, counts its sessions per server country through the session
 * callback, builds the profile and writes it to a folder, and looks up one
 * address and one User-Agent with the same data.
 *
 *   cc embed.c $(pkg-config --cflags --libs netintel) -o embed
 *   ./embed CAPTURE OUTDIR [ADDRESS [USER-AGENT]]
 *
 * Uses nothing but the public header. */
#include <netintel/netintel.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_COUNTRIES 256

typedef struct country_count {
    char cc[3];                 /* "??" when the server's country is unknown */
    unsigned long n;
} country_count;

typedef struct tally {
    country_count c[MAX_COUNTRIES];
    size_t n;
    unsigned long sessions;
} tally;

/* The session callback: the session is only valid during the call. */
static ni_err on_session(void *ud, const ni_session *s, ni_error *err)
{
    (void)err;
    tally *t = ud;
    const char *cc = s->server_country ? s->server_country : "??";
    t->sessions++;
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->c[i].cc, cc) == 0) { t->c[i].n++; return NI_OK; }
    if (t->n < MAX_COUNTRIES) {
        snprintf(t->c[t->n].cc, sizeof t->c[t->n].cc, "%s", cc);
        t->c[t->n++].n = 1;
    }
    return NI_OK;
}

static void on_warning(void *ud, const char *msg)
{
    (void)ud;
    fprintf(stderr, "embed: warning: %s\n", msg);
}

static int by_country(const void *a, const void *b)
{
    return strcmp(((const country_count *)a)->cc, ((const country_count *)b)->cc);
}

static const char *or_dash(const char *s) { return s ? s : "-"; }

int main(int argc, char **argv)
{
    if (argc < 3 || argc > 5) {
        fprintf(stderr, "usage: embed CAPTURE OUTDIR [ADDRESS [USER-AGENT]]\n");
        return 2;
    }
    const char *address = argc > 3 ? argv[3] : "8.8.8.8";
    const char *ua = argc > 4 ? argv[4]
        : "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/120.0.0.0 Safari/537.36";
    printf("netintel %s (header %s, API %d)\n", ni_version(), NETINTEL_VERSION, NETINTEL_API_VERSION);

    ni_options o;
    ni_options_init(&o);        /* no target: every direction is "unknown" */
    ni_error err = {0};
    ni_run *run = ni_run_new(&o, &err);
    if (!run) { fprintf(stderr, "embed: %s\n", err.msg); return 1; }

    static tally t;
    ni_run_on_session(run, on_session, &t);
    ni_run_on_warning(run, on_warning, NULL);
    ni_profile *prof = ni_run_profile(run, &err);   /* before the first read */
    int rc = 0;
    if (!prof || ni_run_read(run, argv[1], &err) || ni_run_finish(run, &err)) {
        fprintf(stderr, "embed: %s\n", err.msg);
        rc = 1;
    }
    if (!rc) {
        qsort(t.c, t.n, sizeof t.c[0], by_country);
        printf("sessions: %lu (stats %llu)\n", t.sessions, (unsigned long long)ni_run_stats(run)->sessions);
        for (size_t i = 0; i < t.n; i++) printf("country %s: %lu\n", t.c[i].cc, t.c[i].n);
        if (ni_profile_write(prof, argv[2], &err)) {
            fprintf(stderr, "embed: %s\n", err.msg);
            rc = 1;
        } else {
            printf("profile: %llu sessions written to %s\n", (unsigned long long)ni_profile_sessions(prof), argv[2]);
        }
    }

    ni_session s;
    if (ni_run_lookup(run, address, &s, &err)) {
        fprintf(stderr, "embed: %s\n", err.msg);
        rc = 1;
    } else {
        printf("address %s: country %s, asn %u, org %s, service %s\n", address, or_dash(s.server_country),
               s.server_asn, or_dash(s.server_as_org), or_dash(s.service));
    }
    if (ni_run_lookup_ua(run, ua, NULL, NULL, NULL, &s, &err)) {
        fprintf(stderr, "embed: %s\n", err.msg);
        rc = 1;
    } else {
        printf("user-agent: browser %s %s, os %s %s, form %s\n", or_dash(s.ua_browser),
               or_dash(s.ua_browser_version), or_dash(s.ua_os), or_dash(s.ua_os_version), or_dash(s.ua_form_factor));
    }
    ni_run_free(run);
    return rc;
}
