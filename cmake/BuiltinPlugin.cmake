# attrib_builtin_plugin(<name> SOURCES ...): an in-tree plugin. Output goes to the built-in plugin
# folder (same relative layout as the install tree), it reuses the PCH, and it is installed.
function(attrib_builtin_plugin name)
  attrib_add_plugin(${name} OUTPUT_DIRECTORY "${PROJECT_BINARY_DIR}/${ATTRIB_PLUGIN_SUBDIR}" ${ARGN})
  attrib_use_pch(${name} lib)
  set_target_properties(${name} PROPERTIES INSTALL_RPATH "$ORIGIN/../..")
  install(TARGETS ${name} LIBRARY DESTINATION "${ATTRIB_PLUGIN_SUBDIR}")
  set_property(GLOBAL APPEND PROPERTY ATTRIB_BUILTIN_PLUGINS ${name})
endfunction()
