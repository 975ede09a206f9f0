/* test_verified.c — start-up verifications remembered by file identity
 * (lib/core/ni_verified): a file is remembered per check, found again while
 * its identity holds, not found when any part of it changes, not remembered
 * when it changed too recently; the cache is bounded, survives damage, and
 * NETINTEL_VERIFY_ALWAYS turns it off. */
#include "ni_test.h"
#include "core/ni_verified.h"

#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

static char dir[64];

static void setup(void)
{
    snprintf(dir, sizeof dir, "/tmp/ni-verified-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    setenv("XDG_CACHE_HOME", dir, 1);
    unsetenv("NETINTEL_VERIFY_ALWAYS");
}

static void cleanup(void)
{
    char p[128];
    snprintf(p, sizeof p, "%s/netintel/verified", dir); unlink(p);
    snprintf(p, sizeof p, "%s/netintel/fresh", dir); unlink(p);
    snprintf(p, sizeof p, "%s/netintel", dir); rmdir(p);
    rmdir(dir);
}

TEST(remembered_by_identity)
{
    setup();
    char path[256];
    CHECK(ni_verified_path(path, sizeof path));
    CHECK(strstr(path, dir) == path && strstr(path, "/netintel/verified"));
    /* an old file of the system (changed long before this run) */
    ni_fileid id;
    CHECK(ni_fileid_of("/usr/include/stdio.h", &id));
    CHECK(!ni_verified_has("test/1", &id));
    CHECK(ni_verified_add("test/1", &id));
    CHECK(ni_verified_has("test/1", &id));
    CHECK(!ni_verified_has("test/2", &id));              /* another check (or version) */
    ni_fileid x = id; x.size++;
    CHECK(!ni_verified_has("test/1", &x));
    x = id; x.ino++;
    CHECK(!ni_verified_has("test/1", &x));
    x = id; x.mtime_ns++;
    CHECK(!ni_verified_has("test/1", &x));
    x = id; x.ctime_ns++;
    CHECK(!ni_verified_has("test/1", &x));
    /* turned off */
    setenv("NETINTEL_VERIFY_ALWAYS", "1", 1);
    CHECK(!ni_verified_has("test/1", &id));
    setenv("NETINTEL_VERIFY_ALWAYS", "0", 1);
    CHECK(ni_verified_has("test/1", &id));
    unsetenv("NETINTEL_VERIFY_ALWAYS");
    cleanup();
}

TEST(fresh_file_not_remembered)
{
    setup();
    char p[128];
    snprintf(p, sizeof p, "%s/netintel", dir);
    mkdir(p, 0700);
    snprintf(p, sizeof p, "%s/netintel/fresh", dir);
    FILE *fp = fopen(p, "w");
    CHECK(fp != NULL);
    if (fp) { fputs("x", fp); fclose(fp); }
    ni_fileid id;
    CHECK(ni_fileid_of(p, &id));
    CHECK(!ni_verified_add("test/1", &id));     /* changed less than NI_VERIFIED_SETTLE_S ago */
    CHECK(!ni_verified_has("test/1", &id));
    cleanup();
}

TEST(bounded_and_damage_ignored)
{
    setup();
    ni_fileid id;
    CHECK(ni_fileid_of("/usr/include/stdio.h", &id));
    CHECK(ni_verified_add("test/1", &id));
    /* damage: garbage lines around the good one */
    char path[256];
    CHECK(ni_verified_path(path, sizeof path));
    FILE *fp = fopen(path, "a");
    CHECK(fp != NULL);
    if (fp) { fputs("garbage\nx\t1\t2\n\t\t\t\t\n", fp); fclose(fp); }
    CHECK(ni_verified_has("test/1", &id));
    /* more entries than kept: the oldest goes */
    for (int i = 0; i < NI_VERIFIED_ENTRIES + 5; i++) {
        ni_fileid x = id; x.ino += (uint64_t)i + 1;
        CHECK(ni_verified_add("test/n", &x));
    }
    CHECK(!ni_verified_has("test/1", &id));
    ni_fileid last = id; last.ino += NI_VERIFIED_ENTRIES + 5;
    CHECK(ni_verified_has("test/n", &last));
    int lines = 0, c;
    fp = fopen(path, "r");
    while (fp && (c = fgetc(fp)) != EOF) if (c == '\n') lines++;
    if (fp) fclose(fp);
    CHECK(lines <= NI_VERIFIED_ENTRIES);
    cleanup();
}

RUN(T(remembered_by_identity), T(fresh_file_not_remembered), T(bounded_and_damage_ignored))
