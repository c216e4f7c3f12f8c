# Trains a small forecaster and exports it as C headers: the float model (bound in place), and its
# int8 and full-integer quantized files, whose c-header arrays must bind HybridNetwork /
# IntegerNetwork to the same outputs, bit for bit, as the model file itself (exported as bytes).
# Each program compiles and runs on the host; with an ARM cross compiler present, compiles for
# Cortex-M4F as well.
# Run as: cmake -DEDGELSTM=<cli> -DCXX=<host c++> -DSOURCE_DIR=<src> -DWORK_DIR=<scratch> -P ...
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(data ${SOURCE_DIR}/data/taylor_england_wales_halfhourly_demand_2000.csv)
function(run_step)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE result OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "failed: ${ARGN}\n${out}\n${err}")
  endif()
  message(STATUS "${out}")
endfunction()
find_program(ARM_CXX arm-none-eabi-g++)
# Compiles <source> against the headers for the host (and runs it) and, when there, for Cortex-M4F.
function(check_program name source)
  set(defines ${ARGN})
  run_step(${CXX} -std=c++17 -Wall -Wextra -Werror -I${SOURCE_DIR}/include ${defines}
           ${SOURCE_DIR}/tests/packaging/${source} -o ${WORK_DIR}/${name})
  run_step(${WORK_DIR}/${name})
  if(ARM_CXX)
    execute_process(COMMAND ${ARM_CXX} -std=c++17 -O2 -Wall -Wextra -Werror -fno-exceptions -fno-rtti -mcpu=cortex-m4
                            -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 --specs=picolibcpp.specs -I${SOURCE_DIR}/include
                            ${defines} -c ${SOURCE_DIR}/tests/packaging/${source} -o ${WORK_DIR}/${name}_m4f.o
                    RESULT_VARIABLE result ERROR_VARIABLE err)
    if(NOT result EQUAL 0)
      message(FATAL_ERROR "${name}: the exported header does not compile for Cortex-M4F:\n${err}")
    endif()
  endif()
endfunction()

run_step(${EDGELSTM} train --data ${data} --model ${WORK_DIR}/m.elstm --hidden 8 --epochs 1 --base none --allow-untrained)
run_step(${EDGELSTM} export --format c-header --model ${WORK_DIR}/m.elstm --out ${WORK_DIR}/exported.h)
check_program(check exported_model_check.cpp "-DEDGELSTM_EXPORTED_HEADER=\"${WORK_DIR}/exported.h\"")

run_step(${EDGELSTM} quantize --model ${WORK_DIR}/m.elstm --bits 8 --out ${WORK_DIR}/int8.elstm)
run_step(${EDGELSTM} quantize --model ${WORK_DIR}/m.elstm --integer --data ${data} --out ${WORK_DIR}/integer.elstm)
foreach(kind int8 integer)
  run_step(${EDGELSTM} export --format c-header --model ${WORK_DIR}/${kind}.elstm --out ${WORK_DIR}/${kind}.h)
  run_step(${EDGELSTM} export --format model-bytes --model ${WORK_DIR}/${kind}.elstm --out ${WORK_DIR}/${kind}_bytes.h
           --name kModelBytes)
  if(kind MATCHES "^integer$")
    set(full_integer 1)
  else()
    set(full_integer 0)
  endif()
  check_program(check_${kind} exported_quantized_check.cpp "-DEDGELSTM_EXPORTED_HEADER=\"${WORK_DIR}/${kind}.h\""
                "-DEDGELSTM_EXPORTED_BYTES=\"${WORK_DIR}/${kind}_bytes.h\"" -DEDGELSTM_EXPORTED_INTEGER=${full_integer})
endforeach()
