/* test_tcpos.c — the SYN-fingerprint matcher (lib/enrich/ni_tcpos): p0f 3's
 * matching rules on a small hand-written p0f.fp (file order, specific before
 * generic before fuzzy, the fuzzy quirk rules, TTL distance and `ttl-`,
 * wildcards, the window forms mss*N / mtu*N / %N / plain, IPv6 and `*`
 * signatures, userland tools), the catalogue's signatures refining p0f's
 * generic matches, label names mapped to families, stacks, and malformed
 * files refused with file and line. */
#include "ni_test.h"
#include "enrich/ni_tcpos.h"

#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static const char fp[] =
    "; a small database in p0f.fp's syntax\n"
    "classes = win,unix,other\n"
    "\n[mtu]\nlabel = Ethernet\nsig   = 1500\n"
    "\n[tcp:request]\n"
    "label = g:unix:Linux:generic early\n"                                  /* line 8 */
    "sig   = *:64:0:*:*,*:mss,sok,ts,nop,ws:df,id+:0\n"
    "label = s:unix:Linux:3.11 and newer\n"
    "sig   = *:64:0:*:mss*20,7:mss,sok,ts,nop,ws:df,id+:0\n"                /* line 11 */
    "label = s:unix:Linux:(Android)\n"
    "sig   = *:64:0:*:mss*44,1:mss,sok,ts,nop,ws:df,id+:0\n"
    "label = s:win:Windows:7 or 8\n"
    "sig   = *:128:0:*:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0\n"
    "label = s:unix:OpenVMS:8.x\n"
    "sig   = 4:128:0:1460:mtu*2,0:mss,nop,ws::0\n"
    "label = s:win:Windows:XP\n"
    "sig   = *:128:0:*:%8192,0:mss,nop,nop,sok:df,id+:*\n"
    "label = s:unix:MacOS X:10.9 or newer\n"
    "sig   = *:64:0:*:65535,4:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+:0\n"
    "label = s:unix:Linux:v6 only\n"
    "sig   = 6:64:0:1220:mss*20,7:mss,sok,ts,nop,ws:flow:0\n"
    "label = s:!:NMap:SYN scan\n"
    "sys   = @unix,@win\n"
    "sig   = *:64-:0:1460:1024,0:mss::0\n"
    "\n[tcp:response]\nlabel = s:unix:Linux:ignored\nsig   = *:64:0:*:mss*10,0:mss::0\n"
    "\n[http:request]\nua_os = Linux,Windows\nlabel = s:!:Firefox:2.x\nsys   = Windows\n"
    "sig   = *:Host,User-Agent:Connection:Firefox/\n";

static const char tsv[] =
    "kind\tmatch\tfamily\tdetail\tstack\tsource\n"
    "sig\t*:128:0:*:mss*44,8:mss,nop,ws,nop,nop,sok:df,id+:0\tWindows\t10\twindows\ttest\n"
    "sig\t*:64:0:*:mss*20,7:mss,sok,ts,nop,ws:df,id+:0\tNotLinux\tx\tother\ttest\n"
    "sig\t*:64:0:*:65535,6:mss,sok,ts,nop,ws:df,id+:0\tAndroid\t\tlinux\ttest\n"
    "p0f\tMacOS X\tMac OS X\t\tdarwin\ttest\n"
    "p0f\tLinux:(Android)\tAndroid\t\tlinux\ttest\n"
    "p0f\tLinux\tLinux\t\tlinux\ttest\n"
    "ua\tUbuntu\tUbuntu\t\tlinux\ttest\n";

static ni_tcpos *load(bool with_tsv)
{
    ni_tcpos *db = ni_tcpos_new();
    ni_error err = {0};
    CHECK(db && ni_tcpos_load_p0f_text(db, "test.fp", fp, sizeof fp - 1, &err) == NI_OK);
    if (err.code) fprintf(stderr, "  %s\n", err.msg);
    if (with_tsv) {
        char path[] = "/tmp/test_tcpos_XXXXXX";
        int fd = mkstemp(path);
        CHECK(fd >= 0);
        FILE *f = fdopen(fd, "w");
        fputs(tsv, f);
        fclose(f);
        CHECK(ni_tcpos_load_tsv(db, path, &err) == NI_OK);
        if (err.code) fprintf(stderr, "  %s\n", err.msg);
        unlink(path);
    }
    return db;
}

