# The quality bar's reference: edgelstm and PyTorch train the same forecaster (the default: an
# LSTM correcting double seasonal Holt-Winters; same data, split, base, initial weights, shuffle,
# epochs). Their mean training losses must follow each other epoch by epoch (within 2 %: the
# network's own learning, which the test metrics of a hybrid barely show) and their test MAPEs
# must agree within 10 %.
# Run as: cmake -DEDGELSTM=<cli> -DPYTHON=<python3> -DSOURCE_DIR=<src> -DWORK_DIR=<scratch> -P ...
set(data ${SOURCE_DIR}/data/taylor_england_wales_halfhourly_demand_2000.csv)
file(REMOVE_RECURSE ${WORK_DIR})
file(MAKE_DIRECTORY ${WORK_DIR})
set(epochs 10)
execute_process(COMMAND ${EDGELSTM} train --data ${data} --model ${WORK_DIR}/model.elstm --epochs ${epochs}
                        --patience ${epochs} --save-initial ${WORK_DIR}/initial.elstm --export-dataset ${WORK_DIR}/dataset
                OUTPUT_FILE ${WORK_DIR}/edgelstm_train.txt RESULT_VARIABLE result)
if(NOT result EQUAL 0)
  message(FATAL_ERROR "edgelstm train failed")
endif()
execute_process(COMMAND ${EDGELSTM} eval --data ${data} --model ${WORK_DIR}/model.elstm OUTPUT_VARIABLE eval RESULT_VARIABLE result)
if(NOT result EQUAL 0 OR NOT eval MATCHES "\\| edgelstm LSTM[^|]* \\| [0-9.]+ \\| [0-9.]+ \\| ([0-9.]+)%")
  message(FATAL_ERROR "edgelstm eval failed:\n${eval}")
endif()
set(ours ${CMAKE_MATCH_1})
execute_process(COMMAND ${PYTHON} ${SOURCE_DIR}/tools/torch_forecast_reference.py --initial ${WORK_DIR}/initial.elstm
                        --dataset ${WORK_DIR}/dataset --epochs ${epochs} --patience ${epochs}
                OUTPUT_FILE ${WORK_DIR}/torch_train.txt RESULT_VARIABLE result)
file(READ ${WORK_DIR}/torch_train.txt reference)
if(NOT result EQUAL 0 OR NOT reference MATCHES "pytorch test MAE [0-9.e+-]+ RMSE [0-9.e+-]+ MAPE ([0-9.]+)%")
  message(FATAL_ERROR "the PyTorch reference failed:\n${reference}")
endif()
set(torch ${CMAKE_MATCH_1})
message(STATUS "test MAPE: edgelstm ${ours}%, PyTorch ${torch}% (same network, data, split, base, initial weights, epochs)")
execute_process(COMMAND ${PYTHON} -c "
import re, sys
def losses(path):
    return [float(m.group(1)) for m in re.finditer(r'^epoch +[0-9]+ +loss ([0-9.]+)', open(path).read(), re.M)]
ours, torch = losses(sys.argv[1]), losses(sys.argv[2])
print('training loss per epoch, edgelstm:', ours)
print('training loss per epoch, PyTorch: ', torch)
if len(ours) != ${epochs} or len(torch) != ${epochs}:
    sys.exit('expected ${epochs} epochs from both')
worst = max(abs(a - b) / b for a, b in zip(ours, torch))
print('largest relative difference: %.4f' % worst)
if worst > 0.02:
    sys.exit('the training losses differ by more than 2 %')
a, b = ${ours}, ${torch}
if abs(a - b) > 0.1 * b:
    sys.exit('edgelstm %s%% and PyTorch %s%% differ by more than 10 %%' % (a, b))
" ${WORK_DIR}/edgelstm_train.txt ${WORK_DIR}/torch_train.txt RESULT_VARIABLE within)
if(NOT within EQUAL 0)
  message(FATAL_ERROR "edgelstm and PyTorch do not train alike (see above)")
endif()
