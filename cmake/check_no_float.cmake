# Fails when any of PROGRAMS (a ;-list of ELF files or objects) does floating-point work: calls a
# soft-float routine (libgcc's __addsf3 ... or ARM's __aeabi_f*/__aeabi_d*) or, with OBJDUMP,
# contains any instruction that touches an FPU register or the FPU's control register — not only
# arithmetic: moves, loads and stores, push and pop, conversions, compares and FPSCR/fcsr access.
# The architecture comes from objdump ("file format ..."); an unknown one fails rather than pass
# unchecked, so a new target (an Xtensa with an FPU, ...) needs its patterns here:
#   ARM (M-profile VFP): every v-mnemonic (vmov, vldr/vstr, vpush/vpop, vldm/vstm, vcvt.s32.f32,
#     vmrs/vmsr, ...) and coprocessor 10/11 instructions (older syntax).
#   RISC-V F/D/Q/Zfh: every f-mnemonic but fence (flw/fsw, fmv, fcvt, fsgnj, fclass, frcsr, fsflags,
#     ...), the compressed c.flw/c.fsw/c.fld/c.fsd(sp), CSR access to fcsr/frm/fflags, and any
#     instruction with an f register operand.
#   Xtensa FP coprocessor: .s mnemonics (add.s, mov.s, float.s, oeq.s, ...), lsi/ssi/lsx/ssx(u),
#     rfr/wfr, rur/wur of fcr/fsr, and f register operands. (xtensa-lx106 has no FPU: there only the
#     soft-float check can find anything.)
# Start-up code may set the FPU's control register (picolibc's crt0 writes FPSCR or fcsr before
# main): only control-register accesses, and only inside the allow-listed symbols below, pass.
# With EXPECT_FLAGGED (a |-list of function names) the check is its own positive control: it passes
# only when exactly those functions are flagged (tests/firmware/fpu_instructions.S).
# Run as: cmake -DNM=<nm> [-DOBJDUMP=<objdump>] -DPROGRAMS=<a;b> [-DEXPECT_FLAGGED=<f|g>] -P check_no_float.cmake
set(soft_float "__(add|sub|mul|div|neg|cmp|eq|ne|lt|le|gt|ge|unord)[sd]f[23]|__float(un)?[sd]i[sd]f|__fix(uns)?[sd]f[sd]i|__extendsfdf2|__truncdfsf2|__aeabi_[fd][a-z0-9]+|__aeabi_[iu]i?2[fd]|__aeabi_[lu]l2[fd]")

# Per architecture: FPU mnemonics, FPU register operands, control-register accesses (allowed in
# start-up symbols), and those symbols.
set(arm_mnemonics "v[a-z][a-z0-9.]*|(mcr|mrc|mcrr|mrrc|ldc|stc|cdp)2?l?\tp1[01],[^\n]*")
set(arm_operands "")
set(arm_control "vm(rs|sr)\t[^\n]*fpscr[^\n]*")
set(arm_startup "_start")
set(riscv_f "f(add|sub|mul|div|sqrt|sgnj[nx]?|min|max|cvt|mv|eq|lt|le|class|n?madd|n?msub|lw|sw|ld|sd|lh|sh|lq|sq|neg|abs|li|round|roundnx|leq|ltq|rcsr|scsr|rrm|srm|rflags|sflags)[a-z0-9.]*|c\\.f(lw|sw|ld|sd)(sp)?")
set(riscv_mnemonics "${riscv_f}|csr[a-z]*\t[^\n]*(fcsr|frm|fflags)[^\n]*")
set(riscv_operands "[\t,(]f(t[0-9]|t1[01]|s[0-9]|s1[01]|a[0-7]|[0-9]|[12][0-9]|3[01])(,|\\)| )")
set(riscv_control "(csr[a-z]*\t[^\n]*(fcsr|frm|fflags)|f(rcsr|scsr|rrm|srm|rflags|sflags))[^\n]*")
set(riscv_startup "_start;_trap")
set(xtensa_mnemonics "[a-z]+\\.s|(lsi|lsiu|ssi|ssiu|lsx|lsxu|ssx|ssxu|rfr|wfr)|(rur|wur)\\.?(fcr|fsr)[^\n]*|(rur|wur)\t[^\n]*(fcr|fsr)[^\n]*")
set(xtensa_operands "[\t ,]f([0-9]|1[0-5])(,| )")
set(xtensa_control "(rur|wur)\\.?[^\n]*(fcr|fsr)[^\n]*")
set(xtensa_startup "_start;_ResetHandler")

