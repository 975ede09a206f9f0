/* cli_out.c — signals and output files with no temporary file left behind
 * (see cli_out.h).  The handler only touches sig_atomic_t flags and calls
 * unlink(2) and _exit(2), both async-signal-safe. */
#include "cli_out.h"

#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TEMPS_MAX 8             /* outputs open at once (report.json, --stats, ...) */

static struct temp_slot {
    volatile sig_atomic_t used;
    char path[PATH_MAX];
    const ni_output *owner;
} temps[TEMPS_MAX];

static volatile sig_atomic_t caught, graceful_mode;
static ni_run *volatile attached;

static void remove_temps(void)
{
    for (size_t i = 0; i < TEMPS_MAX; i++)
        if (temps[i].used) unlink(temps[i].path);
}

static void on_signal(int sig)
{
    if (caught || !graceful_mode) {
        remove_temps();
        _exit(128 + (caught ? caught : sig));
    }
    caught = sig;
    ni_run *r = attached;
    if (r) ni_run_interrupt(r);
}

void cli_signals_attach(ni_run *run)
{
    attached = run;
    if (run && caught) ni_run_interrupt(run);
}

void cli_signals_install(bool graceful)
{
    graceful_mode = graceful;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = SA_RESTART;   /* reads go on; the run checks the flag between frames */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

int cli_signal_caught(void) { return caught; }

bool cli_signal_stop(void *ud)
{
    (void)ud;
    return caught != 0;
}

int cli_signal_status(void) { return caught ? 128 + caught : 1; }

static void block(sigset_t *old)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGINT);
    sigaddset(&s, SIGTERM);
    sigaddset(&s, SIGHUP);
    sigprocmask(SIG_BLOCK, &s, old);
}

/* The slot noting o's temporary file, or TEMPS_MAX. */
static size_t slot_of(const ni_output *o)
{
    size_t i = 0;
    while (i < TEMPS_MAX && !(temps[i].used && temps[i].owner == o)) i++;
    return i;
}

static void forget(size_t i)
{
    if (i < TEMPS_MAX) { temps[i].used = 0; temps[i].owner = NULL; }
}

ni_output *cli_out_open(const char *path, ni_error *err)
{
    bool atomic;
    if (ni_output_is_atomic(path, &atomic, err)) return NULL;
    if (!atomic) return ni_output_open(path, err);      /* may wait for a FIFO's reader */
    sigset_t old;
    block(&old);                /* no signal between creating the temporary file and noting it */
    ni_output *o = ni_output_open(path, err);
    const char *tmp = o ? ni_output_temp(o) : NULL;
    if (tmp) {
        size_t i = 0;
        while (i < TEMPS_MAX && temps[i].used) i++;
        if (i == TEMPS_MAX || strlen(tmp) >= PATH_MAX) {
            ni_output_abort(o);
            o = NULL;
            ni_error_set(err, NI_ERR_LIMIT, "%s: too many outputs open at once", path);
        } else {
            memcpy(temps[i].path, tmp, strlen(tmp) + 1);
            temps[i].owner = o;
            temps[i].used = 1;
        }
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return o;
}

ni_err cli_out_commit(ni_output *o, ni_error *err)
{
    /* a signal after the rename unlinks a name that no longer exists: harmless */
    size_t i = slot_of(o);
    ni_err r = ni_output_commit(o, err);
    forget(i);
    return r;
}

void cli_out_abort(ni_output *o)
{
    size_t i = slot_of(o);
    ni_output_abort(o);
    forget(i);
}

ni_err cli_out_write_all(const char *path, const void *p, size_t n, ni_error *err)
{
    ni_output *o = cli_out_open(path, err);
    if (!o) return err && err->code ? err->code : NI_ERR_OUTPUT;
    ni_err r = ni_output_write(o, p, n, err);
    if (r) { cli_out_abort(o); return r; }
    return cli_out_commit(o, err);
}
