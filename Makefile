# netintel — build, test, demo and install.
#   make            build/netintel (and build/libnetintel.a); says which Debian
#                   packages are missing instead of installing them
#   make deps       install what is missing (scripts/install-deps: apt-get, npm)
#   make check      install what is missing, build, run every test
#   make demo       install what is missing, build, the main job on bundled data
#   make install    PREFIX=/usr/local DESTDIR= : binary, run-time data, man page,
#                   bash completion; make uninstall removes them
#   make bench      benchmarks against peer tools (bench/README.md)
#   make fuzz       libFuzzer targets (clang), FUZZ_SECONDS each
# Sources are found by wildcard: a module is lib/<stage>/ni_<name>.c + .h, a
# command is src/cmd_<name>.c, a unit test is tests/unit/test_<name>.c.
#
# The README's two commands (demo, check) first install what is missing and
# then build in a second make, so that pkg-config is asked for flags only
# after the libraries are there: the first run on a fresh machine works.

CC      ?= cc
BUILD   ?= build
OPT     ?= -O2 -g
WERROR  ?= $(if $(CI),-Werror,)
PREFIX  ?= /usr/local
DESTDIR ?=
BINDIR  ?= $(PREFIX)/bin
DATADIR ?= $(PREFIX)/share/netintel
MANDIR  ?= $(PREFIX)/share/man
COMPDIR ?= $(PREFIX)/share/bash-completion/completions
# pkg-config modules the library uses (scripts/install-deps maps each to
# its Debian package).  libcurl is compiled against but not linked: it is
# loaded when a ClickHouse connection is made (lib/ingest/ni_curl.h).
PKGS    := libpcap libndpi libmaxminddb libpcre2-8 yaml-0.1 zlib libzstd libcrypto jansson sqlite3 libcurl
PKGS_DLOPEN := libcurl
PKG_OK     := $(shell pkg-config --exists $(PKGS) 2>/dev/null && echo yes)
PKG_CFLAGS := $(if $(PKG_OK),$(shell pkg-config --cflags $(PKGS)))
PKG_LIBS   := $(if $(PKG_OK),$(shell pkg-config --libs $(filter-out $(PKGS_DLOPEN),$(PKGS))))
CFLAGS  += -std=c11 -D_GNU_SOURCE -DNI_SOURCE_DATA=\"$(CURDIR)/data\" $(OPT) -Wall -Wextra $(WERROR) \
           -Iinclude -Ilib $(PKG_CFLAGS) $(SAN) -MMD -MP
LDLIBS  += $(PKG_LIBS) -lm
LDFLAGS += $(SAN)

