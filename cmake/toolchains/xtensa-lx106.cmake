# Xtensa LX106, the ESP8266's core (no FPU: soft float; CALL0 ABI; 80 KB of user data RAM), with
# picolibc, run on QEMU's `sim` machine (-cpu lx106) with simcall semihosting. Stands for the
# ESP8266 inside many Wi-Fi smart plugs with power metering.
#
# Debian's LX106 toolchain has no libstdc++ and no start-up or semihosting layer for picolibc, and
# its libgcc.a lacks the routines the ESP8266's boot ROM provides: ports/xtensa-lx106/ supplies
# them (runtime.cmake, included after project() below; the missing libgcc routines are assembled
# from Debian's gcc-12-source at configure time).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR xtensa)
# The C++ driver is gcc itself: g++ would add -lstdc++, which does not exist for this target.
set(CMAKE_C_COMPILER xtensa-lx106-elf-gcc)
set(CMAKE_CXX_COMPILER xtensa-lx106-elf-gcc)
set(CMAKE_ASM_COMPILER xtensa-lx106-elf-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_NM xtensa-lx106-elf-nm CACHE FILEPATH "")
set(CMAKE_OBJDUMP xtensa-lx106-elf-objdump CACHE FILEPATH "")
set(EDGELSTM_TARGET xtensa-lx106 CACHE STRING "" FORCE)

set(edgelstm_lx106_port ${CMAKE_CURRENT_LIST_DIR}/../../ports/xtensa-lx106)
# -mlongcalls: code in the 1 MB flash window is beyond CALL0's +-512 KB reach from IRAM and ROM
# (also the ESP8266 Arduino core's flag). picolibc's specs are found only by full path. The C++
# headers are the header-only parts of the ARM libstdc++ (as for RISC-V).
set(edgelstm_common "-mlongcalls --specs=/usr/lib/xtensa-lx106-elf/picolibc.specs -ffunction-sections -fdata-sections")
set(edgelstm_cxx_headers "-nostdinc++ -isystem /usr/include/newlib/c++/12.2.1 \
-isystem /usr/include/newlib/c++/12.2.1/arm-none-eabi")
set(CMAKE_C_FLAGS_INIT "${edgelstm_common}")
set(CMAKE_CXX_FLAGS_INIT "${edgelstm_common} ${edgelstm_cxx_headers} -fno-threadsafe-statics")
# Own start-up (ports/xtensa-lx106/startup.S) and memory layout (lx106.ld). The default RAM is
# QEMU's large sysram for test programs; EDGELSTM_LX106_CHIP_MEMORY below is the chip's.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-nostartfiles -T ${edgelstm_lx106_port}/lx106.ld -Wl,--gc-sections")
set(CMAKE_CROSSCOMPILING_EMULATOR "${CMAKE_CURRENT_LIST_DIR}/../qemu/run.sh;xtensa-lx106")
set(CMAKE_PROJECT_edgelstm_INCLUDE ${edgelstm_lx106_port}/runtime.cmake)

# Link options of firmware meant for the real chip (examples/CMakeLists.txt): .data, .bss and the
# stack in the ESP8266's 80 KB of user data RAM (0x3FFE8000-0x3FFFBFFF), 4 KB of it kept for the
# stack (the ESP8266 Arduino core gives loop() 4 KB). A firmware that does not fit fails to link.
set(EDGELSTM_LX106_CHIP_MEMORY -Wl,--defsym=__ram=0x3FFE8000 -Wl,--defsym=__ram_size=0x14000
    -Wl,--defsym=__stack_size=0x1000)

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
