#!/bin/sh
# Packs the headers and shared libraries of mmdb's C dependencies (SQLite,
# libcurl, libarchive, ncurses, libjpeg-turbo, libpng, giflib, libwebp,
# utf8proc) from this Debian machine into .gpudeps/, plus GNU make, so that a
# machine without them or without network (the GPU machine) can build mmdb
# with `make DEPS_PREFIX=.gpudeps`. Run after `make deps`.
set -eu
top=$(cd "$(dirname "$0")/../.." && pwd)
out="$top/.gpudeps"
rm -rf "$out"
mkdir -p "$out/include" "$out/lib" "$out/bin"
arch=$(gcc -print-multiarch)

# headers
for h in sqlite3.h sqlite3ext.h archive.h archive_entry.h turbojpeg.h png.h pngconf.h \
	 libpng16 gif_lib.h webp utf8proc.h curses.h ncurses.h ncurses_dll.h term.h \
	 termcap.h unctrl.h eti.h menu.h panel.h form.h ncursesw; do
	[ -e "/usr/include/$h" ] && cp -rL "/usr/include/$h" "$out/include/"
done
cp -rL /usr/include/$arch/curl "$out/include/" 2>/dev/null || cp -rL /usr/include/curl "$out/include/"
# gloo's headers (libgloo-dev) for c10d's ProcessGroupGloo.hpp, and CUDA's
# crt/ and nv/ headers, which PyPI's CUDA wheels lack, for its
# ProcessGroupNCCL.hpp (from this machine's CUDA toolkit: the same CUDA major
# version as the GPU machine's torch; tests/gpu/run.sh passes
# CUDA_HOME=.gpudeps/cuda).
[ -d /usr/include/gloo ] && cp -rL /usr/include/gloo "$out/include/"
if [ -d /usr/local/cuda/include/crt ] && [ -d /usr/local/cuda/include/nv ]; then
	mkdir -p "$out/cuda/include"
	cp -rL /usr/local/cuda/include/crt /usr/local/cuda/include/nv "$out/cuda/include/"
	cp -L /usr/local/cuda/version.json "$out/cuda/" 2>/dev/null || true
fi
[ -e /usr/include/$arch/pnglibconf.h ] && cp -L /usr/include/$arch/pnglibconf.h "$out/include/"
for h in /usr/include/$arch/curses.h /usr/include/$arch/ncurses_dll.h /usr/include/$arch/unctrl.h \
	 /usr/include/$arch/ncurses.h; do
	[ -e "$h" ] && cp -L "$h" "$out/include/"
done

# libraries: the ones mmdb links and everything they pull in, except the C
# runtime that every Linux machine has.
libs="sqlite3 curl archive ncursesw tinfo turbojpeg png16 gif webp utf8proc crypto"
list=$(mktemp)
for l in $libs; do
	f=$(ls /usr/lib/$arch/lib$l.so 2>/dev/null || ls /lib/$arch/lib$l.so.* 2>/dev/null | head -1)
	f=$(readlink -f "$f")
	echo "$f" >>"$list"
	ldd "$f" | awk '/=>/ { print $3 }' >>"$list"
done
sort -u "$list" | while read -r f; do
	case $(basename "$f") in
	libc.so*|libm.so*|libdl.so*|libpthread.so*|librt.so*|ld-linux*|libstdc++*|libgcc_s*|libresolv.so*) continue ;;
	esac
	real=$(readlink -f "$f")
	# a linker script (libncursesw.so is one) is rewritten below
	head -c 4 "$real" | grep -q ELF || continue
	# keep the SONAME the binary will ask for
	soname=$(objdump -p "$real" 2>/dev/null | awk '/SONAME/ { print $2 }')
	cp -L "$real" "$out/lib/${soname:-$(basename "$f")}"
done
rm -f "$list"
# ncurses: the real libraries behind Debian's linker scripts
for l in ncursesw tinfo; do
	cp -L /lib/$arch/lib$l.so.6 "$out/lib/lib$l.so.6"
done
# unversioned names for the linker
for l in $libs; do
	so=$(ls "$out"/lib/lib$l.so.* 2>/dev/null | head -1)
	[ -n "$so" ] && cp "$so" "$out/lib/lib$l.so"
done
cp "$(command -v make)" "$out/bin/make"
du -sh "$out"
# as Debian does: -lncursesw brings libtinfo along
echo 'INPUT(libncursesw.so.6 libtinfo.so.6)' >"$out/lib/libncursesw.so"
strip --strip-unneeded "$out"/lib/*.so* 2>/dev/null || true
# one compressed file travels; tests/gpu/run.sh unpacks it
tar -C "$top" -cJf "$top/.gpudeps.tar.xz" .gpudeps
ls -l "$top/.gpudeps.tar.xz"
