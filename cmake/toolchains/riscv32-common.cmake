# Shared by rv32imc.cmake and rv32imafc.cmake: GCC for riscv64-unknown-elf with picolibc and
# semihosting, run on QEMU virt. Debian ships no libstdc++ for this toolchain: the header-only
# parts of the ARM libstdc++ headers serve (the core needs only <cstdint>, <cmath>, <type_traits>
# and the like), and the C++ driver is gcc itself (g++ would add -lstdc++, which does not exist).
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR riscv32)
set(CMAKE_C_COMPILER riscv64-unknown-elf-gcc)
set(CMAKE_CXX_COMPILER riscv64-unknown-elf-gcc)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
# The target's binutils (CMake would otherwise pick the host's nm and objdump).
set(CMAKE_NM riscv64-unknown-elf-nm CACHE FILEPATH "")
set(CMAKE_OBJDUMP riscv64-unknown-elf-objdump CACHE FILEPATH "")

set(edgelstm_cxx_headers "-nostdinc++ -isystem /usr/include/newlib/c++/12.2.1 \
-isystem /usr/include/newlib/c++/12.2.1/arm-none-eabi")
set(edgelstm_common "${edgelstm_arch} --specs=picolibc.specs -ffunction-sections -fdata-sections")
set(CMAKE_C_FLAGS_INIT "${edgelstm_common}")
set(CMAKE_CXX_FLAGS_INIT "${edgelstm_common} ${edgelstm_cxx_headers} -fno-threadsafe-statics")
# QEMU virt: RAM from 0x80000000; 4 MB for code, 16 MB for data.
set(CMAKE_EXE_LINKER_FLAGS_INIT "--oslib=semihost --crt0=semihost -Wl,--gc-sections \
-Wl,--defsym=__flash=0x80000000 -Wl,--defsym=__flash_size=0x400000 \
-Wl,--defsym=__ram=0x80400000 -Wl,--defsym=__ram_size=0x1000000 -Wl,--no-warn-rwx-segments")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
