# CMake generated Testfile for 
# Source directory: /work/main/tests
# Build directory: /work/main/build/tests
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test([=[core.GradientCheck]=] "/work/main/build/tests/edgelstm_core_tests" "GradientCheck.")
set_tests_properties([=[core.GradientCheck]=] PROPERTIES  LABELS "core;host" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;10;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[parity.generate_reference]=] "/usr/bin/python3" "/work/main/tests/parity/torch_reference.py" "/work/main/build/tests/torch_reference.txt")
set_tests_properties([=[parity.generate_reference]=] PROPERTIES  FIXTURES_SETUP "torch_reference" LABELS "parity;host" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;27;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[parity.torch]=] "/work/main/build/tests/edgelstm_parity_tests")
set_tests_properties([=[parity.torch]=] PROPERTIES  ENVIRONMENT "EDGELSTM_PARITY_DATA=/work/main/build/tests/torch_reference.txt" FIXTURES_REQUIRED "torch_reference" LABELS "parity;host" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;30;add_test;/work/main/tests/CMakeLists.txt;0;")
