# Runs COMMAND (arguments separated by '|'), and fails unless it exits with EXPECT_STATUS and its stderr contains
# EXPECT_MESSAGE; with MUST_NOT_EXIST, that file must not exist afterwards.
string(REPLACE "|" ";" command "${COMMAND}")
execute_process(COMMAND ${command} RESULT_VARIABLE status OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT status EQUAL EXPECT_STATUS)
  message(FATAL_ERROR "exit status ${status}, expected ${EXPECT_STATUS}\nstdout: ${out}\nstderr: ${err}")
endif()
string(FIND "${err}" "${EXPECT_MESSAGE}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "stderr lacks '${EXPECT_MESSAGE}':\n${err}")
endif()
if(MUST_NOT_EXIST AND EXISTS "${MUST_NOT_EXIST}")
  message(FATAL_ERROR "${MUST_NOT_EXIST} was written despite the error")
endif()
