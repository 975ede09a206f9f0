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
    const ni_file *owner;
} temps[TEMPS_MAX];

static volatile sig_atomic_t caught, graceful_mode;

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

static void forget(const ni_file *f)
{
    for (size_t i = 0; i < TEMPS_MAX; i++)
        if (temps[i].used && temps[i].owner == f) { temps[i].used = 0; temps[i].owner = NULL; }
}

ni_err cli_out_open(ni_file *f, const char *path, ni_error *err)
{
    ni_file_kind kind;
    char *dest;
    ni_err r = ni_file_resolve(path, &kind, &dest, err);
    free(dest);
    if (r) return r;
    if (kind != NI_FILE_ATOMIC) return ni_file_open(f, path, err);     /* may wait for a FIFO's reader */
    sigset_t old;
    block(&old);                /* no signal between creating the temporary file and noting it */
    r = ni_file_open(f, path, err);
    if (!r && f->tmp) {
        size_t i = 0;
        while (i < TEMPS_MAX && temps[i].used) i++;
        if (i == TEMPS_MAX || strlen(f->tmp) >= PATH_MAX) {
            ni_file_abort(f);
            r = ni_error_set(err, NI_ERR_LIMIT, "%s: too many outputs open at once", path);
        } else {
            memcpy(temps[i].path, f->tmp, strlen(f->tmp) + 1);
            temps[i].owner = f;
            temps[i].used = 1;
        }
    }
    sigprocmask(SIG_SETMASK, &old, NULL);
    return r;
}

ni_err cli_out_commit(ni_file *f, ni_error *err)
{
    /* a signal after the rename unlinks a name that no longer exists: harmless */
    ni_err r = ni_file_commit(f, err);
    forget(f);
    return r;
}

void cli_out_abort(ni_file *f)
{
    ni_file_abort(f);
    forget(f);
}

ni_err cli_out_write_all(const char *path, const void *p, size_t n, ni_error *err)
{
    ni_file f;
    ni_err r = cli_out_open(&f, path, err);
    if (r) return r;
    if ((r = ni_file_write(&f, p, n, err)) != NI_OK) { cli_out_abort(&f); return r; }
    return cli_out_commit(&f, err);
}
