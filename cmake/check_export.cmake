# Trains a small forecaster, exports it as a C header, and compiles (and on the host runs) a program
# that binds it in place; with an ARM cross compiler present, compiles it for Cortex-M4F as well.
# Run as: cmake -DEDGELSTM=<cli> -DCXX=<host c++> -DSOURCE_DIR=<src> -DWORK_DIR=<scratch> -P ...
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(data ${SOURCE_DIR}/data/taylor_england_wales_halfhourly_demand_2000.csv)
foreach(step
    "${EDGELSTM};train;--data;${data};--model;${WORK_DIR}/m.elstm;--hidden;8;--epochs;1"
    "${EDGELSTM};export;--format;c-header;--model;${WORK_DIR}/m.elstm;--out;${WORK_DIR}/exported.h"
    "${CXX};-std=c++17;-Wall;-Wextra;-Werror;-I${SOURCE_DIR}/include;-DEDGELSTM_EXPORTED_HEADER=\"${WORK_DIR}/exported.h\";${SOURCE_DIR}/tests/packaging/exported_model_check.cpp;-o;${WORK_DIR}/check"
    "${WORK_DIR}/check")
  execute_process(COMMAND ${step} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "failed: ${step}\n${out}\n${err}")
  endif()
endforeach()
message(STATUS "${out}")
find_program(ARM_CXX arm-none-eabi-g++)
if(ARM_CXX)
  execute_process(COMMAND ${ARM_CXX} -std=c++17 -O2 -Wall -Wextra -Werror -fno-exceptions -fno-rtti -mcpu=cortex-m4
                          -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 --specs=picolibcpp.specs -I${SOURCE_DIR}/include
                          "-DEDGELSTM_EXPORTED_HEADER=\"${WORK_DIR}/exported.h\""
                          -c ${SOURCE_DIR}/tests/packaging/exported_model_check.cpp -o ${WORK_DIR}/check_m4f.o
                  RESULT_VARIABLE result ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "the exported header does not compile for Cortex-M4F:\n${err}")
  endif()
endif()