LIB_SRC  := $(sort $(wildcard lib/*/*.c))
CLI_SRC  := $(sort $(wildcard src/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/test_*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/obj/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/obj/%.o)
TEST_BIN := $(TEST_SRC:tests/unit/%.c=$(BUILD)/tests/%)
EXAMPLE_SRC := $(sort $(wildcard examples/*.c))
EXAMPLES := $(EXAMPLE_SRC:examples/%.c=$(BUILD)/examples/%)

VERSION   := $(shell sed -n 's/^\#define NETINTEL_VERSION "\(.*\)"/\1/p' include/netintel/netintel.h)
ABI_MAJOR := $(shell sed -n 's/^\#define NETINTEL_API_VERSION \([0-9]*\)/\1/p' include/netintel/netintel.h)
LIBDIR    ?= $(PREFIX)/lib
INCDIR    ?= $(PREFIX)/include

.PHONY: all deps need-deps check check-run check-unit check-asan demo demo-run bench fuzz \
        examples install uninstall clean
all: $(BUILD)/netintel $(BUILD)/libnetintel.so $(BUILD)/netintel.pc

# Plain `make` never installs: it names what is missing and stops.
need-deps:
	@scripts/install-deps --check

deps:
	@scripts/install-deps

$(BUILD)/obj/%.o: %.c | need-deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

# the library's objects are position-independent: one set serves the static
# and the shared library
$(BUILD)/obj/lib/%.o: lib/%.c | need-deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fPIC -c $< -o $@

$(BUILD)/libnetintel.so: $(LIB_OBJ)
	$(CC) $(LDFLAGS) -shared -Wl,-soname,libnetintel.so.$(ABI_MAJOR) -o $@.$(VERSION) $^ $(LDLIBS)
	ln -sf libnetintel.so.$(VERSION) $(BUILD)/libnetintel.so.$(ABI_MAJOR)
	ln -sf libnetintel.so.$(VERSION) $@

PC_SED = sed -e 's|@PREFIX@|$(PREFIX)|; s|@LIBDIR@|$(LIBDIR)|; s|@INCDIR@|$(INCDIR)|; s|@VERSION@|$(VERSION)|' \
             -e 's|@REQUIRES@|$(PKGS)|' netintel.pc.in
$(BUILD)/netintel.pc: netintel.pc.in include/netintel/netintel.h
	@mkdir -p $(BUILD)
	$(PC_SED) > $@

$(BUILD)/libnetintel.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/netintel: $(CLI_OBJ) $(BUILD)/libnetintel.a
	$(CC) $(LDFLAGS) -o $@ $(CLI_OBJ) $(BUILD)/libnetintel.a $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libnetintel.a | need-deps
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MF $@.d -MT $@ -Itests/unit $(LDFLAGS) -o $@ $< $(BUILD)/libnetintel.a $(LDLIBS)

tests: $(TEST_BIN)

# The embedding examples (docs/API.md): only the public headers, linked
# against the shared library as another program would be.
$(BUILD)/examples/%: examples/%.c $(BUILD)/libnetintel.so $(wildcard include/netintel/*.h)
	@mkdir -p $(dir $@)
	$(CC) -std=c11 $(OPT) -Wall -Wextra $(WERROR) $(SAN) -Iinclude -o $@ $< \
	  -L$(BUILD) -Wl,-rpath,$(CURDIR)/$(BUILD) -lnetintel

examples: $(EXAMPLES)

# The README's commands: install what is missing, then build and run in a
# fresh make that sees the libraries.
check:
	@scripts/install-deps
	@$(MAKE) --no-print-directory check-run

check-run: all $(TEST_BIN) $(EXAMPLES)
	@BUILD=$(BUILD) tests/run-all

check-unit: all $(TEST_BIN)
	@BUILD=$(BUILD) tests/run-all unit

# The whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
check-asan:
	@$(MAKE) --no-print-directory BUILD=build-asan OPT="-O1 -g -fno-omit-frame-pointer" \
	  SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined" check

demo:
	@scripts/install-deps
	@$(MAKE) --no-print-directory demo-run

demo-run: all
	@BUILD=$(BUILD) scripts/demo

bench: all
	@scripts/install-deps --bench
	@BUILD=$(BUILD) bench/run

fuzz:
	@BUILD=$(BUILD) tests/fuzz/run --libfuzzer

# Run-time data: the catalogues, presets and scenarios of data/, and of the
# npm data in data/ext only the files netintel reads (with their package.json
# for `netintel --version`, and their licences).
EXT_FILES := uap-core/regexes.yaml uap-core/package.json uap-core/LICENSE \
  $(addprefix node-device-detector/,package.json README.md regexes/vendorfragments.js regexes/device-info/device.js \
    $(addprefix regexes/device/,televisions.js shell_tv.js notebooks.js consoles.js car_browsers.js cameras.js \
      portable_media_player.js mobiles.js)) \
  @mdn/browser-compat-data/data.json @mdn/browser-compat-data/package.json @mdn/browser-compat-data/LICENSE \
  @ip-location-db/geo-whois-asn-country-mmdb/geo-whois-asn-country.mmdb \
  @ip-location-db/geo-whois-asn-country-mmdb/package.json @ip-location-db/geo-whois-asn-country-mmdb/NRO_LICENSE \
  @ip-location-db/asn/asn-ipv4.csv @ip-location-db/asn/asn-ipv6.csv @ip-location-db/asn/package.json \
  @ip-location-db/asn/DBIP-LICENSE @ip-location-db/asn/NRO_LICENSE @ip-location-db/asn/ROUTEVIEWS-LICENSE
DATA_FILES := $(shell git ls-files data 2>/dev/null || find data -path data/ext -prune -o -type f -print)

install: all
	@for f in $(EXT_FILES); do [ -f data/ext/node_modules/$$f ] || { \
	  echo "make install: data/ext/node_modules/$$f is missing: run 'make deps' first" >&2; exit 1; }; done
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(DATADIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(COMPDIR)
	install -m 755 $(BUILD)/netintel $(DESTDIR)$(BINDIR)/netintel
	@for f in $(DATA_FILES:data/%=%); do \
	  install -D -m 644 data/$$f $(DESTDIR)$(DATADIR)/$$f || exit 1; done
	@for f in $(EXT_FILES); do \
	  install -D -m 644 data/ext/node_modules/$$f $(DESTDIR)$(DATADIR)/ext/node_modules/$$f || exit 1; done
	install -m 644 docs/netintel.1 $(DESTDIR)$(MANDIR)/man1/netintel.1
	install -m 644 scripts/netintel.bash-completion $(DESTDIR)$(COMPDIR)/netintel
	install -d $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(INCDIR)/netintel
	install -m 644 $(BUILD)/libnetintel.a $(DESTDIR)$(LIBDIR)/libnetintel.a
	install -m 755 $(BUILD)/libnetintel.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libnetintel.so.$(VERSION)
	ln -sf libnetintel.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libnetintel.so.$(ABI_MAJOR)
	ln -sf libnetintel.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libnetintel.so
	install -m 644 include/netintel/*.h $(DESTDIR)$(INCDIR)/netintel/
	$(PC_SED) > $(DESTDIR)$(LIBDIR)/pkgconfig/netintel.pc

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/netintel $(DESTDIR)$(MANDIR)/man1/netintel.1 $(DESTDIR)$(COMPDIR)/netintel
	rm -f $(DESTDIR)$(LIBDIR)/libnetintel.a $(DESTDIR)$(LIBDIR)/libnetintel.so* $(DESTDIR)$(LIBDIR)/pkgconfig/netintel.pc
	rm -rf $(DESTDIR)$(DATADIR) $(DESTDIR)$(INCDIR)/netintel

clean:
	rm -rf build build-asan

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_BIN:=.d)
