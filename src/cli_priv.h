/* cli_priv.h — dropping root privileges after a network interface is
 * opened for a live capture (-i): the tool's policy, not the library's.
 * Like tcpdump -Z: the user's groups (initgroups), then its group and user
 * ids (real, effective and saved: setresgid, setresuid), then a check that
 * none of root's can be taken back. */
#ifndef NI_CLI_PRIV_H
#define NI_CLI_PRIV_H

#include <stdbool.h>
#include <stddef.h>

/* Whether the process runs as root (real or effective uid 0). */
bool cli_priv_is_root(void);
/* Checks that user names an account that is not root: 0, or -1 with a
 * one-line reason in msg ("no such user", "is root"). */
int cli_priv_check(const char *user, char *msg, size_t n);
/* Becomes user for good: 0, or -1 with a one-line reason in msg (the
 * process may then hold some of root's ids still: the caller must stop). */
int cli_priv_drop(const char *user, char *msg, size_t n);

#endif
