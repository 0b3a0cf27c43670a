# attrib_add_plugin(<name> SOURCES <src>... [LIBRARIES <lib>...] [OUTPUT_DIRECTORY <dir>])
#
# Builds a loadable attrib plugin `attrib_<name>.so` (a MODULE library linked to attrib::sdk,
# hidden visibility, only `attrib_plugin_entry` exported). Installed with the SDK package, so a
# third party writes:
#   find_package(attrib CONFIG REQUIRED)
#   attrib_add_plugin(my_method SOURCES my_method.cpp)
# and points `attrib --plugin-dir` (or ATTRIB_PLUGIN_PATH) at the output folder.

# ATTRIB_WITH_CUDA enters the build fingerprint: 1 when the LibTorch found has CUDA.
function(attrib_torch_has_cuda out)
  if(TORCH_CUDA_LIBRARIES OR TARGET torch_cuda OR TARGET c10_cuda)
    set(${out} 1 PARENT_SCOPE)
  else()
    set(${out} 0 PARENT_SCOPE)
  endif()
endfunction()

function(attrib_add_plugin name)
  cmake_parse_arguments(ARG "" "OUTPUT_DIRECTORY" "SOURCES;LIBRARIES" ${ARGN})
  if(NOT ARG_SOURCES)
    message(FATAL_ERROR "attrib_add_plugin(${name}): SOURCES is required")
  endif()
  add_library(${name} MODULE ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE attrib::sdk ${ARG_LIBRARIES})
  attrib_torch_has_cuda(_cuda)
  target_compile_definitions(${name} PRIVATE ATTRIB_WITH_CUDA=${_cuda})
  set_target_properties(${name} PROPERTIES
    PREFIX "" OUTPUT_NAME "attrib_${name}"
    CXX_STANDARD 17 CXX_STANDARD_REQUIRED ON
    CXX_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  if(ARG_OUTPUT_DIRECTORY)
    set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY "${ARG_OUTPUT_DIRECTORY}")
  endif()
endfunction()

