# CMake generated Testfile for 
# Source directory: /work/main/tests
# Build directory: /work/main/build/tests
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test([=[core.GradientCheck]=] "/work/main/build/tests/edgelstm_core_tests" "GradientCheck.")
set_tests_properties([=[core.GradientCheck]=] PROPERTIES  LABELS "core;host" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;10;add_test;/work/main/tests/CMakeLists.txt;0;")
