/* test_map.c — ni_map_remove (core/ni_map): backward-shift deletion keeps
 * every other key reachable, in tables small enough that probe sequences
 * wrap around the end, under several hash keys. */
#include "ni_test.h"
#include "core/ni_map.h"

#include <stdio.h>
#include <string.h>

TEST(remove_keeps_others_reachable)
{
    for (uint64_t seed = 1; seed <= 20; seed++) {
        ni_hash_key k = { seed * 0x9E3779B97F4A7C15ull, seed };
        ni_map *m = ni_map_new_keyed(1000, &k);
        static int val[300];
        static bool in[300];
        char key[32];
        for (int i = 0; i < 300; i++) {
            val[i] = i; in[i] = true;
            snprintf(key, sizeof key, "k%d", i);
            CHECK_INT(ni_map_put(m, key, &val[i]), NI_OK);
        }
        /* remove in a scattered order, re-add some, check all after each step */
        for (int step = 0; step < 300; step++) {
            int i = (int)((step * 7 + seed * 13) % 300);
            snprintf(key, sizeof key, "k%d", i);
            void *v = ni_map_remove(m, key);
            CHECK(in[i] ? v == &val[i] : v == NULL);
            in[i] = false;
            if (step % 5 == 0) {
                int r = (step * 11) % 300;
                snprintf(key, sizeof key, "k%d", r);
                if (!in[r]) { CHECK_INT(ni_map_put(m, key, &val[r]), NI_OK); in[r] = true; }
            }
            if (step % 37 == 0 || step == 299) {
                size_t n = 0;
                for (int j = 0; j < 300; j++) {
                    snprintf(key, sizeof key, "k%d", j);
                    CHECK(ni_map_get(m, key) == (in[j] ? &val[j] : NULL));
                    n += in[j];
                }
                CHECK_INT(ni_map_count(m), n);
            }
        }
        CHECK(ni_map_remove(m, "absent") == NULL);
        ni_map_free(m, NULL);
    }
}

RUN(T(remove_keeps_others_reachable))
