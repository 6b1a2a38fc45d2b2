# Install rules and installers. Included at the end of the root CMakeLists.txt, once the gatehouse
# target exists. The version everywhere (--version, Info.plist, the .exe's version resource, package
# names) is project(Gatehouse VERSION ...) in the root CMakeLists.txt. packaging/README.md says what
# each system gets and how to sign it.
#   Linux:   cpack -G DEB / -G TGZ  (the system's Qt 6; Depends computed by dpkg-shlibdeps plus the
#            QML modules the window imports)
#   Windows: cpack -G NSIS          (windeployqt at install time: Qt, its plugins and QML imports)
#   macOS:   cpack -G DragNDrop     (Gatehouse.app, macdeployqt at install time)
include(GNUInstallDirs)

set(GATEHOUSE_APP_ID "io.github.gatehouse.Gatehouse")
set(GATEHOUSE_PACKAGE_CONTACT "The Gatehouse developers <gatehouse@users.noreply.github.com>"
  CACHE STRING "Maintainer of the packages (Debian Maintainer field, CPack contact)")
set(_gh_icons ${PROJECT_SOURCE_DIR}/resources/icons)
set(_gh_icon_sizes 16 22 24 32 48 64 128 256 512)

# ---------------------------------------------------------------------------------------------------
# Windows: the executable's icon and version resource; Qt and the other DLLs beside it on install.
if(WIN32)
  string(TIMESTAMP GATEHOUSE_YEAR "%Y")
  set(GATEHOUSE_ICO ${_gh_icons}/gatehouse.ico)
  configure_file(${PROJECT_SOURCE_DIR}/packaging/windows/gatehouse.rc.in ${CMAKE_CURRENT_BINARY_DIR}/gatehouse.rc @ONLY)
  target_sources(gatehouse PRIVATE ${CMAKE_CURRENT_BINARY_DIR}/gatehouse.rc)
endif()

# ---------------------------------------------------------------------------------------------------
# macOS: Gatehouse.app with Info.plist and an .icns made from the committed PNGs by iconutil.
if(APPLE)
  set(_iconset ${CMAKE_CURRENT_BINARY_DIR}/gatehouse.iconset)
  set(_icns ${CMAKE_CURRENT_BINARY_DIR}/gatehouse.icns)
  set(_iconset_commands COMMAND ${CMAKE_COMMAND} -E rm -rf ${_iconset} COMMAND ${CMAKE_COMMAND} -E make_directory ${_iconset})
  set(_iconset_inputs)
  # iconset name -> rendered size
  foreach(pair 16x16:16 16x16@2x:32 32x32:32 32x32@2x:64 128x128:128 128x128@2x:256 256x256:256 256x256@2x:512 512x512:512)
    string(REPLACE ":" ";" pair ${pair})
    list(GET pair 0 name)
    list(GET pair 1 px)
    set(src ${_gh_icons}/hicolor/${px}x${px}/apps/gatehouse.png)
    list(APPEND _iconset_commands COMMAND ${CMAKE_COMMAND} -E copy ${src} ${_iconset}/icon_${name}.png)
    list(APPEND _iconset_inputs ${src})
  endforeach()
  add_custom_command(OUTPUT ${_icns} ${_iconset_commands}
    COMMAND iconutil --convert icns --output ${_icns} ${_iconset}
    DEPENDS ${_iconset_inputs} COMMENT "Making gatehouse.icns" VERBATIM)
  target_sources(gatehouse PRIVATE ${_icns})
  set_source_files_properties(${_icns} PROPERTIES MACOSX_PACKAGE_LOCATION Resources)
  if(CMAKE_OSX_DEPLOYMENT_TARGET)
    set(GATEHOUSE_MACOS_MINIMUM ${CMAKE_OSX_DEPLOYMENT_TARGET})
  else()
    set(GATEHOUSE_MACOS_MINIMUM 11.0)
  endif()
  string(TIMESTAMP GATEHOUSE_YEAR "%Y")
  set_target_properties(gatehouse PROPERTIES
    OUTPUT_NAME Gatehouse
    MACOSX_BUNDLE_INFO_PLIST ${PROJECT_SOURCE_DIR}/packaging/macos/Info.plist.in
    MACOSX_BUNDLE_BUNDLE_NAME Gatehouse
    MACOSX_BUNDLE_GUI_IDENTIFIER ${GATEHOUSE_APP_ID}
    MACOSX_BUNDLE_BUNDLE_VERSION ${PROJECT_VERSION}
    MACOSX_BUNDLE_SHORT_VERSION_STRING ${PROJECT_VERSION}
    MACOSX_BUNDLE_ICON_FILE gatehouse.icns
    MACOSX_BUNDLE_COPYRIGHT "© ${GATEHOUSE_YEAR} The Gatehouse developers")
