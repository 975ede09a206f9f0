/* cli_out.h — what the commands share about ending a run well: the signals
 * (SIGINT, SIGTERM, SIGHUP: the first asks the run to stop, read what it has
 * and write its outputs; a second exits at once) and output files opened
 * through ni_file (core/ni_file.h) whose temporary files are known here, so
 * that an exit on a signal leaves none behind.  SIGPIPE is ignored: a closed
 * pipe comes back as NI_ERR_PIPE from the write, and the command ends
 * quietly.  This is the tool's only global state (signal handlers need it). */
#ifndef NI_CLI_OUT_H
#define NI_CLI_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include "netintel/netintel.h"
#include "core/ni_file.h"

/* graceful: the first signal only sets the stop flag (the command checks it);
 * otherwise (a command that cannot stop half-way) the first signal already
 * removes the temporary files and exits 128 + signal. */
void cli_signals_install(bool graceful);
/* The signal that asked the run to stop, or 0. */
int cli_signal_caught(void);
/* For ni_engine_set_stop: true once a signal asked the run to stop. */
bool cli_signal_stop(void *ud);
/* The exit status for an interrupted run: 128 + the signal (130 SIGINT,
 * 143 SIGTERM, 129 SIGHUP). */
int cli_signal_status(void);

/* ni_file_open/_commit/_abort, keeping the temporary file's name where the
 * signal handler finds it. */
ni_err cli_out_open(ni_file *f, const char *path, ni_error *err);
ni_err cli_out_commit(ni_file *f, ni_error *err);
void cli_out_abort(ni_file *f);
ni_err cli_out_write_all(const char *path, const void *p, size_t n, ni_error *err);

#endif
