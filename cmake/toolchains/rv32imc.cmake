# RV32IMC without an FPU (soft float), the ESP32-C3 class; QEMU virt with F and D switched off.
set(edgelstm_arch "-march=rv32imc -mabi=ilp32")
set(EDGELSTM_TARGET rv32imc CACHE STRING "" FORCE)
include(${CMAKE_CURRENT_LIST_DIR}/riscv32-common.cmake)
set(CMAKE_CROSSCOMPILING_EMULATOR "${CMAKE_CURRENT_LIST_DIR}/../qemu/run.sh;rv32imc")
