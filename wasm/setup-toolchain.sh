#!/bin/sh
# Installs what wasm/build.sh needs on Debian 12 (bookworm), as root: Debian's emscripten (with the
# node-acorn it loads), cmake, meson, ninja, pkg-config, dpkg-dev for `apt-get source`, and a
# deb-src entry so that the engine's source packages can be fetched. Does nothing that is done.
#
# The deb-src entry copies the machine's own Debian entries, in the style they are written in:
# - deb822 (`/etc/apt/sources.list.d/*.sources`, Debian 12's default `debian.sources`): a
#   `.sources` file with `Types: deb-src` and the same URIs, Suites, Components and Signed-By.
#   A one-line `deb-src` entry for the same URI would conflict with the deb822 one's Signed-By
#   and break every apt command on the machine.
# - one-line (`/etc/apt/sources.list`): a `.list` file with the same lines as `deb-src`.
# If apt does not accept the new entry, it is removed again, so apt keeps working either way.
set -eu

ENTRY_DIR=/etc/apt/sources.list.d
ENTRY_NAME=oss-image-worker-src

has_source_entry() {
  apt-get source --print-uris --only-source libjpeg-turbo >/dev/null 2>&1
}

# deb822 stanzas of Debian's own archives (the URI names debian), turned into deb-src stanzas.
# Stanzas are separated by blank lines; comments are dropped; `Enabled: no` stanzas are skipped.
deb822_source_stanzas() {
  for file in "$ENTRY_DIR"/*.sources; do
    [ -f "$file" ] || continue
    [ "$(basename "$file")" = "$ENTRY_NAME.sources" ] && continue
    awk '
      function flush() {
        if (types ~ /(^| )deb( |$)/ && types !~ /deb-src/ && uris ~ /debian/ && enabled !~ /^[Nn]o$/) {
          print "Types: deb-src"
          print "URIs:" uris
          print "Suites:" suites
          print "Components:" components
          if (signedby != "") print "Signed-By:" signedby
          print ""
        }
        types = ""; uris = ""; suites = ""; components = ""; signedby = ""; enabled = ""
      }
      /^[ \t]*#/ { next }
      /^[ \t]*$/ { flush(); next }
      { field = tolower($1); sub(/^[^:]*:/, ""); value = $0 }
      field == "types:" { types = value }
      field == "uris:" { uris = value }
      field == "suites:" { suites = value }
      field == "components:" { components = value }
      field == "signed-by:" { signedby = value }
      field == "enabled:" { enabled = value; gsub(/[ \t]/, "", enabled) }
      END { flush() }
    ' "$file"
  done
}

# One-line `deb` entries of Debian's archives, as `deb-src` lines (options such as [signed-by=…] kept).
one_line_source_entries() {
  for file in /etc/apt/sources.list "$ENTRY_DIR"/*.list; do
    [ -f "$file" ] || continue
    [ "$(basename "$file")" = "$ENTRY_NAME.list" ] && continue
    sed -n 's/^[ \t]*deb[ \t]\(.*debian.*\)$/deb-src \1/p' "$file"
  done
}

add_source_entry() {
  stanzas=$(deb822_source_stanzas)
  if [ -n "$stanzas" ]; then
    target="$ENTRY_DIR/$ENTRY_NAME.sources"
    printf '%s\n' "# Written by oss-image-worker's wasm/setup-toolchain.sh (apt-get source for the codec engine)." "$stanzas" >"$target"
  else
    lines=$(one_line_source_entries)
    target="$ENTRY_DIR/$ENTRY_NAME.list"
    if [ -n "$lines" ]; then
      printf '%s\n' "# Written by oss-image-worker's wasm/setup-toolchain.sh." "$lines" >"$target"
    else
      # No Debian entry at all: name the archive the way Debian 12 itself does.
      target="$ENTRY_DIR/$ENTRY_NAME.sources"
      printf '%s\n' "Types: deb-src" "URIs: http://deb.debian.org/debian" "Suites: bookworm bookworm-updates" \
        "Components: main" "Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg" >"$target"
    fi
  fi
  if ! apt-get update -qq; then
    rm -f "$target"
    apt-get update -qq || true
    echo "setup-toolchain.sh: apt refused the deb-src entry written to $target; removed it again" >&2
    exit 1
  fi
}

updated=no
if ! has_source_entry; then
  add_source_entry
  updated=yes
fi
missing=""
for package in emscripten node-acorn cmake meson ninja-build pkg-config dpkg-dev; do
  dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
done
if [ -n "$missing" ]; then
  [ "$updated" = yes ] || apt-get update -qq
  # shellcheck disable=SC2086
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
has_source_entry || { echo "setup-toolchain.sh: apt-get source still finds no libjpeg-turbo source" >&2; exit 1; }
