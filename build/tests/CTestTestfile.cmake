# CMake generated Testfile for 
# Source directory: /work/main/tests
# Build directory: /work/main/build/tests
# 
# This file includes the relevant testing commands required for 
# testing this directory and lists subdirectories to be tested as well.
add_test([=[core.Activations]=] "/work/main/build/tests/edgelstm_core_tests" "Activations.")
set_tests_properties([=[core.Activations]=] PROPERTIES  LABELS "core;host" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;14;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[core.GradientCheck]=] "/work/main/build/tests/edgelstm_core_tests" "GradientCheck.")
set_tests_properties([=[core.GradientCheck]=] PROPERTIES  LABELS "core;host" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;14;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[core.Guard]=] "/work/main/build/tests/edgelstm_core_tests" "Guard.")
set_tests_properties([=[core.Guard]=] PROPERTIES  LABELS "core;host" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;14;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[core.Initialization]=] "/work/main/build/tests/edgelstm_core_tests" "Initialization.")
set_tests_properties([=[core.Initialization]=] PROPERTIES  LABELS "core;host" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;14;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[core.Memory]=] "/work/main/build/tests/edgelstm_core_tests" "Memory.")
set_tests_properties([=[core.Memory]=] PROPERTIES  LABELS "core;host" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;14;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[core.Streaming]=] "/work/main/build/tests/edgelstm_core_tests" "Streaming.")
set_tests_properties([=[core.Streaming]=] PROPERTIES  LABELS "core;host" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;14;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[parity.generate_reference]=] "/usr/bin/python3" "/work/main/tests/parity/torch_reference.py" "/work/main/build/tests/torch_reference.txt")
set_tests_properties([=[parity.generate_reference]=] PROPERTIES  FIXTURES_SETUP "torch_reference" LABELS "parity;host" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;31;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[parity.torch]=] "/work/main/build/tests/edgelstm_parity_tests")
set_tests_properties([=[parity.torch]=] PROPERTIES  ENVIRONMENT "EDGELSTM_PARITY_DATA=/work/main/build/tests/torch_reference.txt" FIXTURES_REQUIRED "torch_reference" LABELS "parity;host" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;34;add_test;/work/main/tests/CMakeLists.txt;0;")
add_test([=[core.NoAllocation]=] "/work/main/build/tests/edgelstm_no_allocation_test")
set_tests_properties([=[core.NoAllocation]=] PROPERTIES  LABELS "core;host" _BACKTRACE_TRIPLES "/work/main/tests/CMakeLists.txt;44;add_test;/work/main/tests/CMakeLists.txt;0;")
