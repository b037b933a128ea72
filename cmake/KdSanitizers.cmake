# KD_SANITIZE=address,undefined builds everything with those sanitizers and
# makes UBSan findings fatal, so ctest fails on the first report.
if(KD_SANITIZE)
  set(_san "-fsanitize=${KD_SANITIZE}")
  if(KD_SANITIZE MATCHES "undefined")
    string(APPEND _san " -fno-sanitize-recover=all")
  endif()
  string(APPEND CMAKE_C_FLAGS " ${_san} -fno-omit-frame-pointer")
  string(APPEND CMAKE_EXE_LINKER_FLAGS " ${_san}")
  string(APPEND CMAKE_SHARED_LINKER_FLAGS " ${_san}")
endif()
