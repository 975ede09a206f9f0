/* ni_test.h — the unit-test harness: a test file defines TEST(name) functions
 * and lists them in a RUN table; each CHECK that fails is reported with file,
 * line and expression, and main() ends with "N passed, N failed". */
#ifndef NI_TEST_H
#define NI_TEST_H

#include <stdio.h>
#include <string.h>
#include <stdint.h>

static int ni_t_failed_checks;
static const char *ni_t_current;

#define CHECK(cond) do { if (!(cond)) { ni_t_failed_checks++; \
    fprintf(stderr, "  FAIL %s: %s:%d: %s\n", ni_t_current, __FILE__, __LINE__, #cond); } } while (0)
#define CHECK_STR(a, b) do { const char *ni_a_ = (a), *ni_b_ = (b); \
    if (!((ni_a_ == NULL && ni_b_ == NULL) || (ni_a_ && ni_b_ && strcmp(ni_a_, ni_b_) == 0))) { \
    ni_t_failed_checks++; fprintf(stderr, "  FAIL %s: %s:%d: %s == \"%s\", expected \"%s\"\n", \
    ni_t_current, __FILE__, __LINE__, #a, ni_a_ ? ni_a_ : "(null)", ni_b_ ? ni_b_ : "(null)"); } } while (0)
#define CHECK_INT(a, b) do { long long ni_a_ = (long long)(a), ni_b_ = (long long)(b); \
    if (ni_a_ != ni_b_) { ni_t_failed_checks++; fprintf(stderr, "  FAIL %s: %s:%d: %s == %lld, expected %lld\n", \
    ni_t_current, __FILE__, __LINE__, #a, ni_a_, ni_b_); } } while (0)

/* Flips the bits of one byte in the middle of a file (a damaged cache):
 * false if the file cannot be opened for writing. */
static inline int ni_test_damage_middle(const char *path)
{
    FILE *f = fopen(path, "r+b");
    if (!f) return 0;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, n / 2, SEEK_SET);
    int c = fgetc(f);
    fseek(f, n / 2, SEEK_SET);
    fputc(c ^ 0x55, f);
    fclose(f);
    return 1;
}

#define TEST(name) static void name(void)
typedef struct { const char *name; void (*fn)(void); } ni_test_case;
#define T(name) { #name, name }

static inline int ni_test_main(const char *file, const ni_test_case *cases, size_t n)
{
    int passed = 0, failed = 0;
    for (size_t i = 0; i < n; i++) {
        int before = ni_t_failed_checks;
        ni_t_current = cases[i].name;
        cases[i].fn();
        if (ni_t_failed_checks == before) passed++;
        else { failed++; fprintf(stderr, "FAILED %s\n", cases[i].name); }
    }
    printf("%s: %d passed, %d failed\n", file, passed, failed);
    return failed ? 1 : 0;
}
#define RUN(...) int main(void) { static const ni_test_case c_[] = { __VA_ARGS__ }; \
    return ni_test_main(__FILE__, c_, sizeof c_ / sizeof c_[0]); }

#endif
