# Picky warnings, added only where the compiler accepts them (curl's
# PickyWarnings idea).  kd_target_warnings(<target>) applies them.
include(CheckCCompilerFlag)

set(KD_WARNING_CANDIDATES
  -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes
  -Wmissing-prototypes -Wundef -Wwrite-strings -Wformat=2 -Wvla
  -Wimplicit-fallthrough -Wno-unused-parameter)

set(KD_WARNING_FLAGS "")
foreach(flag IN LISTS KD_WARNING_CANDIDATES)
  string(MAKE_C_IDENTIFIER "KD_HAS${flag}" var)
  check_c_compiler_flag(${flag} ${var})
  if(${var})
    list(APPEND KD_WARNING_FLAGS ${flag})
  endif()
endforeach()
if(KD_WERROR)
  list(APPEND KD_WARNING_FLAGS -Werror)
endif()

function(kd_target_warnings target)
  target_compile_options(${target} PRIVATE ${KD_WARNING_FLAGS})
endfunction()
