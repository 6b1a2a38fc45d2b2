# Signs the staged .exe and .dll files before NSIS packs them. Run by cpack (CPACK_PRE_BUILD_SCRIPTS,
# set in cmake/packaging.cmake); does nothing unless GATEHOUSE_SIGN_PFX names a code-signing
# certificate (.pfx). GATEHOUSE_SIGN_PASSWORD is its password, GATEHOUSE_SIGN_TIMESTAMP_URL the RFC 3161
# timestamp server (default DigiCert's). The installer itself is signed after cpack: see
# packaging/README.md.
if("$ENV{GATEHOUSE_SIGN_PFX}" STREQUAL "")
  message(STATUS "sign.cmake: GATEHOUSE_SIGN_PFX not set: files stay unsigned")
  return()
endif()
find_program(SIGNTOOL signtool REQUIRED)
set(_ts "$ENV{GATEHOUSE_SIGN_TIMESTAMP_URL}")
if(_ts STREQUAL "")
  set(_ts http://timestamp.digicert.com)
endif()
set(_dir "${CPACK_TEMPORARY_INSTALL_DIRECTORY}")
if(NOT IS_DIRECTORY "${_dir}")
  set(_dir "${CPACK_TEMPORARY_DIRECTORY}")
endif()
file(GLOB_RECURSE _files "${_dir}/*.exe" "${_dir}/*.dll")
if(NOT _files)
  message(FATAL_ERROR "sign.cmake: nothing to sign in ${_dir}")
endif()
execute_process(
  COMMAND "${SIGNTOOL}" sign /fd SHA256 /td SHA256 /tr "${_ts}" /f "$ENV{GATEHOUSE_SIGN_PFX}" /p "$ENV{GATEHOUSE_SIGN_PASSWORD}" ${_files}
  RESULT_VARIABLE _rc)
if(NOT _rc EQUAL 0)
  message(FATAL_ERROR "signtool failed (${_rc})")
endif()
