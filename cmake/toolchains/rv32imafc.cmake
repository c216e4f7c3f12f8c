# RV32IMAFC with a single-precision FPU, the ESP32-P4 class; QEMU virt.
set(edgelstm_arch "-march=rv32imafc -mabi=ilp32f")
set(EDGELSTM_TARGET rv32imafc CACHE STRING "" FORCE)
include(${CMAKE_CURRENT_LIST_DIR}/riscv32-common.cmake)
set(CMAKE_CROSSCOMPILING_EMULATOR "${CMAKE_CURRENT_LIST_DIR}/../qemu/run.sh;rv32imafc")
