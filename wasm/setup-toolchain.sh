#!/bin/sh
# Installs what wasm/build.sh needs on Debian 12 (bookworm), as root: Debian's emscripten (with
# the node-acorn it loads), cmake, dpkg-dev for `apt-get source`, and a deb-src entry so that
# libjpeg-turbo's source package can be fetched. Does nothing that is already done.
set -eu

if ! apt-get source --print-uris libjpeg-turbo >/dev/null 2>&1; then
  echo "deb-src http://deb.debian.org/debian bookworm main" >/etc/apt/sources.list.d/oss-image-worker-src.list
  updated=no
else
  updated=yes
fi
missing=""
for package in emscripten node-acorn cmake dpkg-dev; do
  dpkg -s "$package" >/dev/null 2>&1 || missing="$missing $package"
done
if [ "$updated" = no ] || [ -n "$missing" ]; then
  apt-get update -qq
fi
if [ -n "$missing" ]; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing >/dev/null
fi
