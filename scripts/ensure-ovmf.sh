#!/bin/sh
# The OVMF tests reproduce a digest published for Debian's OVMF image
# (packages/psp-firmware/test/vectors/ovmf/):
# install that package where it is missing (CI runs as root on Debian).
set -eu
image=/usr/share/ovmf/OVMF.fd
version=2022.11-6+deb12u2
[ -f "$image" ] && exit 0
if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
  echo "ensure-ovmf: $image is missing; install Debian's ovmf package ($version) as root" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq "ovmf=$version" >/dev/null || apt-get install -y -qq ovmf >/dev/null
