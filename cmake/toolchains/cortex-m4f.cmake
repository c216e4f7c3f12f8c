# Cortex-M4F (hard float, FPv4-SP), picolibc with semihosting, run on QEMU mps2-an386.
# Stands for STM32F4-class parts.
set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_SYSTEM_PROCESSOR arm)
set(CMAKE_C_COMPILER arm-none-eabi-gcc)
set(CMAKE_CXX_COMPILER arm-none-eabi-g++)
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(EDGELSTM_TARGET cortex-m4f CACHE STRING "" FORCE)

set(edgelstm_arch "-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 --specs=picolibcpp.specs")
set(CMAKE_C_FLAGS_INIT "${edgelstm_arch} -ffunction-sections -fdata-sections")
set(CMAKE_CXX_FLAGS_INIT "${edgelstm_arch} -ffunction-sections -fdata-sections -fno-threadsafe-statics")
# mps2-an386: 4 MB of code SRAM at 0, 4 MB of data SRAM at 0x20000000.
set(CMAKE_EXE_LINKER_FLAGS_INIT "--oslib=semihost --crt0=semihost -Wl,--gc-sections \
-Wl,--defsym=__flash=0x0 -Wl,--defsym=__flash_size=0x400000 \
-Wl,--defsym=__ram=0x20000000 -Wl,--defsym=__ram_size=0x400000")
set(CMAKE_CROSSCOMPILING_EMULATOR "${CMAKE_CURRENT_LIST_DIR}/../qemu/run.sh;cortex-m4f")

set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
