/* cli_out.h — what the commands share about ending a run well: the signals
 * (SIGINT, SIGTERM, SIGHUP: the first asks the run to stop, read what it has
 * and write its outputs; a second exits at once) and output files opened
 * through ni_output (netintel/output.h) whose temporary files are known here, so
 * that an exit on a signal leaves none behind.  SIGPIPE is ignored: a closed
 * pipe comes back as NI_ERR_PIPE from the write, and the command ends
 * quietly.  This is the tool's only global state (signal handlers need it). */
#ifndef NI_CLI_OUT_H
#define NI_CLI_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include "netintel/netintel.h"

/* graceful: the first signal only sets the stop flag (the command checks it);
 * otherwise (a command that cannot stop half-way) the first signal already
 * removes the temporary files and exits 128 + signal. */
void cli_signals_install(bool graceful);
/* The run that a signal interrupts (ni_run_interrupt, from the handler);
 * at once when a signal came already.  NULL detaches. */
void cli_signals_attach(ni_run *run);
/* The signal that asked the run to stop, or 0. */
int cli_signal_caught(void);
/* For ni_engine_set_stop: true once a signal asked the run to stop. */
bool cli_signal_stop(void *ud);
/* The exit status for an interrupted run: 128 + the signal (130 SIGINT,
 * 143 SIGTERM, 129 SIGHUP). */
int cli_signal_status(void);

/* ni_output_open/_commit/_abort, keeping the temporary file's name where the
 * signal handler finds it. */
ni_output *cli_out_open(const char *path, ni_error *err);
ni_err cli_out_commit(ni_output *o, ni_error *err);
void cli_out_abort(ni_output *o);
ni_err cli_out_write_all(const char *path, const void *p, size_t n, ni_error *err);

#endif
