#!/usr/bin/env bash
# Runs a bare-metal test program under QEMU with semihosting: its output on stdout, its exit code
# as ours. Every run is bounded by a timeout (a guest that faults in a loop never exits): exit 124
# (and SIGKILL 5 s later if QEMU ignores the SIGTERM).
#
# usage: run.sh <cortex-m4f|rv32imc|rv32imafc|stm32f405|xtensa-lx106> <program.elf> [arguments...]
# EDGELSTM_QEMU_TIMEOUT (seconds, default 300) and EDGELSTM_QEMU_EXTRA (more QEMU flags, e.g. a
# -plugin) adjust the run.
set -euo pipefail
target="$1"
program="$2"
shift 2
# picolibc's semihosting start-up supplies argv[0] itself; arg= entries become argv[1...]. QEMU's
# Xtensa simcall layer hands the guest exactly the arg= list, so there the program's name comes first.
# A comma inside a value is written twice (QEMU's option syntax).
semihosting="enable=on,target=native,chardev=sh0"
if [ "$target" = xtensa-lx106 ]; then
  semihosting="$semihosting,arg=${program//,/,,}"
fi
for argument in "$@"; do
  semihosting="$semihosting,arg=${argument//,/,,}"
done
case "$target" in
  cortex-m4f) machine=(qemu-system-arm -M mps2-an386) ;;
  stm32f405) machine=(qemu-system-arm -M netduinoplus2) ;;
  rv32imc) machine=(qemu-system-riscv32 -M virt -bios none -cpu rv32,f=off,d=off) ;;
  rv32imafc) machine=(qemu-system-riscv32 -M virt -bios none -cpu rv32,f=on,d=off) ;;
  # The ESP8266's core on the Tensilica ISS-like machine; ports/xtensa-lx106/ is the start-up.
  xtensa-lx106) machine=(qemu-system-xtensa -M sim -cpu lx106) ;;
  *) echo "run.sh: unknown target '$target'" >&2; exit 2 ;;
esac
# shellcheck disable=SC2086
exec timeout -k 5 "${EDGELSTM_QEMU_TIMEOUT:-300}" "${machine[@]}" -display none -monitor none -serial none \
  -chardev stdio,id=sh0 -semihosting-config "$semihosting" ${EDGELSTM_QEMU_EXTRA:-} -kernel "$program"
