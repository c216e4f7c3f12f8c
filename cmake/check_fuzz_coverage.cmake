# Runs a libFuzzer target for a bounded time and fails on any finding (a crash, a sanitizer report, a
# timeout) or when the coverage it reached — libFuzzer's "cov:", the instrumented edges executed —
# stays below FLOOR: a target whose code under test lost its instrumentation (the CSV reader once
# reached 93 edges, flat over 15 million executions) fails here instead of fuzzing blind.
# Run as: cmake -DFUZZER=<target> -DSECONDS=<n> -DFLOOR=<edges> -DCORPORA=<scratch|seeds|...>
#               [-DDICT=<file>] -P check_fuzz_coverage.cmake
string(REPLACE "|" ";" CORPORA "${CORPORA}")
set(arguments -max_total_time=${SECONDS} -timeout=5 -rss_limit_mb=2048 -print_final_stats=1)
if(DICT)
  list(APPEND arguments -dict=${DICT})
endif()
execute_process(COMMAND ${FUZZER} ${arguments} ${CORPORA} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
get_filename_component(name ${FUZZER} NAME)
if(NOT status EQUAL 0)
  string(LENGTH "${err}" length)
  if(length GREATER 6000)
    math(EXPR from "${length} - 6000")
    string(SUBSTRING "${err}" ${from} 6000 err)
  endif()
  message(FATAL_ERROR "${name} found a defect (exit status ${status}):\n${err}")
endif()
string(REGEX MATCHALL "cov: [0-9]+" coverage "${err}")
string(REGEX MATCH "stat::number_of_executed_units: [0-9]+" executions "${err}")
string(REGEX REPLACE ".*: " "" executions "${executions}")
if(NOT coverage)
  message(FATAL_ERROR "${name} printed no coverage: is it built with -fsanitize=fuzzer?\n${err}")
endif()
list(GET coverage -1 reached)
string(REGEX REPLACE "cov: " "" reached "${reached}")
message(STATUS "${name}: ${executions} executions in ${SECONDS} s, coverage ${reached} edges (floor ${FLOOR})")
if(reached LESS FLOOR)
  message(FATAL_ERROR "${name} reached ${reached} edges, below its floor of ${FLOOR}: is the code it fuzzes "
                      "instrumented (-fsanitize=fuzzer-no-link) and reached?")
endif()
