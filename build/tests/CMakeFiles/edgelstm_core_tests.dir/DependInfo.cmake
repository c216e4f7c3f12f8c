
# Consider dependencies only in project.
set(CMAKE_DEPENDS_IN_PROJECT_ONLY OFF)

# The set of languages for which implicit dependencies are needed:
set(CMAKE_DEPENDS_LANGUAGES
  )

# The set of dependency files which are needed:
set(CMAKE_DEPENDS_DEPENDENCY_FILES
  "/work/main/tests/gradient_check_test.cpp" "tests/CMakeFiles/edgelstm_core_tests.dir/gradient_check_test.cpp.o" "gcc" "tests/CMakeFiles/edgelstm_core_tests.dir/gradient_check_test.cpp.o.d"
  "/work/main/tests/guard_test.cpp" "tests/CMakeFiles/edgelstm_core_tests.dir/guard_test.cpp.o" "gcc" "tests/CMakeFiles/edgelstm_core_tests.dir/guard_test.cpp.o.d"
  "/work/main/tests/initialization_test.cpp" "tests/CMakeFiles/edgelstm_core_tests.dir/initialization_test.cpp.o" "gcc" "tests/CMakeFiles/edgelstm_core_tests.dir/initialization_test.cpp.o.d"
  "/work/main/tests/memory_test.cpp" "tests/CMakeFiles/edgelstm_core_tests.dir/memory_test.cpp.o" "gcc" "tests/CMakeFiles/edgelstm_core_tests.dir/memory_test.cpp.o.d"
  "/work/main/tests/streaming_test.cpp" "tests/CMakeFiles/edgelstm_core_tests.dir/streaming_test.cpp.o" "gcc" "tests/CMakeFiles/edgelstm_core_tests.dir/streaming_test.cpp.o.d"
  "/work/main/tests/support/micro_test_main.cpp" "tests/CMakeFiles/edgelstm_core_tests.dir/support/micro_test_main.cpp.o" "gcc" "tests/CMakeFiles/edgelstm_core_tests.dir/support/micro_test_main.cpp.o.d"
  )

# Targets to which this target links.
set(CMAKE_TARGET_LINKED_INFO_FILES
  )

# Fortran module output directory.
set(CMAKE_Fortran_TARGET_MODULE_DIR "")
