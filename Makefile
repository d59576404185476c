# Builds ad as a C and C++ library and installs it (Linux):
#
#   make install [PREFIX=/usr/local] [DESTDIR=] [LIBDIR=$(PREFIX)/lib] [INCLUDEDIR=$(PREFIX)/include]
#   make uninstall (the same variables)
#
# Installs LIBDIR/libad.so.X.Y.Z (soname libad.so.X) with the links libad.so.X and libad.so,
# LIBDIR/libad.a, INCLUDEDIR/ad.h and ad.hpp, LIBDIR/pkgconfig/ad.pc, and the CMake package
# LIBDIR/cmake/ad (imported targets ad::ad and ad::ad_static), without debug info.
#
# cargo builds the library in target/dist: the soname is a link argument that a plain
# `cargo build` does not pass, and a directory of its own keeps the two from rebuilding
# each other. (cargo-c does the same, but must itself be compiled from source first: cargo
# as a library and some 350 crates, longer than building and testing ad.)

PREFIX ?= /usr/local
LIBDIR ?= $(PREFIX)/lib
INCLUDEDIR ?= $(PREFIX)/include
DESTDIR ?=
CARGO ?= cargo
RUSTC ?= rustc
STRIP ?= strip

VERSION := $(shell sed -n 's/^version = "\([^"]*\)"/\1/p' Cargo.toml | head -n 1)
MAJOR := $(word 1,$(subst ., ,$(VERSION)))
MINOR := $(word 2,$(subst ., ,$(VERSION)))
DIST := target/dist
BUILT := $(DIST)/release

.PHONY: all build generate install uninstall
all: build

build:
	$(CARGO) rustc --release --lib --target-dir $(DIST) --crate-type cdylib --crate-type staticlib \
		-- -C link-arg=-Wl,-soname,libad.so.$(MAJOR)

# ad.pc and the CMake package, for the directories given: written on every install. They
# name the system libraries that a program linking libad.a needs: those of Rust's standard
# library, as rustc reports them for this target, less libgcc_s, which has no static archive
# (`cc -static` would fail on it) and which the compiler driver links by itself, as it links
# the unwinder of a static executable.
PC_LIBDIR = $(patsubst $(PREFIX)/%,$${prefix}/%,$(LIBDIR))
PC_INCLUDEDIR = $(patsubst $(PREFIX)/%,$${prefix}/%,$(INCLUDEDIR))
CMAKE_DIR = $(LIBDIR)/cmake/ad
# The CMake package finds the library and the headers from its own directory.
relative = $(shell realpath -m --relative-to=$(CMAKE_DIR) $(1))

generate:
	@mkdir -p $(DIST)
	echo '' | $(RUSTC) --crate-type staticlib --crate-name ad_probe --print native-static-libs \
		-o $(DIST)/ad_probe.a - 2>&1 | sed -n 's/.*native-static-libs: //p' \
		| sed -e 's/-lgcc_s\b//' -e 's/  */ /g' -e 's/^ //' -e 's/ $$//' \
		> $(DIST)/native-static-libs
	@test -s $(DIST)/native-static-libs || { echo "rustc did not report the native static libraries"; exit 1; }
	sed -e 's|@PREFIX@|$(PREFIX)|g' -e 's|@LIBDIR@|$(PC_LIBDIR)|g' -e 's|@INCLUDEDIR@|$(PC_INCLUDEDIR)|g' \
		-e 's|@VERSION@|$(VERSION)|g' -e "s|@NATIVE_STATIC_LIBS@|$$(cat $(DIST)/native-static-libs)|g" \
		packaging/ad.pc.in > $(DIST)/ad.pc
	sed -e 's|@CMAKE_TO_LIBDIR@|$(call relative,$(LIBDIR))|g' \
		-e 's|@CMAKE_TO_INCLUDEDIR@|$(call relative,$(INCLUDEDIR))|g' \
		-e 's|@VERSION@|$(VERSION)|g' -e 's|@MAJOR@|$(MAJOR)|g' \
		-e "s|@NATIVE_STATIC_LIBS_CMAKE@|$$(tr ' ' ';' < $(DIST)/native-static-libs)|g" \
		packaging/adConfig.cmake.in > $(DIST)/adConfig.cmake
	bits=$$($(RUSTC) --print cfg | sed -n 's/target_pointer_width="\(.*\)"/\1/p'); \
	sed -e 's|@VERSION@|$(VERSION)|g' -e 's|@MAJOR@|$(MAJOR)|g' -e 's|@MINOR@|$(MINOR)|g' \
		-e "s|@SIZEOF_VOID_P@|$$((bits / 8))|g" -e "s|@POINTER_BITS@|$$bits|g" \
		packaging/adConfigVersion.cmake.in > $(DIST)/adConfigVersion.cmake

# Rust's standard library brings debug info, which rustc strips from the shared library
# (the release profile) but not from an archive.
install: build generate
	install -d $(DESTDIR)$(LIBDIR) $(DESTDIR)$(LIBDIR)/pkgconfig $(DESTDIR)$(CMAKE_DIR) $(DESTDIR)$(INCLUDEDIR)
	install -m 755 $(BUILT)/libad.so $(DESTDIR)$(LIBDIR)/libad.so.$(VERSION)
	ln -sf libad.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libad.so.$(MAJOR)
	ln -sf libad.so.$(MAJOR) $(DESTDIR)$(LIBDIR)/libad.so
	install -m 644 $(BUILT)/libad.a $(DESTDIR)$(LIBDIR)/libad.a
	$(STRIP) --strip-debug $(DESTDIR)$(LIBDIR)/libad.a
	install -m 644 include/ad.h include/ad.hpp $(DESTDIR)$(INCLUDEDIR)
	install -m 644 $(DIST)/ad.pc $(DESTDIR)$(LIBDIR)/pkgconfig/ad.pc
	install -m 644 $(DIST)/adConfig.cmake $(DIST)/adConfigVersion.cmake $(DESTDIR)$(CMAKE_DIR)

uninstall:
	rm -f $(DESTDIR)$(LIBDIR)/libad.so.$(VERSION) $(DESTDIR)$(LIBDIR)/libad.so.$(MAJOR) \
		$(DESTDIR)$(LIBDIR)/libad.so $(DESTDIR)$(LIBDIR)/libad.a \
		$(DESTDIR)$(INCLUDEDIR)/ad.h $(DESTDIR)$(INCLUDEDIR)/ad.hpp \
		$(DESTDIR)$(LIBDIR)/pkgconfig/ad.pc \
		$(DESTDIR)$(CMAKE_DIR)/adConfig.cmake $(DESTDIR)$(CMAKE_DIR)/adConfigVersion.cmake
	-rmdir $(DESTDIR)$(CMAKE_DIR) 2>/dev/null