endif()

# ---------------------------------------------------------------------------------------------------
# Qt's deployment tools at install time, so `cmake --install`, cpack and the release workflow all
# produce a self-contained folder / bundle.
if(WIN32 OR APPLE)
  option(GATEHOUSE_DEPLOY_QT "Run windeployqt / macdeployqt when installing" ON)
endif()
if((WIN32 OR APPLE) AND GATEHOUSE_DEPLOY_QT)
  # Qt's bin folder, from the imported qmake (its location may be per configuration).
  set(_qt_bin "")
  foreach(_tool Qt6::qmake Qt6::windeployqt Qt6::macdeployqt)
    if(TARGET ${_tool} AND NOT _qt_bin)
      get_target_property(_loc ${_tool} IMPORTED_LOCATION)
      if(NOT _loc)
        get_target_property(_configs ${_tool} IMPORTED_CONFIGURATIONS)
        foreach(_c IN LISTS _configs)
          get_target_property(_loc ${_tool} IMPORTED_LOCATION_${_c})
          if(_loc)
            break()
          endif()
        endforeach()
      endif()
      if(_loc)
        get_filename_component(_qt_bin ${_loc} DIRECTORY)
      endif()
    endif()
  endforeach()
  if(NOT _qt_bin AND DEFINED ENV{QT_ROOT_DIR})
    set(_qt_bin $ENV{QT_ROOT_DIR}/bin)
  endif()
  # The QML sources: the pages and feature parts in ui/<feature>/, the generic controls in qml/.
  set(_qml_dirs ${PROJECT_SOURCE_DIR}/ui ${PROJECT_SOURCE_DIR}/qml)
  if(WIN32)
    find_program(GATEHOUSE_WINDEPLOYQT windeployqt HINTS ${_qt_bin} REQUIRED)
    # The DLLs that are not Qt's (QtKeychain, SQLite, simdjson, llhttp when shared) are searched in
    # the bin folders of the prefixes the build used.
    set(_dll_dirs ${_qt_bin})
    foreach(p IN LISTS CMAKE_PREFIX_PATH)
      list(APPEND _dll_dirs ${p}/bin)
    endforeach()
    if(DEFINED VCPKG_INSTALLED_DIR AND DEFINED VCPKG_TARGET_TRIPLET)
      list(APPEND _dll_dirs ${VCPKG_INSTALLED_DIR}/${VCPKG_TARGET_TRIPLET}/bin)
    endif()
    set(_dll_dirs_quoted "")
    foreach(d IN LISTS _dll_dirs)
      string(APPEND _dll_dirs_quoted " \"${d}\"")
    endforeach()
    install(CODE "
      set(_exe \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}/gatehouse.exe\")
      set(_args --release --no-translations --no-system-d3d-compiler --no-opengl-sw)
      foreach(_dir ${_qml_dirs})
        if(EXISTS \"\${_dir}\")
          list(APPEND _args --qmldir \"\${_dir}\")
        endif()
      endforeach()
      execute_process(COMMAND \"${GATEHOUSE_WINDEPLOYQT}\" \${_args} \"\${_exe}\" RESULT_VARIABLE _rc)
      if(NOT _rc EQUAL 0)
        message(FATAL_ERROR \"windeployqt failed: \${_rc}\")
      endif()
      file(GET_RUNTIME_DEPENDENCIES EXECUTABLES \"\${_exe}\"
        RESOLVED_DEPENDENCIES_VAR _deps UNRESOLVED_DEPENDENCIES_VAR _missing
        DIRECTORIES ${_dll_dirs_quoted}
        PRE_EXCLUDE_REGEXES \"^api-ms-\" \"^ext-ms-\"
        POST_EXCLUDE_REGEXES \"[Ss]ystem32\" \"[Ww]in[Ss]x[Ss]\")
      foreach(_dll IN LISTS _deps)
        file(INSTALL \"\${_dll}\" DESTINATION \"\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_BINDIR}\")
      endforeach()
      if(_missing)
        message(WARNING \"gatehouse.exe: DLLs not found: \${_missing}\")
      endif()
    ")
    # The Visual C++ runtime, so the installer works on a fresh Windows.
    set(CMAKE_INSTALL_SYSTEM_RUNTIME_DESTINATION ${CMAKE_INSTALL_BINDIR})
    include(InstallRequiredSystemLibraries)
  else()
    find_program(GATEHOUSE_MACDEPLOYQT macdeployqt HINTS ${_qt_bin} REQUIRED)
    set(GATEHOUSE_MACOS_SIGN_IDENTITY "" CACHE STRING
      "codesign identity for Gatehouse.app (\"Developer ID Application: ...\"); empty: ad-hoc signature")
    install(CODE "
      set(_app \"\${CMAKE_INSTALL_PREFIX}/Gatehouse.app\")
      set(_args -verbose=1 -always-overwrite)
      foreach(_dir ${_qml_dirs})
        if(EXISTS \"\${_dir}\")
          list(APPEND _args \"-qmldir=\${_dir}\")
        endif()
      endforeach()
      execute_process(COMMAND \"${GATEHOUSE_MACDEPLOYQT}\" \"\${_app}\" \${_args} RESULT_VARIABLE _rc)
      if(NOT _rc EQUAL 0)
        message(FATAL_ERROR \"macdeployqt failed: \${_rc}\")
      endif()
      # macdeployqt rewrote the binaries: sign again (ad-hoc unless an identity is configured; the
      # hardened runtime is what notarization requires).
      if(\"${GATEHOUSE_MACOS_SIGN_IDENTITY}\" STREQUAL \"\")
        set(_sign --force --deep --sign -)
      else()
        set(_sign --force --deep --timestamp --options runtime --sign \"${GATEHOUSE_MACOS_SIGN_IDENTITY}\")
      endif()
      execute_process(COMMAND codesign \${_sign} \"\${_app}\" RESULT_VARIABLE _rc)
      if(NOT _rc EQUAL 0)
        message(FATAL_ERROR \"codesign failed: \${_rc}\")
      endif()
    ")
  endif()
endif()

# ---------------------------------------------------------------------------------------------------
# Linux and other XDG systems: the launcher, AppStream metadata and the icon theme entries.
if(UNIX AND NOT APPLE)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/linux/${GATEHOUSE_APP_ID}.desktop
    DESTINATION ${CMAKE_INSTALL_DATADIR}/applications)
  install(FILES ${PROJECT_SOURCE_DIR}/packaging/linux/${GATEHOUSE_APP_ID}.metainfo.xml
    DESTINATION ${CMAKE_INSTALL_DATADIR}/metainfo)
  foreach(px IN LISTS _gh_icon_sizes)
    install(FILES ${_gh_icons}/hicolor/${px}x${px}/apps/gatehouse.png
      DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/${px}x${px}/apps)
  endforeach()
  install(FILES ${_gh_icons}/gatehouse.svg DESTINATION ${CMAKE_INSTALL_DATADIR}/icons/hicolor/scalable/apps)
  install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DATADIR}/doc/gatehouse)
endif()

# ---------------------------------------------------------------------------------------------------
# CPack
set(CPACK_PACKAGE_NAME Gatehouse)
set(CPACK_PACKAGE_VENDOR "The Gatehouse developers")
set(CPACK_PACKAGE_CONTACT "${GATEHOUSE_PACKAGE_CONTACT}")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION_FILE ${PROJECT_SOURCE_DIR}/packaging/description.txt)
set(CPACK_PACKAGE_INSTALL_DIRECTORY Gatehouse)
set(CPACK_PACKAGE_EXECUTABLES gatehouse Gatehouse) # the Start-menu shortcut (NSIS)
set(CPACK_STRIP_FILES ON)
set(CPACK_SOURCE_IGNORE_FILES "/\\\\.git/" "/build" "/node_modules/")
string(TOLOWER "${CMAKE_SYSTEM_NAME}" _os)
if(APPLE)
  set(_os macos)
endif()
set(_arch ${CMAKE_SYSTEM_PROCESSOR})
if(_arch MATCHES "^(AMD64|amd64)$")
  set(_arch x86_64)
elseif(_arch STREQUAL "arm64")
  set(_arch aarch64)
endif()
set(CPACK_PACKAGE_FILE_NAME "gatehouse-${PROJECT_VERSION}-${_os}-${_arch}")

if(WIN32)
  set(CPACK_GENERATOR NSIS)
  set(CPACK_NSIS_PACKAGE_NAME Gatehouse)
  set(CPACK_NSIS_DISPLAY_NAME Gatehouse)
  set(CPACK_NSIS_MUI_ICON ${_gh_icons}/gatehouse.ico)
  set(CPACK_NSIS_MUI_UNIICON ${_gh_icons}/gatehouse.ico)
  set(CPACK_NSIS_INSTALLED_ICON_NAME "bin\\\\gatehouse.exe")
  set(CPACK_NSIS_ENABLE_UNINSTALL_BEFORE_INSTALL ON)
  set(CPACK_NSIS_EXECUTABLES_DIRECTORY ${CMAKE_INSTALL_BINDIR})
  set(CPACK_PRE_BUILD_SCRIPTS ${PROJECT_SOURCE_DIR}/packaging/windows/sign.cmake) # signs when configured
  # The uninstaller also removes launch at login (HKCU Run value written by the app) and stops a
  # running copy so its files can be deleted.
  set(CPACK_NSIS_EXTRA_UNINSTALL_COMMANDS "
    nsExec::Exec 'taskkill /IM gatehouse.exe /F'
    DeleteRegValue HKCU 'Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Run' 'Gatehouse'
    DeleteRegValue HKCU 'Software\\\\Microsoft\\\\Windows\\\\CurrentVersion\\\\Explorer\\\\StartupApproved\\\\Run' 'Gatehouse'")
elseif(APPLE)
  set(CPACK_GENERATOR DragNDrop)
  set(CPACK_DMG_VOLUME_NAME "Gatehouse ${PROJECT_VERSION}")
  set(CPACK_DMG_FORMAT UDZO)
  set(CPACK_PACKAGE_ICON ${_icns}) # the volume icon
else()
  set(CPACK_GENERATOR DEB TGZ)
  set(CPACK_DEBIAN_PACKAGE_NAME gatehouse)
  set(CPACK_DEBIAN_PACKAGE_RELEASE 1)
  set(CPACK_DEBIAN_PACKAGE_SECTION net)
  set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
  # Library dependencies come from the binary itself (dpkg-shlibdeps), with the version bounds of the
  # system that built the package: build on the oldest release you want to support.
  find_program(GATEHOUSE_DPKG_SHLIBDEPS dpkg-shlibdeps)
  set(_deb_depends)
  if(GATEHOUSE_DPKG_SHLIBDEPS)
    set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
  else()
    message(STATUS "dpkg-shlibdeps not found: the .deb gets a fixed Depends list")
    list(APPEND _deb_depends libqt6core6 libqt6network6 libqt6keychain1 libsqlite3-0 "libsimdjson14 | libsimdjson19")
    if(GATEHOUSE_BUILD_UI)
      list(APPEND _deb_depends libqt6gui6 libqt6widgets6 libqt6qml6 libqt6quick6 libqt6quickcontrols2-6 libqt6charts6)
    endif()
  endif()
  # libpq, which the team store loads with dlopen (app/store/pqlazy.cpp), so no ELF header names it.
  if(GATEHOUSE_LAZY_LIBPQ)
    list(APPEND _deb_depends libpq5)
  endif()
  # What the window loads at run time, which no ELF header names: the QML modules it imports (found in
  # ui/ and qml/), the platform plugins and the SVG image plugin.
  if(GATEHOUSE_BUILD_UI)
    list(APPEND _deb_depends qt6-qpa-plugins qml6-module-qtquick qml6-module-qtqml-workerscript
      qml6-module-qtquick-window qml6-module-qtquick-controls qml6-module-qtquick-templates
      qml6-module-qtquick-layouts qml6-module-qtcharts libqt6svg6)
    file(GLOB_RECURSE _qml_files ${PROJECT_SOURCE_DIR}/ui/*.qml ${PROJECT_SOURCE_DIR}/qml/*.qml)
    foreach(f IN LISTS _qml_files)
      file(STRINGS ${f} _imports REGEX "^[ \t]*import[ \t]+(Qt[A-Za-z0-9.]*)")
      foreach(line IN LISTS _imports)
        string(REGEX REPLACE "^[ \t]*import[ \t]+([A-Za-z0-9.]+).*" "\\1" module "${line}")
        if(module MATCHES "^QtQuick\\.Controls")
          set(module QtQuick.Controls) # every style ships in qml6-module-qtquick-controls
        elseif(module MATCHES "^QtQuick\\.(Effects|Particles|Shapes|Dialogs|Layouts|Window|Templates|LocalStorage|VirtualKeyboard)")
          string(REGEX REPLACE "^(QtQuick\\.[A-Za-z]+).*" "\\1" module "${module}")
        elseif(module MATCHES "^Qt5Compat\\.GraphicalEffects")
          set(module Qt5Compat.GraphicalEffects)
        endif()
        string(TOLOWER "${module}" pkg)
        string(REPLACE "." "-" pkg "${pkg}")
        list(APPEND _deb_depends "qml6-module-${pkg}")
      endforeach()
    endforeach()
    set(CPACK_DEBIAN_PACKAGE_RECOMMENDS "gnome-keyring | kwalletmanager, qt6-wayland")
  else()
    set(CPACK_DEBIAN_PACKAGE_SUGGESTS "gnome-keyring | kwalletmanager")
  endif()
  list(REMOVE_DUPLICATES _deb_depends)
  list(JOIN _deb_depends ", " CPACK_DEBIAN_PACKAGE_DEPENDS)
  # File name: gatehouse_VERSION-1_<distro>_<arch>.deb, so builds for several releases can sit side by side.
  find_program(GATEHOUSE_DPKG dpkg)
  if(GATEHOUSE_DPKG)
    execute_process(COMMAND ${GATEHOUSE_DPKG} --print-architecture OUTPUT_VARIABLE _deb_arch OUTPUT_STRIP_TRAILING_WHITESPACE)
  endif()
  if(NOT _deb_arch)
    set(_deb_arch ${_arch})
  endif()
  set(_distro "")
  if(EXISTS /etc/os-release)
    file(STRINGS /etc/os-release _osr REGEX "^(ID|VERSION_ID)=")
    foreach(line IN LISTS _osr)
      if(line MATCHES "^ID=\"?([^\"]*)\"?$")
        set(_os_id ${CMAKE_MATCH_1})
      elseif(line MATCHES "^VERSION_ID=\"?([^\"]*)\"?$")
        set(_os_ver ${CMAKE_MATCH_1})
      endif()
    endforeach()
    if(_os_id AND _os_ver)
      set(_distro "_${_os_id}${_os_ver}")
    endif()
  endif()
  set(CPACK_DEBIAN_FILE_NAME "gatehouse_${PROJECT_VERSION}-1${_distro}_${_deb_arch}.deb")
  set(CPACK_ARCHIVE_FILE_NAME "${CPACK_PACKAGE_FILE_NAME}")
endif()

include(CPack)
