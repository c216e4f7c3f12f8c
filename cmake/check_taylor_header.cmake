# Regenerates examples/meter/taylor_demand.h from the bundled CSV and fails if the committed header
# differs. Run as: cmake -DPYTHON=... -DSOURCE_DIR=... -DOUTPUT=... -P check_taylor_header.cmake
execute_process(
  COMMAND ${PYTHON} ${SOURCE_DIR}/tools/csv_to_header.py
          ${SOURCE_DIR}/data/taylor_england_wales_halfhourly_demand_2000.csv ${OUTPUT}
  RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "csv_to_header.py failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${OUTPUT} ${SOURCE_DIR}/examples/meter/taylor_demand.h
                RESULT_VARIABLE differs)
if(differs)
  message(FATAL_ERROR "examples/meter/taylor_demand.h is stale: regenerate it with tools/csv_to_header.py")
endif()
