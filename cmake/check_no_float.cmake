# Fails when any of PROGRAMS (a ;-list of ELF files) does floating-point arithmetic: calls a
# soft-float routine (libgcc's __addsf3 ... or ARM's __aeabi_f*/__aeabi_d*) or, with OBJDUMP,
# contains an FPU data-processing instruction (an ARM VFP mnemonic with a .f32/.f64 type, or a
# RISC-V F/D arithmetic, conversion or move instruction).
# Run as: cmake -DNM=<nm> [-DOBJDUMP=<objdump>] -DPROGRAMS=<a;b> -P check_no_float.cmake
set(soft_float "__(add|sub|mul|div|neg|cmp|eq|ne|lt|le|gt|ge|unord)[sd]f[23]|__float(un)?[sd]i[sd]f|__fix(uns)?[sd]f[sd]i|__extendsfdf2|__truncdfsf2|__aeabi_[fd][a-z0-9]+|__aeabi_[iu]i?2[fd]|__aeabi_[lu]l2[fd]")
foreach(program IN LISTS PROGRAMS)
  execute_process(COMMAND ${NM} ${program} OUTPUT_VARIABLE symbols RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${program}")
  endif()
  string(REGEX MATCHALL "[^\n]* (${soft_float})\n" found "${symbols}\n")
  if(found)
    message(FATAL_ERROR "${program} links soft-float routines:\n${found}")
  endif()
  if(OBJDUMP)
    execute_process(COMMAND ${OBJDUMP} -d ${program} OUTPUT_VARIABLE code RESULT_VARIABLE result)
    if(NOT result EQUAL 0)
      message(FATAL_ERROR "${OBJDUMP} failed on ${program}")
    endif()
    string(REGEX MATCHALL "\t(v[a-z]+\\.f(32|64)|f(add|sub|mul|div|madd|msub|nmadd|nmsub|sqrt|cvt|mv|sgnj[nx]?|min|max|eq|lt|le|class)\\.[sdwx])[^\n]*"
           instructions "${code}")
    if(instructions)
      list(LENGTH instructions count)
      list(GET instructions 0 first)
      message(FATAL_ERROR "${program} has ${count} FPU instructions, e.g. ${first}")
    endif()
  endif()
  message(STATUS "${program}: no floating-point arithmetic")
endforeach()
