# Shared by wasm/build.sh and every wasm/libs/<library>.sh (sourced, POSIX sh).
#
# Each library script defines build_<name>, which fetches a Debian source package at a pinned
# version, builds it with Debian's emscripten into a static library and installs headers and the
# library into $PREFIX. A build is cached: it is skipped when $PREFIX/stamps/<name> records the
# same inputs (the library's script, this file, the compiler).
#
# Reproducibility: nothing may depend on the date, the clock or the build directory. Paths are
# mapped with -ffile-prefix-map (assert messages embed __FILE__), SOURCE_DATE_EPOCH is fixed, and
# tools that stamp a date (libjpeg-turbo's BUILD) are given one.

: "${WORK:?}" "${HERE:?}"
SRC=$WORK/src
PREFIX=$WORK/prefix
mkdir -p "$SRC" "$PREFIX/include" "$PREFIX/lib" "$PREFIX/stamps"

# Any date a tool reads from the environment: the day of the oldest source package we build.
export SOURCE_DATE_EPOCH=1675434522
export TZ=UTC LC_ALL=C
# Debian's emscripten loads acorn from Debian's node modules.
export NODE_PATH=/usr/share/nodejs

# Every object of the engine is compiled with these; libraries may add their own. setjmp/longjmp
# (libpng, libtiff, aom) use WebAssembly exception handling, which workerd runs (env.setTempRet0
# and env.getTempRet0 are the only imports it adds).
ENGINE_CFLAGS="-O3 -msimd128 -sSUPPORT_LONGJMP=wasm -DNDEBUG -ffile-prefix-map=$WORK=/engine -ffile-prefix-map=$HERE=/engine"

# apt-get source <package>=<version> into $SRC, once, unpacked into $SRC/<dir>. Exits with 3 when the
# archive no longer offers that version (or cannot be reached): the engine then cannot be verified.
fetch_source() {
  package=$1 version=$2 dir=$3
  if [ ! -d "$SRC/$dir" ]; then
    (cd "$SRC" && apt-get source --only-source "$package=$version" >"$SRC/$package.fetch.log" 2>&1) || {
      echo "build.sh: apt-get source $package=$version failed (see $SRC/$package.fetch.log)." >&2
      echo "  Debian may have replaced that version: pin the one 'apt-cache showsrc $package' lists," >&2
      echo "  rebuild the engine and commit it." >&2
      exit 3
    }
  fi
  [ -d "$SRC/$dir" ] || { echo "build.sh: $package did not unpack into $dir" >&2; exit 1; }
}

# What a library's build depends on; a change rebuilds it.
library_inputs() {
  cat "$HERE/libs/common.sh" "$HERE/libs/$1.sh"
  emcc --version | head -n 1
}

# True when the library was built from exactly these inputs.
is_built() {
  [ -f "$PREFIX/stamps/$1" ] && library_inputs "$1" | cmp -s - "$PREFIX/stamps/$1"
}

mark_built() {
  library_inputs "$1" >"$PREFIX/stamps/$1"
}
