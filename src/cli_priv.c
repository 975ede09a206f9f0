/* cli_priv.c — dropping root privileges for good (see cli_priv.h). */
#include "cli_priv.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

bool cli_priv_is_root(void) { return getuid() == 0 || geteuid() == 0; }

/* The account's ids; -1 with msg when it does not exist or is root. */
static int lookup(const char *user, uid_t *uid, gid_t *gid, char *msg, size_t n)
{
    errno = 0;
    struct passwd *pw = user && *user ? getpwnam(user) : NULL;
    if (!pw) {
        if (errno && errno != ENOENT && errno != ESRCH)
            snprintf(msg, n, "--user '%s': cannot look it up (%s)", user ? user : "", strerror(errno));
        else
            snprintf(msg, n, "--user '%s': no such user", user ? user : "");
        return -1;
    }
    if (pw->pw_uid == 0) {
        snprintf(msg, n, "--user '%s': is root (uid 0); --keep-root keeps root's privileges", user);
        return -1;
    }
    *uid = pw->pw_uid;
    *gid = pw->pw_gid;
    return 0;
}

int cli_priv_check(const char *user, char *msg, size_t n)
{
    uid_t uid;
    gid_t gid;
    return lookup(user, &uid, &gid, msg, n);
}

int cli_priv_drop(const char *user, char *msg, size_t n)
{
    uid_t uid;
    gid_t gid;
    if (lookup(user, &uid, &gid, msg, n)) return -1;
    /* groups first: changing them needs root, which setresuid gives up */
    if (initgroups(user, gid) != 0) {
        snprintf(msg, n, "--user '%s': cannot set its groups (%s)", user, strerror(errno));
        return -1;
    }
    if (setresgid(gid, gid, gid) != 0) {
        snprintf(msg, n, "--user '%s': cannot change to its group %u (%s)", user, (unsigned)gid, strerror(errno));
        return -1;
    }
    if (setresuid(uid, uid, uid) != 0) {
        snprintf(msg, n, "--user '%s': cannot change to its uid %u (%s)", user, (unsigned)uid, strerror(errno));
        return -1;
    }
    /* the proof: every id is the user's and root's cannot be taken back */
    uid_t ru, eu, su;
    gid_t rg, eg, sg;
    if (getresuid(&ru, &eu, &su) != 0 || ru != uid || eu != uid || su != uid ||
        getresgid(&rg, &eg, &sg) != 0 || rg != gid || eg != gid || sg != gid) {
        snprintf(msg, n, "--user '%s': the user and group ids did not all change", user);
        return -1;
    }
    if (setuid(0) == 0 || seteuid(0) == 0) {
        snprintf(msg, n, "--user '%s': root's privileges could be regained after the change", user);
        return -1;
    }
    if (gid != 0 && (setgid(0) == 0 || setegid(0) == 0)) {
        snprintf(msg, n, "--user '%s': root's group could be regained after the change", user);
        return -1;
    }
    return 0;
}
