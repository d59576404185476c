#!/usr/bin/env bash
# Installs ad into a temporary prefix as a user does (`make install`) and builds programs
# outside the source tree against it: C with pkg-config only (shared, and static through
# `pkg-config --static`), C++ with CMake's find_package(ad) only; all of them run. Checks
# what is installed (the soname and its links, no debug info) and a DESTDIR install, which
# the CMake package must find wherever the tree lies. Installs cmake and pkg-config from
# Debian's packages when they are missing.
set -euo pipefail
cd "$(dirname "$0")/../.."
root=$PWD

missing=()
command -v cmake >/dev/null 2>&1 || missing+=(cmake)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
if [ ${#missing[@]} -gt 0 ]; then
    echo "installing ${missing[*]} (the install test builds programs with them)"
    sudo=""
    [ "$(id -u)" -ne 0 ] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

fail() {
    echo "install test: $*" >&2
    exit 1
}

version=$(sed -n 's/^version = "\([^"]*\)"/\1/p' Cargo.toml | head -n 1)
major=${version%%.*}
minor=${version#*.}
minor=${minor%%.*}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
lib=$prefix/lib

make -s install PREFIX="$prefix"

for f in "lib/libad.so.$version" lib/libad.a include/ad.h include/ad.hpp lib/pkgconfig/ad.pc \
    lib/cmake/ad/adConfig.cmake lib/cmake/ad/adConfigVersion.cmake; do
    [ -f "$prefix/$f" ] || fail "$f was not installed"
done
[ "$(readlink "$lib/libad.so.$major")" = "libad.so.$version" ] || fail "libad.so.$major does not link to libad.so.$version"
[ "$(readlink "$lib/libad.so")" = "libad.so.$major" ] || fail "libad.so does not link to libad.so.$major"
readelf -d "$lib/libad.so.$version" | grep -qF "Library soname: [libad.so.$major]" || fail "the soname is not libad.so.$major"
for f in "$lib/libad.so.$version" "$lib/libad.a"; do
    if readelf -S "$f" | grep -q '\.debug_'; then fail "$f carries debug info"; fi
done

# Built outside the source tree, with nothing but what the installed files say.
cd "$tmp"

# C with pkg-config: linked to the soname, then static.
export PKG_CONFIG_PATH=$lib/pkgconfig
[ "$(pkg-config --modversion ad)" = "$version" ] || fail "pkg-config reports ad $(pkg-config --modversion ad)"
# shellcheck disable=SC2046 # pkg-config's output is a list of flags
cc "$root/tests/install/app.c" $(pkg-config --cflags --libs ad) -o app_c
readelf -d app_c | grep -qF "Shared library: [libad.so.$major]" || fail "app_c does not need libad.so.$major"
LD_LIBRARY_PATH=$lib ./app_c
# glibc warns that a static program still loads its name-service modules to look up users
# and hosts (Rust's std can do both); the program does neither.
# shellcheck disable=SC2046
cc -static "$root/tests/install/app.c" $(pkg-config --static --cflags --libs ad) -o app_c_static 2>static.log ||
    { cat static.log; fail "static linking through pkg-config --static failed"; }
if readelf -d app_c_static | grep -q NEEDED; then fail "app_c_static is not static"; fi
./app_c_static

# C++ with CMake's package: the shared and the static target.
cmake -S "$root/tests/install" -B build -DCMAKE_PREFIX_PATH="$prefix" -DAD_WANTED="$version" >cmake.log 2>&1 &&
    cmake --build build >>cmake.log 2>&1 || { cat cmake.log; fail "the CMake project did not build"; }
./build/app
./build/app_static
if readelf -d build/app_static | grep -q 'libad'; then fail "app_static needs a shared libad"; fi
if cmake -S "$root/tests/install" -B refused -DCMAKE_PREFIX_PATH="$prefix" -DAD_WANTED="$major.$((minor + 1))" \
    >refused.log 2>&1; then
    fail "find_package(ad $major.$((minor + 1))) accepted ad $version"
fi

# DESTDIR: files staged under it, paths in them without it; the CMake package still finds
# the library from its own place.
cd "$root"
make -s install DESTDIR="$tmp/stage" PREFIX=/usr >/dev/null
[ -f "$tmp/stage/usr/lib/libad.so.$version" ] || fail "DESTDIR was not honoured"
grep -qx 'prefix=/usr' "$tmp/stage/usr/lib/pkgconfig/ad.pc" || fail "ad.pc names the DESTDIR"
cmake -S tests/install -B "$tmp/staged" -DCMAKE_PREFIX_PATH="$tmp/stage/usr" >"$tmp/staged.log" 2>&1 &&
    cmake --build "$tmp/staged" --target app >>"$tmp/staged.log" 2>&1 || { cat "$tmp/staged.log"; fail "the staged package did not build"; }
"$tmp/staged/app" >/dev/null
make -s uninstall DESTDIR="$tmp/stage" PREFIX=/usr
leftover=$(find "$tmp/stage" -type f -o -type l)
[ -z "$leftover" ] || fail "make uninstall left $leftover"
echo "install test: passed"
