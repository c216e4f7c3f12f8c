# The LX106 test rig's runtime, linked into every program of an xtensa-lx106 build. Included at the
# end of project(edgelstm) by cmake/toolchains/xtensa-lx106.cmake (CMAKE_PROJECT_edgelstm_INCLUDE),
# so the project's own CMakeLists need no Xtensa case.
#
#   edgelstm_lx106_runtime  reset and exception vectors, start-up, simcall stdio/exit (startup.S,
#                           runtime.c): objects linked into every program
#   edgelstm_lx106_rom      the 24 libgcc routines Debian's LX106 libgcc.a leaves out (the ESP8266
#                           boot ROM provides them on the chip): soft-float add, subtract, multiply
#                           and conversions, 32- and 64-bit division. Twenty are assembled from
#                           GCC's own sources, taken at configure time from Debian's gcc-12-source
#                           (nothing of GCC is kept in this repository; GCC's runtime library
#                           exception covers linking them), four are rom_routines_64.c.
enable_language(C ASM)
set(edgelstm_lx106_port ${CMAKE_CURRENT_LIST_DIR})

# ---- GCC's Xtensa libgcc sources, from the gcc-12-source package -------------------------------
file(GLOB edgelstm_gcc_tarball /usr/src/gcc-12/gcc-12*.tar.xz)
if(NOT edgelstm_gcc_tarball)
  message(FATAL_ERROR "xtensa-lx106: Debian's GCC sources (/usr/src/gcc-12/gcc-12*.tar.xz) are missing; "
                      "install the package gcc-12-source (scripts/install-deps.sh does)")
endif()
list(GET edgelstm_gcc_tarball 0 edgelstm_gcc_tarball)
set(edgelstm_libgcc_dir ${CMAKE_BINARY_DIR}/lx106-libgcc)
set(edgelstm_libgcc_sources lib1funcs.S ieee754-sf.S ieee754-df.S)
if(NOT EXISTS ${edgelstm_libgcc_dir}/ieee754-df.S)
  message(STATUS "xtensa-lx106: extracting libgcc/config/xtensa from ${edgelstm_gcc_tarball}")
  file(MAKE_DIRECTORY ${edgelstm_libgcc_dir})
  set(members)
  foreach(source IN LISTS edgelstm_libgcc_sources)
    list(APPEND members "*/libgcc/config/xtensa/${source}")
  endforeach()
  execute_process(
    COMMAND tar -xJf ${edgelstm_gcc_tarball} -C ${edgelstm_libgcc_dir} --strip-components=4 --wildcards ${members}
    RESULT_VARIABLE result ERROR_VARIABLE error)
  if(NOT result EQUAL 0)
    file(REMOVE_RECURSE ${edgelstm_libgcc_dir})
    message(FATAL_ERROR "xtensa-lx106: could not extract ${members} from ${edgelstm_gcc_tarball}: ${error}")
  endif()
endif()

# The core's configuration header: the one the LX106 compiler itself was built with (shipped in its
# plugin headers), not the generic big-endian, windowed-ABI one in GCC's source tree. LX106:
# little-endian, CALL0 ABI, MUL32 without MUL32_HIGH, no DIV32, no zero-overhead loops.
execute_process(COMMAND ${CMAKE_C_COMPILER} -print-file-name=plugin OUTPUT_VARIABLE edgelstm_gcc_plugin
                OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT EXISTS ${edgelstm_gcc_plugin}/include/xtensa-config.h)
  message(FATAL_ERROR "xtensa-lx106: ${CMAKE_C_COMPILER} has no plugin/include/xtensa-config.h (package gcc-xtensa-lx106)")
endif()
configure_file(${edgelstm_gcc_plugin}/include/xtensa-config.h ${edgelstm_libgcc_dir}/config/xtensa-config.h COPYONLY)

# One object per routine group, as libgcc builds them (t-xtensa's LIB1ASMFUNCS): lib1funcs.S with
# L_<group> defined (it includes the two ieee754 files).
set(edgelstm_rom_groups
  udivsi3 divsi3 umodsi3 umulsidi3                                  # 32-bit division, 32x32->64
  addsubsf3 mulsf3 fixunssfsi floatsisf                             # float
  addsubdf3 muldf3 divdf3 fixdfsi fixunsdfsi floatsidf truncdfsf2 extendsfdf2)  # double
set(edgelstm_rom_sources)
foreach(group IN LISTS edgelstm_rom_groups)
  set(wrapper ${edgelstm_libgcc_dir}/generated/${group}.S)
  file(CONFIGURE OUTPUT ${wrapper} CONTENT "#define L_${group} 1\n#include \"lib1funcs.S\"\n")
  list(APPEND edgelstm_rom_sources ${wrapper})
endforeach()
add_library(edgelstm_lx106_rom STATIC ${edgelstm_rom_sources} ${edgelstm_lx106_port}/rom_routines_64.c)
target_include_directories(edgelstm_lx106_rom PRIVATE ${edgelstm_libgcc_dir} ${edgelstm_libgcc_dir}/config)
target_compile_options(edgelstm_lx106_rom PRIVATE $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra -Werror>)
set_target_properties(edgelstm_lx106_rom PROPERTIES ARCHIVE_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/lx106-runtime)

# ---- Start-up, vectors and simcall I/O ------------------------------------------------------------
add_library(edgelstm_lx106_runtime OBJECT ${edgelstm_lx106_port}/startup.S ${edgelstm_lx106_port}/runtime.c)
target_compile_options(edgelstm_lx106_runtime PRIVATE $<$<COMPILE_LANGUAGE:C>:-Wall -Wextra -Werror>)

# Every program links both. The routines go inside picolibc's --start-group libgcc libc ... group
# (--oslib=NAME adds -lNAME there), as libc's own objects call them too; linking the target as
# well orders the build.
link_libraries(edgelstm_lx106_runtime edgelstm_lx106_rom)
add_link_options(-L${CMAKE_BINARY_DIR}/lx106-runtime --oslib=edgelstm_lx106_rom)
