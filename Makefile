# netintel — build, test and demo.
#   make            build/netintel (and build/libnetintel.a)
#   make check      every test: unit, golden cases, corpus agreement, fuzz smoke, ASan+UBSan
#   make demo       the main job on bundled data
#   make bench      benchmarks against peer tools (bench/README.md)
#   make fuzz       libFuzzer targets (clang), FUZZ_SECONDS each
# Sources are found by wildcard: a module is lib/<stage>/ni_<name>.c + .h, a
# command is src/cmd_<name>.c, a unit test is tests/unit/test_<name>.c.

CC      ?= cc
BUILD   ?= build
OPT     ?= -O2 -g
WERROR  ?= $(if $(CI),-Werror,)
PKGS    := libpcap libndpi libmaxminddb libpcre2-8 yaml-0.1 zlib libzstd libcrypto sqlite3 jansson
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  += -std=c11 -D_GNU_SOURCE -DNI_SOURCE_DATA=\"$(CURDIR)/data\" $(OPT) -Wall -Wextra $(WERROR) -Iinclude -Ilib $(PKG_CFLAGS) $(SAN)
LDLIBS  += $(PKG_LIBS) -lm -lpthread
LDFLAGS += $(SAN)

LIB_SRC  := $(sort $(wildcard lib/*/*.c))
CLI_SRC  := $(sort $(wildcard src/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
HDRS     := $(wildcard include/netintel/*.h lib/*/*.h src/*.h tests/unit/*.h)

.PHONY: all deps check check-unit check-asan demo bench fuzz clean
all: deps $(BUILD)/netintel

deps:
	@scripts/install-deps

$(BUILD)/obj/%.o: %.c $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/libnetintel.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/netintel: $(CLI_OBJ) $(BUILD)/libnetintel.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libnetintel.a $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libnetintel.a $(HDRS)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit $(LDFLAGS) -o $@ $< $(BUILD)/libnetintel.a $(LDLIBS)

tests: $(TEST_BIN)

check: all $(TEST_BIN)
	@BUILD=$(BUILD) tests/run-all

check-unit: all $(TEST_BIN)
	@BUILD=$(BUILD) tests/run-all unit

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
check-asan:
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" check

demo: all
	@scripts/demo

bench: all
	@BUILD=$(BUILD) bench/run

fuzz:
	@BUILD=$(BUILD) tests/fuzz/run --libfuzzer

clean:
	rm -rf build build-asan