TEST(p0f_rules)
{
    ni_tcpos *db = load(false);
    CHECK_INT(ni_tcpos_count(db), 9);
    static const struct {
        const char *what, *fp; unsigned win;
        const char *family, *detail; int generic, fuzzy;
    } t[] = {
        { "specific beats an earlier generic", "4:64+0:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:0", 29200,
          "Linux", "3.11 and newer", 0, 0 },
        { "generic when no specific", "4:60+4:0:1400:mss*10,3:mss,sok,ts,nop,ws:df,id+:0", 14000,
          "Linux", "generic early", 1, 0 },
        { "wildcard MSS, distance counted", "4:50+14:0:1200:mss*20,7:mss,sok,ts,nop,ws:df,id+:0", 24000,
          "Linux", "3.11 and newer", 0, 0 },
        { "df and id+ may disappear (fuzzy)", "4:128+0:0:1460:8192,8:mss,nop,ws,nop,nop,sok::0", 8192,
          "Windows", "7 or 8", 0, 1 },
        { "id- and ecn may appear (fuzzy)", "4:128+0:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df,id+,ecn:0", 8192,
          "Windows", "7 or 8", 0, 1 },
        { "TTL farther than 35 hops (fuzzy)", "4:90+38:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df,id+:0", 8192,
          "Windows", "7 or 8", 0, 1 },
        { "a plain window given as mss*N", "4:128+0:0:1024:mss*8,8:mss,nop,ws,nop,nop,sok:df,id+:0", 8192,
          "Windows", "7 or 8", 0, 0 },
        { "mtu*N", "4:128+0:0:1460:mtu*2,0:mss,nop,ws::0", 3000, "OpenVMS", "8.x", 0, 0 },
        { "%N window, any payload", "4:125+3:0:1380:16384,0:mss,nop,nop,sok:df,id+:+", 16384, "Windows", "XP", 0, 0 },
        { "label name mapped? not without the catalogue", "4:64+0:0:1460:65535,4:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+:0",
          65535, "MacOS X", "10.9 or newer", 0, 0 },
        { "IPv6 signature", "6:64+0:0:1220:mss*20,7:mss,sok,ts,nop,ws:flow:0", 24400, "Linux", "v6 only", 0, 0 },
        { "a '*' signature on IPv6 ignores df/id+", "6:64+0:0:1440:mss*20,7:mss,sok,ts,nop,ws::0", 28800,
          "Linux", "3.11 and newer", 0, 0 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        ni_tcpos_result r;
        ni_t_current = t[i].what;
        CHECK(ni_tcpos_match(db, t[i].fp, t[i].win, &r));
        CHECK_STR(r.family, t[i].family);
        CHECK_STR(r.detail, t[i].detail);
        CHECK_INT(r.generic, t[i].generic);
        CHECK_INT(r.fuzzy, t[i].fuzzy);
        CHECK(!r.from_tsv);
    }
    ni_t_current = "p0f_rules";
    static const struct { const char *what, *fp; unsigned win; } none[] = {
        { "quirk that may not change", "4:128+0:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df,id+,ts1-:0", 8192 },
        { "other layout", "4:128+0:0:1460:8192,8:mss,ws,nop,nop,sok:df,id+:0", 8192 },
        { "window scale differs", "4:128+0:0:1460:8192,7:mss,nop,ws,nop,nop,sok:df,id+:0", 8192 },
        { "mss*N where the signature says mtu*N", "4:128+0:0:1460:mss*2,0:mss,nop,ws::0", 2920 },
        { "%N not dividing", "4:128+0:0:1380:16000,0:mss,nop,nop,sok:df,id+:0", 16000 },
        { "a userland tool is no OS", "4:60+4:0:1460:1024,0:mss::0", 1024 },
        { "TTL above a ttl- signature's", "4:70+58:0:1460:1024,0:mss::0", 1024 },
        { "payload where the signature has none", "4:128+0:0:1460:8192,8:mss,nop,ws,nop,nop,sok:df,id+:+", 8192 },
        { "not a fingerprint", "Linux 3.x", 0 },
        { "wildcards are not observations", "*:64+0:0:*:*,*:mss:df:0", 0 },
    };
    for (size_t i = 0; i < sizeof none / sizeof none[0]; i++) {
        ni_tcpos_result r;
        ni_t_current = none[i].what;
        CHECK(!ni_tcpos_match(db, none[i].fp, none[i].win, &r));
        CHECK(r.family == NULL);
    }
    ni_t_current = "p0f_rules";
    ni_tcpos_free(db);
}

TEST(catalogue)
{
    ni_tcpos *db = load(true);
    ni_tcpos_result r;
    /* refines p0f's generic match */
    CHECK(ni_tcpos_match(db, "4:64+0:0:1460:65535,6:mss,sok,ts,nop,ws:df,id+:0", 65535, &r));
    CHECK_STR(r.family, "Android");
    CHECK(r.detail == NULL);
    CHECK(r.from_tsv);
    CHECK_STR(r.stack, "linux");
    /* names what p0f does not know */
    CHECK(ni_tcpos_match(db, "4:128+0:0:1460:mss*44,8:mss,nop,ws,nop,nop,sok:df,id+:0", 64240, &r));
    CHECK_STR(r.family, "Windows");
    CHECK_STR(r.detail, "10");
    /* never overrides p0f's exact specific match */
    CHECK(ni_tcpos_match(db, "4:64+0:0:1460:mss*20,7:mss,sok,ts,nop,ws:df,id+:0", 29200, &r));
    CHECK_STR(r.family, "Linux");
    CHECK(!r.from_tsv);
    /* label names mapped to families */
    CHECK(ni_tcpos_match(db, "4:64+0:0:1460:65535,4:mss,nop,ws,nop,nop,ts,sok,eol+1:df,id+:0", 65535, &r));
    CHECK_STR(r.family, "Mac OS X");
    CHECK_STR(r.stack, "darwin");
    CHECK(ni_tcpos_match(db, "4:64+0:0:1460:mss*44,1:mss,sok,ts,nop,ws:df,id+:0", 64240, &r));
    CHECK_STR(r.family, "Android");
    CHECK_STR(r.detail, "(Android)");
    /* stacks of User-Agent families and of stack families */
    CHECK_STR(ni_tcpos_stack(db, "Ubuntu"), "linux");
    CHECK_STR(ni_tcpos_stack(db, "Mac OS X"), "darwin");
    CHECK_STR(ni_tcpos_stack(db, "Windows"), "windows");
    CHECK(ni_tcpos_stack(db, "Plan 9") == NULL);
    CHECK(ni_tcpos_stack(NULL, "Linux") == NULL);
    ni_tcpos_free(db);
}

TEST(bad_files)
{
    static const struct { const char *text, *msg; } t[] = {
        { "[tcp:request]\nlabel = s:unix:Linux:x\n", "x.fp:2: unknown class" },
        { "classes = unix\n[tcp:request]\nsig = *:64:0:*:*,*:mss::0\n", "x.fp:3: misplaced 'sig'" },
        { "classes = unix\n[tcp:request]\nlabel = s:unix:L:x\nsig = 6:64:0:*:*,*:mss:df:0\n", "x.fp:4: quirk not valid for IPv6" },
        { "classes = unix\n[tcp:request]\nlabel = s:unix:L:x\nsig = 4:64:0:*:*,*:mss,eol+1,nop::0\n", "x.fp:4: EOL must be the last option" },
        { "classes = unix\n[tcp:request]\nlabel = s:unix:L:x\nsig = 4:300:0:*:*,*:mss::0\n", "x.fp:4: bad initial TTL" },
        { "classes = unix\n[tcp:request]\nlabel = s:unix:L:x\nsig = 4:64:0:*:mss*0,*:mss::0\n", "x.fp:4: bad MSS/MTU multiplier" },
        { "classes = unix\n[tcp:request]\nlabel = s:!:Tool:x\nsig = 4:64:0:*:*,*:mss::0\n", "x.fp:4: misplaced 'sig'" },
        { "classes = unix\n[udp:request]\n", "x.fp:2: unknown section" },
        { "classes = unix\n[tcp:request]\nlabel = s:unix:L:x\nsig = 4:64:0:*:*,*:mss:zz:0\n", "x.fp:4: unknown quirk" },
        { "classes = unix\n[tcp:request]\nlabel = x:unix:L:x\n", "x.fp:3: bad label type" },
        { "classes = unix\nhello\n", "x.fp:2: expected 'name = value'" },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        ni_tcpos *db = ni_tcpos_new();
        ni_error err = {0};
        ni_t_current = t[i].msg;
        CHECK(ni_tcpos_load_p0f_text(db, "x.fp", t[i].text, strlen(t[i].text), &err) != NI_OK);
        CHECK_STR(err.msg, t[i].msg);
        ni_tcpos_free(db);
    }
    ni_t_current = "bad_files";
    ni_tcpos *db = ni_tcpos_new();
    ni_error err = {0};
    CHECK(ni_tcpos_load_p0f(db, "/nonexistent/p0f.fp", &err) == NI_ERR_NOTFOUND);
    CHECK(strstr(err.msg, "/nonexistent/p0f.fp") != NULL);
    ni_tcpos_free(db);
}

RUN(T(p0f_rules), T(catalogue), T(bad_files))
