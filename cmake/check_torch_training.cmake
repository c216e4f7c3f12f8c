# The quality bar's reference: edgelstm and PyTorch train the same forecaster (same data, split,
# initial weights, shuffle, epochs) and their test MAPEs must agree within 10 %.
# Run as: cmake -DEDGELSTM=<cli> -DPYTHON=<python3> -DSOURCE_DIR=<src> -DWORK_DIR=<scratch> -P ...
set(data ${SOURCE_DIR}/data/taylor_england_wales_halfhourly_demand_2000.csv)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(epochs 10)
execute_process(COMMAND ${EDGELSTM} train --data ${data} --model ${WORK_DIR}/model.elstm --epochs ${epochs}
                        --patience ${epochs} --save-initial ${WORK_DIR}/initial.elstm --export-dataset ${WORK_DIR}/dataset
                RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "edgelstm train failed")
endif()
execute_process(COMMAND ${EDGELSTM} eval --data ${data} --model ${WORK_DIR}/model.elstm OUTPUT_VARIABLE eval RESULT_VARIABLE result)
if(NOT result EQUAL 0 OR NOT eval MATCHES "\\| edgelstm LSTM \\| [0-9]+ \\| [0-9]+ \\| ([0-9.]+)%")
  message(FATAL_ERROR "edgelstm eval failed:\n${eval}")
endif()
set(ours ${CMAKE_MATCH_1})
execute_process(COMMAND ${PYTHON} ${SOURCE_DIR}/tools/torch_forecast_reference.py --initial ${WORK_DIR}/initial.elstm
                        --dataset ${WORK_DIR}/dataset --epochs ${epochs} --patience ${epochs}
                OUTPUT_VARIABLE reference RESULT_VARIABLE result)
if(NOT result EQUAL 0 OR NOT reference MATCHES "pytorch test MAPE ([0-9.]+)%")
  message(FATAL_ERROR "the PyTorch reference failed:\n${reference}")
endif()
set(torch ${CMAKE_MATCH_1})
message(STATUS "test MAPE: edgelstm ${ours}%, PyTorch ${torch}% (same network, data, split, initial weights, epochs)")
# |ours - torch| <= 0.1 * torch, in floating point via a tiny python expression.
execute_process(COMMAND ${PYTHON} -c "import sys; a, b = ${ours}, ${torch}; sys.exit(0 if abs(a - b) <= 0.1 * b else 1)"
                RESULT_VARIABLE within)
if(NOT within EQUAL 0)
  message(FATAL_ERROR "edgelstm ${ours}% and PyTorch ${torch}% differ by more than 10 %")
endif()