set(flagged_functions "")
foreach(program IN LISTS PROGRAMS)
  execute_process(COMMAND ${NM} ${program} OUTPUT_VARIABLE symbols RESULT_VARIABLE result)
  if(NOT result EQUAL 0)
    message(FATAL_ERROR "${NM} failed on ${program}")
  endif()
  string(REGEX MATCHALL "[^\n]* (${soft_float})\n" found "${symbols}\n")
  set(problems "")
  if(found)
    list(LENGTH found routines)
    list(GET found 0 routine)
    string(STRIP "${routine}" routine)
    string(APPEND problems "\n  links ${routines} soft-float routines, e.g. ${routine}")
  endif()
  if(OBJDUMP)
    execute_process(COMMAND ${OBJDUMP} -d ${program} OUTPUT_VARIABLE code RESULT_VARIABLE result)
    if(NOT result EQUAL 0)
      message(FATAL_ERROR "${OBJDUMP} failed on ${program}")
    endif()
    if(code MATCHES "file format elf32-(little|big)arm")
      set(arch arm)
    elseif(code MATCHES "file format elf(32|64)-littleriscv")
      set(arch riscv)
    elseif(code MATCHES "file format elf32-xtensa")
      set(arch xtensa)
    else()
      string(REGEX MATCH "file format [^\n]*" format "${code}")
      message(FATAL_ERROR "${program}: ${format}: no FPU instruction patterns for this architecture in check_no_float.cmake")
    endif()
    # Function headers ("00001234 <name>:") and instruction lines ("  addr:\tbytes\tmnemonic\toperands")
    # that touch the FPU, in file order, so each instruction is attributed to its function. Every
    # line ends in a space, so a register operand at the end of a line is matched without taking
    # the newline the next line's match starts with.
    string(REPLACE "\n" " \n" code "${code}")
    set(line "\n *[0-9a-f]+:\t[0-9a-f ]+\t")
    set(pattern "\n[0-9a-f]+ <[^>\n]+>:|${line}(${${arch}_mnemonics})(\t[^\n]*)?")
    if(${arch}_operands)
      string(APPEND pattern "|${line}[a-z][a-z0-9.]*\t[^\n]*${${arch}_operands}")
    endif()
    string(REGEX MATCHALL "${pattern}" matches "${code}")
    set(function "")
    set(count 0)
    set(first "")
    foreach(match IN LISTS matches)
      if(match MATCHES "^\n[0-9a-f]+ <([^>\n]+)>:")
        set(function "${CMAKE_MATCH_1}")
        continue()
      endif()
      string(REGEX REPLACE "^\n *[0-9a-f]+:\t[0-9a-f ]+\t" "" instruction "${match}")
      string(STRIP "${instruction}" instruction)
      list(FIND ${arch}_startup "${function}" startup)
      if(startup GREATER -1 AND instruction MATCHES "^(${${arch}_control})$")
        continue()  # start-up code setting the FPU's control register
      endif()
      math(EXPR count "${count} + 1")
      if(NOT first)
        set(first "${function}: ${instruction}")
      endif()
      list(APPEND flagged_functions "${function}")
    endforeach()
    if(count GREATER 0 AND NOT DEFINED EXPECT_FLAGGED)
      string(APPEND problems "\n  has ${count} instructions that touch the FPU, e.g. ${first}")
    endif()
  endif()
  if(problems)
    message(FATAL_ERROR "${program} does floating-point work:${problems}")
  elseif(NOT DEFINED EXPECT_FLAGGED)
    message(STATUS "${program}: no floating-point work")
  endif()
endforeach()

if(DEFINED EXPECT_FLAGGED)
  list(REMOVE_DUPLICATES flagged_functions)
  list(SORT flagged_functions)
  string(REPLACE "|" ";" expected "${EXPECT_FLAGGED}")
  list(SORT expected)
  if(NOT flagged_functions STREQUAL expected)
    message(FATAL_ERROR "flagged: ${flagged_functions}\nexpected: ${expected}")
  endif()
  list(LENGTH expected n)
  message(STATUS "every one of the ${n} FPU-touching functions flagged, nothing else")
endif()
