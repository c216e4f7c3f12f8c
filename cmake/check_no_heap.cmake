# Fails when any of PROGRAMS (a ;-list of ELF files) defines or references a heap entry point.
# Run as: cmake -DNM=<nm> -DPROGRAMS=<a;b> -P check_no_heap.cmake
set(forbidden "malloc|calloc|realloc|free|_malloc_r|_calloc_r|_realloc_r|_free_r|_Znwj|_Znaj|_Znwm|_Znam|_ZdlPv|_ZdaPv|_ZnwjSt11align_val_t|_ZdlPvj")
foreach(program IN LISTS PROGRAMS)
  execute_process(COMMAND ${NM} ${program} OUTPUT_VARIABLE symbols RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${program}")
  endif()
  string(REGEX MATCHALL "[^\n]* (${forbidden})\n" found "${symbols}\n")
  if(found)
    message(FATAL_ERROR "${program} links heap functions:\n${found}")
  endif()
  message(STATUS "${program}: no heap symbols")
endforeach()
