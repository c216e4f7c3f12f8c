file(REMOVE_RECURSE
  "CMakeFiles/edgelstm_core_tests.dir/gradient_check_test.cpp.o"
  "CMakeFiles/edgelstm_core_tests.dir/gradient_check_test.cpp.o.d"
  "CMakeFiles/edgelstm_core_tests.dir/guard_test.cpp.o"
  "CMakeFiles/edgelstm_core_tests.dir/guard_test.cpp.o.d"
  "CMakeFiles/edgelstm_core_tests.dir/initialization_test.cpp.o"
  "CMakeFiles/edgelstm_core_tests.dir/initialization_test.cpp.o.d"
  "CMakeFiles/edgelstm_core_tests.dir/memory_test.cpp.o"
  "CMakeFiles/edgelstm_core_tests.dir/memory_test.cpp.o.d"
  "CMakeFiles/edgelstm_core_tests.dir/streaming_test.cpp.o"
  "CMakeFiles/edgelstm_core_tests.dir/streaming_test.cpp.o.d"
  "CMakeFiles/edgelstm_core_tests.dir/support/micro_test_main.cpp.o"
  "CMakeFiles/edgelstm_core_tests.dir/support/micro_test_main.cpp.o.d"
  "edgelstm_core_tests"
  "edgelstm_core_tests.pdb"
)

# Per-language clean rules from dependency scanning.
foreach(lang CXX)
  include(CMakeFiles/edgelstm_core_tests.dir/cmake_clean_${lang}.cmake OPTIONAL)
endforeach()
