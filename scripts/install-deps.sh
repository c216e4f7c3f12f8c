#!/usr/bin/env bash
# Installs the Debian 12 packages edgelstm needs to build, test and benchmark on the host.
# Runs apt-get through sudo when not root. Safe to re-run.
set -euo pipefail

packages=(
  build-essential cmake            # compiler and build
  libgtest-dev                     # host-only tests (PyTorch parity)
  libbenchmark-dev                 # benchmarks
  python3 python3-torch            # reference values for parity tests, peer for benchmarks
  libcli11-dev                     # the edgelstm command line
  libglpk-dev                      # the battery optimiser's MILP (edgelstm policy)
  gnuplot-nox                      # plots in the reports
  r-cran-forecast                  # R's dshw: the reference double seasonal Holt-Winters is checked against
  mosquitto libmosquitto-dev openssl  # a real MQTT broker started by the tools, its client library, TLS certificates
  libsqlite3-dev                   # the gateway platform's reading store (fleet/)
  clang-14 libclang-rt-14-dev      # libFuzzer for the fuzz preset
  # Microcontroller targets, run under QEMU (see cmake/toolchains/)
  gcc-arm-none-eabi picolibc-arm-none-eabi libstdc++-arm-none-eabi-picolibc
  libstdc++-arm-none-eabi-dev      # C++ headers, also used by the RISC-V builds
  gcc-riscv64-unknown-elf picolibc-riscv64-unknown-elf
  gcc-xtensa-lx106 binutils-xtensa-lx106 picolibc-xtensa-lx106-elf
  gcc-12-source                    # GCC's libgcc sources: the LX106 routines Debian's libgcc lacks
  qemu-system-arm qemu-system-misc # qemu-system-misc: RISC-V and Xtensa
)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "installing: ${missing[*]}"
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
"${as_root[@]}" apt-get update -q
DEBIAN_FRONTEND=noninteractive "${as_root[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
